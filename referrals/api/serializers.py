"""Serializers of the referral API: one per use, input and output kept apart (HackSoft style).

Input serializers check shape and look up what an AGB code names; the rules of a referral (who may
refer for which practice, consent, idempotency, state changes) stay in ``referrals.services``.
"""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from carechain.api.serializers import AgbCodeField, StrictCharField
from carechain.models import KetenzorgEnrolment, Patient, Practice, Provider, User
from carechain.validators import normalise_bsn, validate_bsn

from ..models import (
    BSER_STATUS,
    ContactAttempt,
    DeclineReason,
    Motivation,
    Referral,
    ReferralDocument,
    ReferralEvent,
    ReferralState,
)

# -- choices named once ---------------------------------------------------------------------------
# These two fields carry choices that another field also carries under another name (``reason`` on
# decline and ``decline_reason`` on the referral; the patient API's ``programme``). They name their
# enum component themselves, so drf-spectacular does not warn about one choice set under two
# names. With an ENUM_NAME_OVERRIDES entry in SPECTACULAR_SETTINGS they could be plain
# ChoiceFields again (the override and these component names must then not both be used).


class _ChoiceOrNull(serializers.ChoiceField):
    """A choice field whose unset value is shown as null, not as an empty string."""

    def to_representation(self, value):
        return super().to_representation(value) or None


@extend_schema_field(
    serializers.ChoiceField(choices=KetenzorgEnrolment.Programme.choices),
    component_name="KetenzorgProgrammeEnum",
)
class KetenzorgProgrammeField(_ChoiceOrNull):
    def __init__(self, **kwargs):
        super().__init__(KetenzorgEnrolment.Programme.choices, **kwargs)


@extend_schema_field(
    serializers.ChoiceField(choices=DeclineReason.choices), component_name="DeclineReasonEnum"
)
class DeclineReasonField(_ChoiceOrNull):
    def __init__(self, **kwargs):
        super().__init__(DeclineReason.choices, **kwargs)


@extend_schema_field({"type": "boolean", "enum": [True]})
class ConsentField(serializers.BooleanField):
    """A consent that must be given: the schema says so, false is a 400 with a clear message.

    Only JSON ``true`` is consent: DRF's ``BooleanField`` would also take 1, "yes" or "on".
    """

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return super().to_internal_value(data)


# -- input ----------------------------------------------------------------------------------------


class ReferralPatientInput(serializers.Serializer):
    """The referred patient. A known BSN is that patient: its practice and contact details update."""

    bsn = StrictCharField(max_length=20, help_text=_("Burgerservicenummer (11-proef)."))
    initials = StrictCharField(max_length=20, required=False, allow_blank=True)
    first_name = StrictCharField(max_length=100, required=False, allow_blank=True)
    name_prefix = StrictCharField(max_length=20, required=False, allow_blank=True)
    last_name = StrictCharField(max_length=100)
    birth_date = serializers.DateField()
    gender = serializers.ChoiceField(choices=Patient.Gender.choices, required=False)
    phone = StrictCharField(max_length=20, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    address = StrictCharField(max_length=200, required=False, allow_blank=True)
    postal_code = StrictCharField(max_length=7, required=False, allow_blank=True)
    city = StrictCharField(max_length=100, required=False, allow_blank=True)

    def validate_bsn(self, value):
        value = normalise_bsn(value)
        validate_bsn(value)
        return value

    def validate_birth_date(self, value):
        if value > timezone.localdate():
            raise serializers.ValidationError(_("The date of birth lies in the future."))
        return value

    def validate(self, attrs):
        if not attrs.get("phone") and not attrs.get("email"):
            raise serializers.ValidationError(
                {
                    "phone": _(
                        "Give a phone number or e-mail address so the coach can reach the patient."
                    )
                }
            )
        return attrs


class ReferralCreateInput(serializers.Serializer):
    """A new referral: the same rules as the browser's referral form."""

    practice_agb = AgbCodeField(help_text=_("AGB code of the referring GP practice."))
    provider_agb = AgbCodeField(
        required=False,
        help_text=_("AGB code of the SMR provider; default: the zorggroep's contracted provider."),
    )
    external_id = StrictCharField(
        max_length=100,
        required=False,
        allow_blank=True,
        help_text=_(
            "Your system's identifier of this referral. Sending it again answers with the "
            "referral already made (200) instead of making a second one."
        ),
    )
    referrer_name = StrictCharField(max_length=200, required=False, allow_blank=True)
    referrer_agb = AgbCodeField(required=False)
    patient = ReferralPatientInput()
    reason = StrictCharField(max_length=4000)
    cigarettes_per_day = serializers.IntegerField(min_value=0, max_value=200)
    years_smoked = serializers.IntegerField(
        min_value=0, max_value=100, required=False, allow_null=True
    )
    earlier_quit_attempts = serializers.IntegerField(
        min_value=0, max_value=100, required=False, allow_null=True
    )
    motivation = serializers.ChoiceField(choices=Motivation.choices)
    ketenzorg_programme = KetenzorgProgrammeField(
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text=_(
            "The chain-care programme the patient is in, which makes this a ketenzorg referral; "
            "omit or null for a regular patient."
        ),
    )
    best_time_to_call = serializers.ChoiceField(choices=Patient.CallTime.choices, required=False)
    call_note = StrictCharField(max_length=200, required=False, allow_blank=True)
    consent_data_exchange = ConsentField(
        help_text=_("The patient agrees that provider and practice exchange data; must be true.")
    )

    def validate_consent_data_exchange(self, value):
        if not value:
            raise serializers.ValidationError(
                _("The patient's consent for data exchange is required.")
            )
        return value

    def validate(self, attrs):
        errors = {}
        practice = (
            Practice.objects.select_related("zorggroep__smr_provider")
            .filter(agb=attrs.pop("practice_agb"), is_active=True)
            .first()
        )
        if practice is None:
            errors["practice_agb"] = _("No GP practice with this AGB code.")
        provider = None
        if "provider_agb" in attrs:
            provider = Provider.objects.filter(
                agb=attrs.pop("provider_agb"), is_active=True
            ).first()
            if provider is None:
                errors["provider_agb"] = _("No SMR provider with this AGB code.")
        if errors:
            raise serializers.ValidationError(errors)
        attrs["practice"] = practice
        attrs["provider"] = provider
        return attrs


class ReferralNoteInput(serializers.Serializer):
    note = StrictCharField(max_length=500, required=False, allow_blank=True)


class ReferralDeclineInput(serializers.Serializer):
    reason = DeclineReasonField()
    note = StrictCharField(max_length=500, required=False, allow_blank=True)


class ReferralAssignInput(serializers.Serializer):
    """The coach named by the opaque id ``GET /api/coaches/`` lists.

    A planner's system knows its coaches by name and by their KRS registration (or personal AGB
    code); neither is unique or always present on the platform (a KRS number is renewed every five
    years, a coach may have no personal AGB), so the system looks its coaches up once in the coach
    list, which shows those codes beside each coach's random, non-sequential ``id``, and assigns by
    that ``id``. The platform's database id of a person is never asked for nor shown: the old
    integer ``coach_id`` is refused with a 400 saying what to send instead.
    """

    coach = serializers.UUIDField(
        help_text=_(
            "The coach's id as GET /api/coaches/ shows it (an active coach of the provider)."
        )
    )

    def to_internal_value(self, data):
        if isinstance(data, dict) and "coach_id" in data:
            raise serializers.ValidationError(
                {
                    "coach_id": [
                        _(
                            "coach_id (a database number) is no longer accepted: send coach, "
                            "the coach's id from GET /api/coaches/."
                        )
                    ]
                }
            )
        return super().to_internal_value(data)

    def validate_coach(self, value):
        """The person's database id for the service, or None: the service then refuses the coach
        as not one of the provider's, the same answer as for a person of another provider."""
        return User.objects.filter(public_id=value).values_list("pk", flat=True).first()


class ContactAttemptInput(serializers.Serializer):
    method = serializers.ChoiceField(
        choices=ContactAttempt.Method.choices, default=ContactAttempt.Method.PHONE
    )
    result = serializers.ChoiceField(choices=ContactAttempt.Result.choices)
    note = StrictCharField(max_length=500, required=False, allow_blank=True)
    at = serializers.DateTimeField(
        required=False, help_text=_("When the attempt was made; default: now. Not in the future.")
    )


class ReferralCancellationInput(serializers.Serializer):
    reason = StrictCharField(max_length=500)


# -- output ---------------------------------------------------------------------------------------


class ReferralOrganisationOutput(serializers.Serializer):
    """An organisation named by its AGB code (the REST API shows no database ids)."""

    agb = serializers.CharField()
    name = serializers.CharField()


class ReferralCoachOutput(serializers.Serializer):
    """The assigned coach: the id is the one ``GET /api/coaches/`` lists and assign takes."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    name = serializers.SerializerMethodField()

    def get_name(self, user) -> str:
        return str(user)


class ReferralPatientSummaryOutput(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    full_name = serializers.CharField()

    class Meta:
        model = Patient
        fields = ["id", "bsn", "full_name", "birth_date"]


class ReferralPatientOutput(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    full_name = serializers.CharField()

    class Meta:
        model = Patient
        fields = [
            "id",
            "bsn",
            "initials",
            "first_name",
            "name_prefix",
            "last_name",
            "full_name",
            "birth_date",
            "gender",
            "phone",
            "email",
            "address",
            "postal_code",
            "city",
        ]


class ReferralEventOutput(serializers.ModelSerializer):
    class Meta:
        model = ReferralEvent
        fields = ["at", "by_label", "action", "from_state", "to_state", "note"]


class ContactAttemptOutput(serializers.ModelSerializer):
    reached = serializers.BooleanField()
    by = serializers.SerializerMethodField()

    class Meta:
        model = ContactAttempt
        fields = ["at", "method", "result", "reached", "note", "by"]

    def get_by(self, attempt) -> str | None:
        return str(attempt.by) if attempt.by_id else None


class ReferralDocumentOutput(serializers.ModelSerializer):
    """A document's metadata; its content stays in the browser and FHIR channels."""

    class Meta:
        model = ReferralDocument
        fields = ["kind", "title", "received_at"]


class ReferralListOutput(serializers.ModelSerializer):
    """A row of the referral list: enough to work from, without history or documents."""

    state = serializers.ChoiceField(choices=ReferralState.choices)
    bser_status_code = serializers.SerializerMethodField()
    bser_status_display = serializers.SerializerMethodField()
    first_contact_overdue = serializers.SerializerMethodField()
    pack_years = serializers.DecimalField(
        max_digits=6, decimal_places=1, coerce_to_string=False, allow_null=True
    )
    id = serializers.UUIDField(source="public_id", read_only=True)
    patient = ReferralPatientSummaryOutput()
    practice = ReferralOrganisationOutput()
    provider = ReferralOrganisationOutput()
    coach = ReferralCoachOutput(allow_null=True)
    modified = serializers.DateTimeField(
        source="updated_at", help_text="Last change of status or feedback (for modified_after)."
    )

    class Meta:
        model = Referral
        fields = [
            "id",
            "modified",
            "state",
            "bser_status_code",
            "bser_status_display",
            "channel",
            "external_id",
            "received_at",
            "first_contact_due",
            "first_contact_overdue",
            "patient",
            "practice",
            "provider",
            "coach",
            "motivation",
            "pack_years",
            "is_ketenzorg",
        ]

    def get_bser_status_code(self, referral) -> str:
        """HL7 BSeR Task.businessStatus code, e.g. 3.0 for accepted."""
        return BSER_STATUS[ReferralState(referral.state)][0]

    def get_bser_status_display(self, referral) -> str:
        return BSER_STATUS[ReferralState(referral.state)][1]

    def get_first_contact_overdue(self, referral) -> bool:
        """Still open without a first contact after the due date (2 working days)."""
        return referral.first_contact_overdue()


class ReferralDetailOutput(ReferralListOutput):
    """A referral with its patient, smoking profile, history, contact attempts and documents."""

    patient = ReferralPatientOutput()
    ketenzorg_programme = KetenzorgProgrammeField(allow_null=True)
    decline_reason = DeclineReasonField(allow_null=True)
    history = ReferralEventOutput(many=True, source="events")
    contact_attempts = ContactAttemptOutput(many=True)
    documents = ReferralDocumentOutput(many=True)

    class Meta(ReferralListOutput.Meta):
        fields = [
            *ReferralListOutput.Meta.fields,
            "referrer_name",
            "referrer_agb",
            "reason",
            "cigarettes_per_day",
            "years_smoked",
            "earlier_quit_attempts",
            "ketenzorg_programme",
            "best_time_to_call",
            "call_note",
            "consent_data_exchange",
            "state_changed_at",
            "decline_reason",
            "cancel_reason",
            "status_note",
            "first_contact_at",
            "updated_at",
            "history",
            "contact_attempts",
            "documents",
        ]
