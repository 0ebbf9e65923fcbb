"""The letter campaign to smokers (brievenactie): a practice invites the smokers on its own list to
stop-smoking support, by a personal letter with a response code.

AVG: the practice is the controller. The uploaded list is used for this campaign only; invitees who
did not answer are erased after the campaign's retention period (``services.campaigns_erase_expired``,
a beat task), keeping the rows as empty shells so the funnel's counts stay. "No more letters" is kept
as an opt-out holding a keyed hash of the BSN only, so later campaigns of the practice skip the person.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from carechain.models import Patient, Practice, Zorggroep
from referrals.models import Referral

# No 0/O, 1/I/L: a code someone reads off paper and types (32 symbols, 10 of them: 50 bits).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
DEFAULT_RETENTION_MONTHS = 6

DEFAULT_LETTER_TEXT = """Beste {naam},

Stoppen met roken is een van de beste dingen die u voor uw gezondheid kunt doen. Het is ook moeilijk: met begeleiding lukt het veel vaker dan alleen.

Daarom bieden wij u begeleiding aan bij het stoppen met roken. Een erkende stoppen-met-rokencoach begeleidt u persoonlijk, in onze praktijk, telefonisch of via video. Als dat nodig is kan de coach ook hulpmiddelen zoals nicotinepleisters met u bespreken. De begeleiding wordt vergoed vanuit de basisverzekering en gaat niet van uw eigen risico af.

Wilt u hulp bij het stoppen? Ga naar {adres_website} en vul uw persoonlijke code in: {code}. U kunt ons ook bellen. Wij nemen dan contact met u op.

Wilt u geen brieven meer van ons over stoppen met roken? Dat kunt u met dezelfde code ook aangeven.

Met vriendelijke groet,

{praktijk}"""

# The placeholders a practice may use in its letter text; nothing else is ever filled in.
PLACEHOLDERS = ("naam", "aanhef_naam", "code", "adres_website", "praktijk", "datum")


def new_response_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def format_code(code: str) -> str:
    return f"{code[:5]}-{code[5:]}" if code else ""


class CampaignState(models.TextChoices):
    DRAFT = "draft", _("list being prepared")
    GENERATING = "generating", _("letters being made")
    LETTERS_READY = "letters_ready", _("letters ready")
    ERASED = "erased", _("list erased")


class Campaign(FSMModelMixin, models.Model):
    practice = models.ForeignKey(
        Practice, on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("practice")
    )
    name = models.CharField(_("name"), max_length=120, help_text=_("e.g. 'Brievenactie voorjaar'"))
    letter_text = models.TextField(
        _("letter text"),
        max_length=6000,
        default=DEFAULT_LETTER_TEXT,
        help_text=_(
            "Plain text. Placeholders in curly braces are filled in per person: {naam}, "
            "{aanhef_naam}, {code}, {adres_website}, {praktijk}, {datum}."
        ),
    )
    retention_months = models.PositiveSmallIntegerField(
        _("retention period (months)"),
        default=DEFAULT_RETENTION_MONTHS,
        validators=[MinValueValidator(1), MaxValueValidator(24)],
        help_text=_("People who did not answer are erased from the list after this period."),
    )
    state = FSMField(
        _("status"), default=CampaignState.DRAFT, choices=CampaignState.choices, protected=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("started by"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    letters_ready_at = models.DateTimeField(_("letters ready"), null=True, blank=True)
    batch_pdf = models.FileField(_("letters (PDF)"), upload_to="campaigns/", blank=True)
    erased_at = models.DateTimeField(_("erased"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("letter campaign")
        verbose_name_plural = _("letter campaigns")

    def __str__(self) -> str:
        return self.name

    @property
    def retention_start(self):
        """The retention period runs from the moment the letters could be sent."""
        return self.letters_ready_at or self.created_at

    @transition(
        field=state,
        source=[CampaignState.DRAFT, CampaignState.LETTERS_READY],
        target=CampaignState.GENERATING,
    )
    def start_generation(self) -> None:
        """Also for people added after the first letters; the retention runs from the last batch."""

    @transition(field=state, source=CampaignState.GENERATING, target=CampaignState.LETTERS_READY)
    def finish_generation(self) -> None:
        self.letters_ready_at = timezone.now()


class LetterStatus(models.TextChoices):
    PENDING = "pending", _("to be made")
    DONE = "done", _("made")


class Answer(models.TextChoices):
    YES = "yes", _("yes, wants support")
    NO = "no", _("no, no more letters")


class AnswerChannel(models.TextChoices):
    WEB = "web", _("answer page")
    PHONE = "phone", _("by phone to the practice")


class Invitee(models.Model):
    """One person invited: a row of the uploaded list or a registered patient of the practice."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="invitees", verbose_name=_("campaign")
    )
    patient = models.ForeignKey(
        Patient,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("patient"),
    )
    bsn = models.CharField(_("BSN"), max_length=9, blank=True)
    initials = models.CharField(_("initials"), max_length=20, blank=True)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    name_prefix = models.CharField(_("prefix"), max_length=20, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=7, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    response_code = models.CharField(
        _("response code"), max_length=CODE_LENGTH, unique=True, null=True, blank=True
    )

    letter_status = models.CharField(
        _("letter"), max_length=8, choices=LetterStatus.choices, default=LetterStatus.PENDING
    )
    chunk = models.ForeignKey(
        "LetterChunk", on_delete=models.SET_NULL, null=True, blank=True, related_name="invitees"
    )
    letter_first_page = models.PositiveIntegerField(null=True, blank=True)
    letter_pages = models.PositiveSmallIntegerField(null=True, blank=True)
    letter_made_at = models.DateTimeField(_("letter made"), null=True, blank=True)

    answer = models.CharField(_("answer"), max_length=4, choices=Answer.choices, blank=True)
    answer_channel = models.CharField(
        _("answered via"), max_length=6, choices=AnswerChannel.choices, blank=True
    )
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True, db_index=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    best_time_to_call = models.CharField(
        _("best time to call"),
        max_length=10,
        choices=Patient.CallTime.choices,
        default=Patient.CallTime.ANY,
    )
    consent_data_exchange = models.BooleanField(_("consent for data exchange"), default=False)
    referral = models.OneToOneField(
        Referral,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="campaign_invitee",
        verbose_name=_("referral"),
    )
    erased_at = models.DateTimeField(_("erased"), null=True, blank=True)
    created_at = models.DateTimeField(_("added"), default=timezone.now)

    PERSONAL_FIELDS = (
        "bsn",
        "initials",
        "first_name",
        "name_prefix",
        "last_name",
        "address",
        "postal_code",
        "city",
        "phone",
    )

    class Meta:
        ordering = ["last_name", "pk"]
        verbose_name = _("invitee")
        verbose_name_plural = _("invitees")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "bsn"], condition=~Q(bsn=""), name="invitee_unique_bsn"
            )
        ]
        indexes = [models.Index(fields=["campaign", "letter_status"])]

    def __str__(self) -> str:
        return self.full_name or _("(erased)")

    @property
    def full_name(self) -> str:
        given = self.first_name or self.initials
        return " ".join(part for part in (given, self.name_prefix, self.last_name) if part)

    @property
    def salutation_name(self) -> str:
        """'J. de Vries' for the letter's greeting."""
        given = self.initials or (self.first_name[:1] + "." if self.first_name else "")
        return " ".join(part for part in (given, self.name_prefix, self.last_name) if part)

    @property
    def display_code(self) -> str:
        return format_code(self.response_code or "")

    @property
    def is_draft_referral(self) -> bool:
        """Said yes, not yet turned into a referral by the practice."""
        return self.answer == Answer.YES and self.referral_id is None and not self.erased_at


class LetterChunk(models.Model):
    """A slice of a campaign's letters rendered as one PDF by one task; claimed by a conditional
    update, so a chunk is never rendered twice at once and a failed one is simply rendered again."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting")
        RENDERING = "rendering", _("being made")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="chunks")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    pdf = models.FileField(upload_to="campaigns/chunks/", blank=True)

    class Meta:
        ordering = ["campaign", "number"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "number"], name="chunk_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.number}"


class Upload(models.Model):
    """One uploaded list (or selection of registered patients) and what became of its rows."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="uploads")
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    source = models.CharField(max_length=10, default="csv")  # csv | patients
    filename = models.CharField(max_length=200, blank=True)
    encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=3, blank=True)
    rows = models.PositiveIntegerField(default=0)
    added = models.PositiveIntegerField(default=0)
    skipped_duplicate = models.PositiveIntegerField(default=0)
    skipped_in_care = models.PositiveIntegerField(default=0)
    skipped_opted_out = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.filename or self.source}"


class RejectedRow(models.Model):
    """A row that was not taken, with its line number and the reason; never its contents."""

    upload = models.ForeignKey(Upload, on_delete=models.CASCADE, related_name="rejected_rows")
    line = models.PositiveIntegerField()
    reason = models.CharField(max_length=300)

    class Meta:
        ordering = ["line", "pk"]

    def __str__(self) -> str:
        return f"{self.line}: {self.reason}"


class OptOut(models.Model):
    """'Send me no more letters': a keyed hash of the BSN only, for the practice or its zorggroep."""

    class Scope(models.TextChoices):
        PRACTICE = "practice", _("this practice")
        ZORGGROEP = "zorggroep", _("all practices of the zorggroep")

    bsn_hash = models.CharField(max_length=64, db_index=True)
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.PRACTICE)
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    zorggroep = models.ForeignKey(Zorggroep, on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(
        Campaign, on_delete=models.SET_NULL, null=True, blank=True, related_name="opt_outs"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["bsn_hash", "practice", "scope"], name="opt_out_unique_per_practice"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_scope_display()} {self.at:%Y-%m-%d}"
