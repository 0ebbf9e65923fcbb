from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from carechain.models import (
    Insurance,
    Insurer,
    KetenzorgEnrolment,
    Membership,
    Patient,
    Practice,
)
from carechain.validators import normalise_bsn, validate_agb, validate_bsn, validate_uzovi


class ErrorOutput(serializers.Serializer):
    """The body of an error answer (401, 403, 404, 409, 413, 415, 429)."""

    detail = serializers.CharField()


# A UUID in a URL (any case); anything else never reaches a view, it is the API's 404.
UUID_PATTERN = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


class StrictCharField(serializers.CharField):
    """A text field that takes only a JSON string.

    DRF's ``CharField`` turns a number into its text (``{"reason": 0}`` would store "0"); the
    schema says "string", so a number, list or object is the client's mistake and a 400.
    """

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


# -- identifier fields: the schema states their shape, so a client (and a fuzzer) can know it -------


@extend_schema_field({"type": "string", "pattern": "^[0-9]{8}$", "example": "01051234"})
class AgbCodeField(StrictCharField):
    """An AGB code (8 digits); which organisation or person it names is checked where it is used."""

    def __init__(self, **kwargs):
        kwargs["validators"] = [*kwargs.get("validators", []), validate_agb]
        super().__init__(**kwargs)


@extend_schema_field({"type": "string", "pattern": "^[0-9]{4}$", "example": "9101"})
class UzoviCodeField(StrictCharField):
    """A UZOVI code (4 digits) of an insurer."""

    def __init__(self, **kwargs):
        kwargs["validators"] = [*kwargs.get("validators", []), validate_uzovi]
        super().__init__(**kwargs)


class InsuranceOutput(serializers.ModelSerializer):
    uzovi = serializers.CharField(source="insurer.uzovi")
    insurer_name = serializers.CharField(source="insurer.name")

    class Meta:
        model = Insurance
        fields = ["uzovi", "insurer_name", "policy_number", "valid_from", "valid_to"]


class EnrolmentOutput(serializers.ModelSerializer):
    zorggroep = serializers.CharField(source="zorggroep.name")

    class Meta:
        model = KetenzorgEnrolment
        fields = ["programme", "zorggroep", "start", "end"]


class PatientOutput(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    practice_agb = serializers.CharField(source="practice.agb")
    insurances = InsuranceOutput(many=True)
    ketenzorg_enrolments = EnrolmentOutput(many=True)

    class Meta:
        model = Patient
        fields = [
            "id",
            "bsn",
            "initials",
            "first_name",
            "name_prefix",
            "last_name",
            "birth_date",
            "gender",
            "phone",
            "email",
            "address",
            "postal_code",
            "city",
            "best_time_to_call",
            "call_note",
            "practice_agb",
            "insurances",
            "ketenzorg_enrolments",
            "created_at",
            "updated_at",
        ]


class InsuranceInput(serializers.Serializer):
    uzovi = UzoviCodeField()
    policy_number = StrictCharField(max_length=30)
    valid_from = serializers.DateField()
    valid_to = serializers.DateField(required=False, allow_null=True)

    def validate(self, attrs):
        try:
            attrs["insurer"] = Insurer.objects.get(uzovi=attrs.pop("uzovi"))
        except Insurer.DoesNotExist:
            raise serializers.ValidationError(
                {"uzovi": _("No insurer with this UZOVI code.")}
            ) from None
        return attrs


class EnrolmentInput(serializers.Serializer):
    programme = serializers.ChoiceField(choices=KetenzorgEnrolment.Programme.choices)
    start = serializers.DateField()
    end = serializers.DateField(required=False, allow_null=True)


class PatientInput(serializers.Serializer):
    """A new patient; ketenzorg enrolments are with the zorggroep of the patient's practice."""

    bsn = StrictCharField(max_length=20)
    practice_agb = AgbCodeField()
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
    best_time_to_call = serializers.ChoiceField(choices=Patient.CallTime.choices, required=False)
    call_note = StrictCharField(max_length=200, required=False, allow_blank=True)
    insurances = InsuranceInput(many=True, required=False)
    ketenzorg_enrolments = EnrolmentInput(many=True, required=False)

    def validate_bsn(self, value):
        value = normalise_bsn(value)
        validate_bsn(value)
        return value

    def validate(self, attrs):
        try:
            practice = Practice.objects.select_related("zorggroep").get(
                agb=attrs.pop("practice_agb")
            )
        except Practice.DoesNotExist:
            raise serializers.ValidationError(
                {"practice_agb": _("No practice with this AGB code.")}
            ) from None
        attrs["practice"] = practice
        return attrs


class CoachOutput(serializers.ModelSerializer):
    """A coach of the provider as the planner's system needs it to assign referrals.

    ``id`` is the person's opaque platform identifier (random, not a database number): what
    ``POST /api/referrals/{id}/assign/`` takes as ``coach``. KRS registration and personal AGB
    code are shown beside it so that a system can match its own staff records to it once.
    """

    id = serializers.UUIDField(source="user.public_id", read_only=True)
    name = serializers.SerializerMethodField()
    provider_agb = serializers.CharField(source="organisation.as_provider.agb")
    agb = serializers.CharField(help_text=_("Personal AGB code; empty when not registered."))

    class Meta:
        model = Membership
        fields = ["id", "name", "provider_agb", "krs_number", "krs_valid_until", "agb"]

    def get_name(self, membership) -> str:
        return str(membership.user)
