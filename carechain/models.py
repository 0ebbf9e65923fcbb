"""Organisations, people and their roles, and patients: the shared core every other room builds on.

Glossary (see also README): a *zorggroep* is a regional care group of GP practices that contracts
chain care (*ketenzorg*: DM2, COPD, astma, CVRM) with insurers; a *POH-S* / *POH-GGZ* is a practice
nurse for somatic / mental-health care; the *SMR provider* (erkende SMR-behandelaar) employs the stop
coaches, who are registered in the *KRS* (Kwaliteitsregister Stoppen met Roken).
"""

from __future__ import annotations

import datetime
import uuid
from typing import ClassVar

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import AbstractAPIKey

from .validators import validate_agb, validate_bsn, validate_uzovi


class Organisation(models.Model):
    """Common part of every organisation in the chain; the kinds are multi-table subclasses.

    One base table lets memberships, API keys and the audit log point at any organisation, while a
    patient's practice or an insurance's insurer stay typed foreign keys.
    """

    class Kind(models.TextChoices):
        ZORGGROEP = "zorggroep", _("Zorggroep")
        PRACTICE = "practice", _("GP practice")
        PROVIDER = "provider", _("SMR provider")
        INSURER = "insurer", _("Insurer")

    KIND: ClassVar[str | None] = None

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, editable=False)
    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=7, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if self.KIND:
            self.kind = self.KIND
        super().save(*args, **kwargs)


class Zorggroep(Organisation):
    KIND = Organisation.Kind.ZORGGROEP
    organisation_ptr = models.OneToOneField(
        Organisation,
        on_delete=models.CASCADE,
        parent_link=True,
        primary_key=True,
        related_name="as_zorggroep",
    )

    agb = models.CharField(
        _("AGB code"),
        max_length=8,
        blank=True,
        validators=[validate_agb],
        help_text=_("8 digits, from the Vektis AGB register."),
    )
    smr_provider = models.ForeignKey(
        "Provider",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="zorggroepen",
        verbose_name=_("contracted SMR provider"),
        help_text=_("The stop-smoking provider the practices of this zorggroep refer to."),
    )

    class Meta:
        verbose_name = _("zorggroep")
        verbose_name_plural = _("zorggroepen")


class Practice(Organisation):
    """A GP practice (huisartsenpraktijk). It refers through ZorgDomein or through its zorggroep's KIS."""

    KIND = Organisation.Kind.PRACTICE
    organisation_ptr = models.OneToOneField(
        Organisation,
        on_delete=models.CASCADE,
        parent_link=True,
        primary_key=True,
        related_name="as_practice",
    )

    class Channel(models.TextChoices):
        ZORGDOMEIN = "zorgdomein", "ZorgDomein"
        KIS = "kis", "KIS"

    agb = models.CharField(
        _("AGB code"),
        max_length=8,
        unique=True,
        validators=[validate_agb],
        help_text=_("8 digits, from the Vektis AGB register."),
    )
    zorggroep = models.ForeignKey(
        Zorggroep, on_delete=models.PROTECT, related_name="practices", verbose_name=_("zorggroep")
    )
    secure_email = models.EmailField(
        _("secure e-mail address"),
        help_text=_("Address for feedback letters (e.g. ZorgMail or another secure mail service)."),
    )
    channel = models.CharField(
        _("referral channel"), max_length=16, choices=Channel.choices, default=Channel.ZORGDOMEIN
    )

    class Meta:
        verbose_name = _("GP practice")
        verbose_name_plural = _("GP practices")


class Provider(Organisation):
    """An accredited stop-smoking provider (erkende SMR-behandelaar) employing the SMR coaches."""

    KIND = Organisation.Kind.PROVIDER
    organisation_ptr = models.OneToOneField(
        Organisation,
        on_delete=models.CASCADE,
        parent_link=True,
        primary_key=True,
        related_name="as_provider",
    )

    agb = models.CharField(
        _("AGB code"),
        max_length=8,
        unique=True,
        validators=[validate_agb],
        help_text=_("8 digits, from the Vektis AGB register."),
    )
    email = models.EmailField(_("e-mail address"), blank=True)

    class Meta:
        verbose_name = _("SMR provider")
        verbose_name_plural = _("SMR providers")


class Insurer(Organisation):
    """A health insurer (zorgverzekeraar), identified by its UZOVI code."""

    KIND = Organisation.Kind.INSURER
    organisation_ptr = models.OneToOneField(
        Organisation,
        on_delete=models.CASCADE,
        parent_link=True,
        primary_key=True,
        related_name="as_insurer",
    )

    uzovi = models.CharField(
        _("UZOVI code"),
        max_length=4,
        unique=True,
        validators=[validate_uzovi],
        help_text=_("4 digits, from the UZOVI register."),
    )

    class Meta:
        verbose_name = _("insurer")
        verbose_name_plural = _("insurers")


class Location(models.Model):
    """A room in a GP practice that the practice lends to the provider's coaches."""

    name = models.CharField(_("name"), max_length=100, help_text=_("e.g. 'Spreekkamer 2'"))
    practice = models.ForeignKey(
        Practice, on_delete=models.PROTECT, related_name="locations", verbose_name=_("practice")
    )
    provider = models.ForeignKey(
        Provider, on_delete=models.PROTECT, related_name="locations", verbose_name=_("provider")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["practice__name", "name"]
        verbose_name = _("location")
        verbose_name_plural = _("locations")
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "name"], name="location_unique_per_practice"
            )
        ]

    def __str__(self) -> str:
        return self.display_name(self.practice.name, self.name)

    @staticmethod
    def display_name(practice_name: str, name: str) -> str:
        """``str(location)`` from the columns, for list pages that read values."""
        return f"{practice_name}, {name}"


class User(AbstractUser):
    """A person who logs in. What they may do comes from their memberships, not from this row."""

    public_id = models.UUIDField(
        _("public identifier"),
        default=uuid.uuid4,
        unique=True,
        editable=False,
        help_text=_(
            "The person's identifier outside this platform (the REST API names a coach by it)."
        ),
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name(self.first_name, self.last_name, self.username)

    @staticmethod
    def display_name(first_name: str, last_name: str, username: str) -> str:
        """``str(user)`` from the columns, for list pages that read values instead of users."""
        return f"{first_name} {last_name}".strip() or username


class Role(models.TextChoices):
    GP = "gp", _("GP")
    POH_S = "poh_s", _("POH-S")
    POH_GGZ = "poh_ggz", _("POH-GGZ")
    COACH = "coach", _("SMR coach")
    PLANNER = "planner", _("Provider planner")
    PRIVACY_OFFICER = "privacy_officer", _("Privacy officer")
    ZORGGROEP_ADMIN = "zorggroep_admin", _("Zorggroep admin")
    INSURER = "insurer", _("Insurer (API client)")


PRACTICE_ROLES = frozenset({Role.GP, Role.POH_S, Role.POH_GGZ})
PROVIDER_ROLES = frozenset({Role.COACH, Role.PLANNER, Role.PRIVACY_OFFICER})
ROLE_ORGANISATION_KIND = {
    **{role: Organisation.Kind.PRACTICE for role in PRACTICE_ROLES},
    **{role: Organisation.Kind.PROVIDER for role in PROVIDER_ROLES},
    Role.ZORGGROEP_ADMIN: Organisation.Kind.ZORGGROEP,
    Role.INSURER: Organisation.Kind.INSURER,
}


class Membership(models.Model):
    """A user holding one role in one organisation. One user may hold several."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="memberships",
        verbose_name=_("organisation"),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    krs_number = models.CharField(
        _("KRS registration number"),
        max_length=20,
        blank=True,
        help_text=_("Kwaliteitsregister Stoppen met Roken; required for SMR coaches."),
    )
    krs_valid_until = models.DateField(_("KRS registration valid until"), null=True, blank=True)
    agb = models.CharField(
        _("personal AGB code"),
        max_length=8,
        blank=True,
        validators=[validate_agb],
        help_text=_("The care professional's own AGB code (performer on claims)."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation", "role"], name="membership_unique_role"
            ),
            models.CheckConstraint(
                condition=~Q(role=Role.COACH)
                | (~Q(krs_number="") & Q(krs_valid_until__isnull=False)),
                name="membership_coach_has_krs",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.organisation}"

    def clean(self) -> None:
        expected = ROLE_ORGANISATION_KIND.get(self.role)
        if self.organisation_id and expected and self.organisation.kind != expected:
            raise ValidationError(
                {
                    "organisation": _(
                        "The role %(role)s belongs to an organisation of kind %(kind)s."
                    )
                    % {"role": self.get_role_display(), "kind": Organisation.Kind(expected).label}
                }
            )
        if self.role == Role.COACH and not (self.krs_number and self.krs_valid_until):
            raise ValidationError(
                {"krs_number": _("An SMR coach needs a KRS registration number and expiry date.")}
            )


class StateEvent(models.Model):
    """One entry of an object's history: who moved it from which state to which, when and why.

    Referrals and trajectories both keep such a timeline; subclasses add the foreign key to their
    object and name their state choices in ``STATES``.
    """

    STATES: ClassVar[type[models.TextChoices]]

    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        "carechain.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    by_label = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=40)
    from_state = models.CharField(max_length=30, blank=True)
    to_state = models.CharField(max_length=30, blank=True)
    note = models.CharField(max_length=1000, blank=True)

    class Meta:
        abstract = True
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"

    @property
    def to_state_label(self) -> str:
        states = self.STATES
        return states(self.to_state).label if self.to_state in states.values else self.to_state


class Patient(models.Model):
    class Gender(models.TextChoices):
        FEMALE = "female", _("female")
        MALE = "male", _("male")
        OTHER = "other", _("other")
        UNKNOWN = "unknown", _("unknown")

    class CallTime(models.TextChoices):
        ANY = "any", _("any time")
        MORNING = "morning", _("morning")
        AFTERNOON = "afternoon", _("afternoon")
        EVENING = "evening", _("early evening")

    public_id = models.UUIDField(
        _("public identifier"),
        default=uuid.uuid4,
        unique=True,
        editable=False,
        help_text=_("The patient's identifier outside this platform (the REST API's id)."),
    )
    bsn = models.CharField(
        _("BSN"),
        max_length=9,
        unique=True,
        validators=[validate_bsn],
        help_text=_("Burgerservicenummer: 9 digits passing the 11-proef."),
    )
    initials = models.CharField(_("initials"), max_length=20, blank=True)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    name_prefix = models.CharField(
        _("prefix"), max_length=20, blank=True, help_text=_("e.g. 'van der'")
    )
    last_name = models.CharField(_("last name"), max_length=100)
    birth_date = models.DateField(_("date of birth"))
    gender = models.CharField(
        _("gender"), max_length=8, choices=Gender.choices, default=Gender.UNKNOWN
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    email = models.EmailField(_("e-mail address"), blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=7, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    best_time_to_call = models.CharField(
        _("best time to call"), max_length=10, choices=CallTime.choices, default=CallTime.ANY
    )
    call_note = models.CharField(
        _("note on calling"),
        max_length=200,
        blank=True,
        help_text=_("e.g. 'not on Wednesdays', 'call the mobile number'"),
    )
    practice = models.ForeignKey(
        Practice, on_delete=models.PROTECT, related_name="patients", verbose_name=_("GP practice")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        ordering = ["last_name", "first_name"]
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        indexes = [
            models.Index(fields=["practice", "last_name"]),
            # The REST patient list's keyset (newest first): docs/explain/rest_pages.md.
            models.Index(fields=["created_at", "public_id"], name="patient_created_idx"),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return self.compose_full_name(
            self.first_name, self.initials, self.name_prefix, self.last_name
        )

    @staticmethod
    def compose_full_name(first_name: str, initials: str, name_prefix: str, last_name: str) -> str:
        """``full_name`` from the columns, for list pages that read values instead of patients."""
        given = first_name or initials
        return " ".join(part for part in (given, name_prefix, last_name) if part)

    def clean(self) -> None:
        if self.birth_date and self.birth_date > timezone.localdate():
            raise ValidationError({"birth_date": _("The date of birth lies in the future.")})

    def insurance_on(self, day: datetime.date) -> Insurance | None:
        return (
            self.insurances.filter(
                Q(valid_to__isnull=True) | Q(valid_to__gte=day), valid_from__lte=day
            )
            .select_related("insurer")
            .first()
        )

    def ketenzorg_on(self, day: datetime.date, zorggroep_id: int | None = None):
        enrolments = self.ketenzorg_enrolments.filter(
            Q(end__isnull=True) | Q(end__gte=day), start__lte=day
        )
        if zorggroep_id is not None:
            enrolments = enrolments.filter(zorggroep_id=zorggroep_id)
        return enrolments


def first_overlap(periods) -> tuple[int, int] | None:
    """Indexes of the first two overlapping (start, end) periods in a list; an empty end runs on."""
    for i, (start_a, end_a) in enumerate(periods):
        for j in range(i + 1, len(periods)):
            start_b, end_b = periods[j]
            if (end_b is None or start_a <= end_b) and (end_a is None or start_b <= end_a):
                return i, j
    return None


Period = tuple[datetime.date, datetime.date | None]


def subtract_periods(period: Period, others: list[Period]) -> list[Period]:
    """What remains of a closed date period (an empty end runs on) after taking out the others."""
    remaining = [period]
    for other_start, other_end in others:
        pieces = []
        for start, end in remaining:
            if (other_end is not None and other_end < start) or (
                end is not None and end < other_start
            ):
                pieces.append((start, end))
                continue
            if start < other_start:
                pieces.append((start, other_start - datetime.timedelta(days=1)))
            if other_end is not None and (end is None or other_end < end):
                pieces.append((other_end + datetime.timedelta(days=1), end))
        remaining = pieces
    return remaining


class PeriodQuerySet(models.QuerySet):
    """Rows whose date period (closed; an empty end runs on forever) overlaps start..end."""

    def overlapping(self, start: datetime.date, end: datetime.date | None):
        qs = self.filter(
            Q(**{f"{self.model.END}__isnull": True}) | Q(**{f"{self.model.END}__gte": start})
        )
        if end is not None:
            qs = qs.filter(**{f"{self.model.START}__lte": end})
        return qs


class Insurance(models.Model):
    """A patient's basic health insurance with one insurer for a period. Periods never overlap."""

    START, END = "valid_from", "valid_to"

    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="insurances", verbose_name=_("patient")
    )
    insurer = models.ForeignKey(
        Insurer, on_delete=models.PROTECT, related_name="insurances", verbose_name=_("insurer")
    )
    policy_number = models.CharField(_("policy number"), max_length=30)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    objects = PeriodQuerySet.as_manager()

    class Meta:
        ordering = ["-valid_from"]
        verbose_name = _("insurance")
        verbose_name_plural = _("insurances")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="insurance_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.insurer} {self.policy_number} ({self.valid_from} – {self.valid_to or '…'})"

    def clean(self) -> None:
        if self.valid_to and self.valid_from and self.valid_to < self.valid_from:
            raise ValidationError({"valid_to": _("The end date lies before the start date.")})
        if self.patient_id and self.valid_from:
            clash = Insurance.objects.filter(patient_id=self.patient_id).exclude(pk=self.pk)
            clash = clash.overlapping(self.valid_from, self.valid_to).first()
            if clash:
                raise ValidationError(
                    _("This insurance period overlaps the existing insurance %(other)s.")
                    % {"other": clash},
                    code="overlap",
                )


class KetenzorgEnrolment(models.Model):
    """A patient enrolled in a chain-care programme of a zorggroep (basis for billing routing)."""

    START, END = "start", "end"

    class Programme(models.TextChoices):
        DM2 = "dm2", _("Diabetes mellitus type 2")
        COPD = "copd", "COPD"
        ASTMA = "astma", _("Asthma")
        CVRM = "cvrm", _("Cardiovascular risk management (CVRM)")

    patient = models.ForeignKey(
        Patient,
        on_delete=models.CASCADE,
        related_name="ketenzorg_enrolments",
        verbose_name=_("patient"),
    )
    programme = models.CharField(_("programme"), max_length=8, choices=Programme.choices)
    zorggroep = models.ForeignKey(
        Zorggroep, on_delete=models.PROTECT, related_name="enrolments", verbose_name=_("zorggroep")
    )
    start = models.DateField(_("from"))
    end = models.DateField(_("to"), null=True, blank=True)

    objects = PeriodQuerySet.as_manager()

    class Meta:
        ordering = ["-start"]
        verbose_name = _("ketenzorg enrolment")
        verbose_name_plural = _("ketenzorg enrolments")
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=models.F("start")),
                name="enrolment_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_programme_display()} ({self.start} – {self.end or '…'})"

    def clean(self) -> None:
        if self.end and self.start and self.end < self.start:
            raise ValidationError({"end": _("The end date lies before the start date.")})
        if self.patient_id and self.start and self.programme:
            clash = KetenzorgEnrolment.objects.filter(
                patient_id=self.patient_id, programme=self.programme
            ).exclude(pk=self.pk)
            if clash.overlapping(self.start, self.end).exists():
                raise ValidationError(
                    _("The patient is already enrolled in this programme in that period."),
                    code="overlap",
                )


class OrganisationAPIKey(AbstractAPIKey):
    """An API key of an organisation for one purpose; only its hash is stored (shown once on creation)."""

    class Purpose(models.TextChoices):
        REFERRAL_INTAKE = "referral_intake", _("Referral intake (ZorgDomein, KIS, REST)")
        CLAIMS = "claims", _("Insurer claims")
        FEEDBACK = "feedback", _("Feedback to the referrer (read only: KIS, HIS)")

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="api_keys",
        verbose_name=_("organisation"),
    )
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    # The library's fields again, with labels in the catalogue (its own have no Dutch).
    prefix = models.CharField(_("key prefix"), max_length=8, unique=True, editable=False)
    created = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    name = models.CharField(
        _("name"),
        max_length=50,
        help_text=_("Where the key is used, e.g. 'HIS Praktijk de Linde'."),
    )
    revoked = models.BooleanField(
        _("revoked"),
        blank=True,
        default=False,
        help_text=_("A revoked key is refused from then on. This cannot be undone."),
    )
    expiry_date = models.DateTimeField(
        _("expires"),
        blank=True,
        null=True,
        help_text=_("From this moment the key is refused. Empty: the key does not expire."),
    )

    PURPOSE_ORGANISATION_KINDS: ClassVar = {
        Purpose.REFERRAL_INTAKE: {Organisation.Kind.PRACTICE, Organisation.Kind.ZORGGROEP},
        Purpose.CLAIMS: {Organisation.Kind.INSURER},
        Purpose.FEEDBACK: {Organisation.Kind.PRACTICE, Organisation.Kind.ZORGGROEP},
    }

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def clean(self) -> None:
        allowed = self.PURPOSE_ORGANISATION_KINDS.get(self.purpose, set())
        if self.organisation_id and self.organisation.kind not in allowed:
            raise ValidationError(
                {"purpose": _("A key for this purpose cannot belong to this kind of organisation.")}
            )

    @property
    def is_usable(self) -> bool:
        return not self.revoked and not self.has_expired
