"""The referral and its closed-loop status.

A referral arrives through the browser, ZorgDomein, KIS or the REST API and lands in one model. Its
status follows the HL7 BSeR Task business statuses (2.0 received ... 7.0 completed) so the referrer
can be told, over FHIR or in the browser, where their referral stands.
"""

from __future__ import annotations

import datetime
import uuid
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from carechain.models import (
    KetenzorgEnrolment,
    Organisation,
    Patient,
    Practice,
    Provider,
    StateEvent,
)

from .workdays import add_working_days

FAILED_ATTEMPTS_BEFORE_UNREACHABLE = 3
FIRST_CONTACT_WORKING_DAYS = 2


class ReferralState(models.TextChoices):
    RECEIVED = "received", _("received")
    ACCEPTED = "accepted", _("accepted")
    DECLINED = "declined", _("declined")
    SCHEDULED = "scheduled", _("contact scheduled")
    NO_SHOW = "no_show", _("no-show")
    IN_PROGRESS = "in_progress", _("in progress")
    UNREACHABLE = "unreachable", _("unreachable")
    CANCELLATION_REQUESTED = "cancellation_requested", _("cancellation requested")
    CANCELLED = "cancelled", _("cancelled")
    COMPLETED = "completed", _("completed")


S = ReferralState
OPEN_STATES = [S.RECEIVED, S.ACCEPTED, S.SCHEDULED, S.NO_SHOW, S.IN_PROGRESS]
CLOSED_STATES = [S.DECLINED, S.UNREACHABLE, S.CANCELLED, S.COMPLETED]
# What waits on the provider's worklist: not yet in a trajectory, not closed.
WORKLIST_STATES = [S.RECEIVED, S.ACCEPTED, S.SCHEDULED, S.NO_SHOW, S.CANCELLATION_REQUESTED]
# Open, and the provider has not reached the patient yet: the daily scan's first contacts.
AWAITING_FIRST_CONTACT_STATES = [S.RECEIVED, S.ACCEPTED, S.SCHEDULED, S.NO_SHOW]

# HL7 BSeR Task.businessStatus codes and the FHIR Task.status for each state.
BSER_STATUS = {
    S.RECEIVED: ("2.0", "Referral Created", "received"),
    S.ACCEPTED: ("3.0", "Referral Accepted", "accepted"),
    S.DECLINED: ("4.0", "Referral Declined", "rejected"),
    S.SCHEDULED: ("5.1.1", "Appointment Scheduled", "in-progress"),
    S.NO_SHOW: ("5.1.2", "No Show", "in-progress"),
    S.IN_PROGRESS: ("5.1.4", "Interim Consultation Note", "in-progress"),
    S.UNREACHABLE: ("6.0", "Referral Cancelled", "failed"),
    S.CANCELLATION_REQUESTED: ("5.2", "Cancellation Requested", "in-progress"),
    S.CANCELLED: ("6.0", "Referral Cancelled", "cancelled"),
    S.COMPLETED: ("7.0", "Referral Completed", "completed"),
}


class Channel(models.TextChoices):
    WEB = "web", _("browser")
    ZORGDOMEIN = "zorgdomein", "ZorgDomein"
    KIS = "kis", "KIS"
    API = "api", _("REST API")


class Motivation(models.TextChoices):
    """Smoker categories of the Zorgstandaard Tabaksverslaving."""

    MOTIVATED = "motivated", _("smoker, motivated to quit")
    CONSIDERING = "considering", _("smoker, considering quitting")
    UNMOTIVATED = "unmotivated", _("smoker, not motivated")


class DeclineReason(models.TextChoices):
    NOT_MOTIVATED = "not_motivated", _("patient not motivated")
    NOT_IN_REGION = "not_in_region", _("outside our region")
    CAPACITY = "capacity", _("no capacity")
    OTHER_CARE = "other_care", _("other care is more suitable")
    PATIENT_REFUSED = "patient_refused", _("patient refused")
    OTHER = "other", _("other")


def pack_years(cigarettes_per_day: int | None, years_smoked: int | None) -> Decimal | None:
    """1 pack-year = 20 cigarettes a day for a year."""
    if cigarettes_per_day is None or years_smoked is None:
        return None
    return (Decimal(cigarettes_per_day) / 20 * years_smoked).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )


class ReferralQuerySet(models.QuerySet):
    def open(self):
        return self.filter(state__in=OPEN_STATES)


class Referral(FSMModelMixin, models.Model):
    public_id = models.UUIDField(
        _("public identifier"),
        default=uuid.uuid4,
        unique=True,
        editable=False,
        help_text=_("The referral's identifier outside this platform (FHIR Task id)."),
    )
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="referrals", verbose_name=_("patient")
    )
    practice = models.ForeignKey(
        Practice,
        on_delete=models.PROTECT,
        related_name="referrals",
        verbose_name=_("referring practice"),
    )
    provider = models.ForeignKey(
        Provider, on_delete=models.PROTECT, related_name="referrals", verbose_name=_("SMR provider")
    )
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    external_id = models.CharField(
        _("external identifier"),
        max_length=100,
        blank=True,
        help_text=_("ZorgDomein number or KIS identifier of this referral."),
    )
    referred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="referrals_made",
        verbose_name=_("referred by"),
    )
    referrer_name = models.CharField(_("referrer"), max_length=200, blank=True)
    referrer_agb = models.CharField(_("referrer AGB code"), max_length=8, blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now, db_index=True)
    first_contact_due = models.DateField(_("first contact due"))

    reason = models.TextField(_("reason for referral"), max_length=4000, blank=True)
    cigarettes_per_day = models.PositiveSmallIntegerField(
        _("cigarettes a day"), null=True, blank=True, validators=[MaxValueValidator(200)]
    )
    years_smoked = models.PositiveSmallIntegerField(
        _("years smoked"), null=True, blank=True, validators=[MaxValueValidator(100)]
    )
    pack_years = models.DecimalField(
        _("pack-years"), max_digits=6, decimal_places=1, null=True, blank=True, editable=False
    )
    earlier_quit_attempts = models.PositiveSmallIntegerField(
        _("earlier quit attempts"), null=True, blank=True, validators=[MaxValueValidator(100)]
    )
    motivation = models.CharField(
        _("motivation"), max_length=12, choices=Motivation.choices, blank=True
    )
    is_ketenzorg = models.BooleanField(_("ketenzorg"), default=False)
    ketenzorg_programme = models.CharField(
        _("ketenzorg programme"),
        max_length=8,
        choices=KetenzorgEnrolment.Programme.choices,
        blank=True,
    )
    best_time_to_call = models.CharField(
        _("best time to call"),
        max_length=10,
        choices=Patient.CallTime.choices,
        default=Patient.CallTime.ANY,
    )
    call_note = models.CharField(_("note on calling"), max_length=200, blank=True)
    consent_data_exchange = models.BooleanField(
        _("consent for data exchange"),
        default=False,
        help_text=_(
            "The patient agrees that provider and practice exchange data about the treatment."
        ),
    )

    state = FSMField(
        _("status"), default=S.RECEIVED, choices=S.choices, protected=True, db_index=True
    )
    state_changed_at = models.DateTimeField(_("status changed"), default=timezone.now)
    coach = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_referrals",
        verbose_name=_("coach"),
    )
    decline_reason = models.CharField(
        _("reason declined"), max_length=20, choices=DeclineReason.choices, blank=True
    )
    cancel_reason = models.CharField(_("reason cancelled"), max_length=500, blank=True)
    status_note = models.CharField(_("note"), max_length=500, blank=True)
    first_contact_at = models.DateTimeField(_("first contact"), null=True, blank=True)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    objects = ReferralQuerySet.as_manager()

    class Meta:
        ordering = ["received_at", "pk"]
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                condition=~Q(external_id=""),
                name="referral_unique_external_id",
            ),
        ]
        indexes = [
            models.Index(fields=["provider", "state", "received_at"]),
            # The worklist: a provider's waiting referrals, oldest first. Partial on the
            # worklist's states and in the page's order: the page reads its 300 rows from the
            # index and stops, instead of sorting every waiting referral (docs/explain/caseload.md).
            models.Index(
                fields=["provider", "received_at", "id"],
                condition=Q(state__in=WORKLIST_STATES),
                name="referral_worklist",
            ),
            # What changed since a referrer's last poll (FHIR _lastUpdated, REST modified_after).
            models.Index(fields=["updated_at", "public_id"], name="referral_changed_idx"),
            # A practice's referrals of a period (the zorggroep's reports): one index range per
            # practice instead of AND-ing the practice's and the period's bitmaps; with the other
            # columns the reports' referral queries (per channel, per month, first contact) are
            # answered from the index alone. Every save already changes the indexed updated_at, so
            # the extra columns cost no HOT updates.
            models.Index(
                fields=[
                    "practice",
                    "received_at",
                    "channel",
                    "state",
                    "first_contact_due",
                    "first_contact_at",
                ],
                name="referral_practice_received",
            ),
            # The daily reminder scan's first contacts (docs/explain/reminder_scan.md): the
            # referrals still waiting for one, in id order, so that the scan's full join with the
            # open first-contact reminders is a merge of two index-only scans. A few thousand
            # rows in a region; a referral leaves it at its first contact.
            models.Index(
                fields=["id", "first_contact_due"],
                condition=Q(state__in=AWAITING_FIRST_CONTACT_STATES, first_contact_at__isnull=True),
                name="referral_first_contact_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{_('Referral')} {self.pk} · {self.patient}"

    def save(self, *args, **kwargs):
        self.pack_years = pack_years(self.cigarettes_per_day, self.years_smoked)
        if not self.first_contact_due:
            self.first_contact_due = add_working_days(
                timezone.localdate(self.received_at), FIRST_CONTACT_WORKING_DAYS
            )
        super().save(*args, **kwargs)

    # -- derived ----------------------------------------------------------------------------
    @property
    def bser(self) -> tuple[str, str, str]:
        return BSER_STATUS[S(self.state)]

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def first_contact_overdue(self, today: datetime.date | None = None) -> bool:
        return self.is_first_contact_overdue(
            state=self.state,
            first_contact_at=self.first_contact_at,
            first_contact_due=self.first_contact_due,
            today=today or timezone.localdate(),
        )

    @staticmethod
    def is_first_contact_overdue(
        *,
        state: str,
        first_contact_at: datetime.datetime | None,
        first_contact_due: datetime.date,
        today: datetime.date,
    ) -> bool:
        """``first_contact_overdue`` from the columns, for list pages that read values."""
        return first_contact_at is None and state in OPEN_STATES and today > first_contact_due

    def failed_attempts(self) -> int:
        return sum(1 for a in self.contact_attempts.all() if not a.reached)

    def has_enough_failed_attempts(self) -> bool:
        return self.failed_attempts() >= FAILED_ATTEMPTS_BEFORE_UNREACHABLE

    # -- transitions (state and fields only; effects live in services.py) ----------------------
    @transition(field=state, source=S.RECEIVED, target=S.ACCEPTED)
    def accept(self):
        pass

    @transition(field=state, source=S.RECEIVED, target=S.DECLINED)
    def decline(self, *, reason: str, explanation: str = ""):
        self.decline_reason = reason
        self.status_note = explanation

    @transition(field=state, source=[S.ACCEPTED, S.SCHEDULED, S.NO_SHOW], target=S.SCHEDULED)
    def schedule_contact(self):
        pass

    @transition(field=state, source=S.SCHEDULED, target=S.NO_SHOW)
    def record_no_show(self):
        pass

    @transition(field=state, source=[S.ACCEPTED, S.SCHEDULED, S.NO_SHOW], target=S.IN_PROGRESS)
    def record_contact_done(self):
        self.first_contact_at = self.first_contact_at or timezone.now()

    @transition(
        field=state,
        source=[S.RECEIVED, S.ACCEPTED, S.SCHEDULED, S.NO_SHOW],
        target=S.UNREACHABLE,
        conditions=[has_enough_failed_attempts],
    )
    def close_unreachable(self):
        pass

    @transition(field=state, source=OPEN_STATES, target=S.CANCELLATION_REQUESTED)
    def request_cancellation(self, *, reason: str):
        self.cancel_reason = reason

    @transition(field=state, source=S.CANCELLATION_REQUESTED, target=S.CANCELLED)
    def confirm_cancellation(self):
        pass

    @transition(field=state, source=S.IN_PROGRESS, target=S.COMPLETED)
    def complete(self):
        pass


class ReferralEvent(StateEvent):
    """The referral's history: who did what, when and why (shown to referrer and provider)."""

    STATES = S

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events")

    class Meta(StateEvent.Meta):
        pass


class ReferralDocument(models.Model):
    """A document of the referral: ZorgDomein documents as delivered, and feedback to the referrer.

    ZorgDomein documents are immutable; ``source_id`` (the Bundle.id) makes a re-delivery a no-op.
    """

    class Kind(models.TextChoices):
        APPOINTMENT_REQUEST = "appointment-request", _("appointment request")
        REFERRAL_LETTER = "referral-letter", _("referral letter")
        SUPPLEMENT = "supplement", _("supplement")
        CANCELLATION = "cancellation", _("cancellation")
        KIS_REFERRAL = "kis-referral", _("KIS referral")

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    source_id = models.CharField(_("document id"), max_length=100, unique=True)
    title = models.CharField(_("title"), max_length=300, blank=True)
    text = models.TextField(_("text"), blank=True)
    payload = models.JSONField(_("payload as received"))
    received_at = models.DateTimeField(_("received"), default=timezone.now)

    class Meta:
        ordering = ["received_at", "pk"]
        verbose_name = _("referral document")
        verbose_name_plural = _("referral documents")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.source_id}"


class ContactAttempt(models.Model):
    """An attempt to reach the patient for the first contact."""

    class Method(models.TextChoices):
        PHONE = "phone", _("phone")
        SMS = "sms", _("text message")
        EMAIL = "email", _("e-mail")
        LETTER = "letter", _("letter")

    class Result(models.TextChoices):
        REACHED = "reached", _("reached")
        NO_ANSWER = "no_answer", _("no answer")
        VOICEMAIL = "voicemail", _("voicemail left")
        WRONG_NUMBER = "wrong_number", _("wrong number")
        CALL_BACK = "call_back", _("asked to call back")

    referral = models.ForeignKey(
        Referral, on_delete=models.CASCADE, related_name="contact_attempts"
    )
    at = models.DateTimeField(_("date and time"), default=timezone.now)
    method = models.CharField(
        _("method"), max_length=8, choices=Method.choices, default=Method.PHONE
    )
    result = models.CharField(_("result"), max_length=14, choices=Result.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("contact attempt")
        verbose_name_plural = _("contact attempts")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_result_display()}"

    @property
    def reached(self) -> bool:
        return self.result == self.Result.REACHED


class FeedbackLetter(models.Model):
    """A feedback letter (terugkoppeling) to the referring practice, written through an outbox.

    The domain transition creates this row in its own transaction with every fact the letter shows
    copied into ``facts`` (so rendering is pure and later edits elsewhere never change a sent
    letter); a Celery task started on commit renders the PDF and sends it. One letter per referral
    and moment (``key``), enforced by the database.
    """

    class Kind(models.TextChoices):
        ACCEPTED = "accepted", _("referral accepted")
        DECLINED = "declined", _("referral declined")
        UNREACHABLE = "unreachable", _("patient unreachable")
        INTAKE_DONE = "intake_done", _("intake done")
        ESCALATED = "escalated", _("escalated to the POH-GGZ")
        ESCALATION_RETURNED = "escalation_returned", _("back from the POH-GGZ")
        END_OF_TREATMENT = "end_of_treatment", _("end of treatment")
        FOLLOW_UP_RESULT = "follow_up_result", _("12-month result")
        CARE_STOPPED = "care_stopped", _("care stopped")

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        RENDERED = "rendered", _("rendered")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")
        # Killed after claiming the send: the mail server may or may not have the message. Only
        # a person (the planner's retry) sends it again; no task or sweep ever claims it.
        INTERRUPTED = "interrupted", _("interrupted")

    public_id = models.UUIDField(
        _("public identifier"),
        default=uuid.uuid4,
        unique=True,
        editable=False,
        help_text=_("The identifier of this feedback outside this platform (FHIR Bundle id)."),
    )
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="letters")
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    key = models.CharField(
        _("moment"),
        max_length=80,
        help_text=_(
            "Identifies the moment, e.g. 'intake_done' or 'escalated:12' for one escalation."
        ),
    )
    facts = models.JSONField(_("facts as shown"))
    recipient = models.EmailField(_("recipient"))
    status = models.CharField(
        _("delivery status"),
        max_length=12,
        choices=Status.choices,
        default=Status.PENDING,
        db_index=True,
    )
    pdf = models.FileField(_("PDF"), upload_to="letters/%Y/%m/", blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    rendered_at = models.DateTimeField(_("rendered"), null=True, blank=True)
    sending_since = models.DateTimeField(null=True, blank=True)
    # Set, committed, just before the mail is handed to the mail server: a delivery interrupted
    # without it never reached the server and is sent again automatically (referrals.letters).
    handed_over_at = models.DateTimeField(null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("delivery attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("feedback letter")
        verbose_name_plural = _("feedback letters")
        constraints = [
            models.UniqueConstraint(fields=["referral", "key"], name="one_letter_per_moment"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.referral_id}"

    @property
    def message_id(self) -> str:
        """Stable Message-ID: a resend after an interrupted delivery is recognisable as the same."""
        return f"<feedback-letter-{self.public_id}@smr-ketenzorg>"


def validate_webhook_url(value: str) -> None:
    """https only; plain http only to the hosts settings.WEBHOOK_ALLOW_HTTP_HOSTS names (tests)."""
    from urllib.parse import urlsplit

    parts = urlsplit(value)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname in settings.WEBHOOK_ALLOW_HTTP_HOSTS:
        return
    raise ValidationError(_("A webhook address must start with https://."), code="https_only")


class Webhook(models.Model):
    """Where a referrer's system (KIS, HIS) wants to hear that one of its referrals changed.

    The notification names only the Task and the kind of change, never patient data: the receiver
    fetches the Task with its API key. The body is signed with HMAC-SHA256 under ``secret``, which
    is shown once when the webhook is made (it must be kept to sign, so it is stored).
    """

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="webhooks",
        verbose_name=_("organisation"),
        help_text=_("The GP practice or zorggroep whose referrals this webhook reports on."),
    )
    url = models.URLField(_("address"), max_length=500, validators=[validate_webhook_url])
    secret = models.CharField(_("signing secret"), max_length=64, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")

    def __str__(self) -> str:
        return f"{self.organisation} → {self.url}"

    def clean(self) -> None:
        kinds = {Organisation.Kind.PRACTICE, Organisation.Kind.ZORGGROEP}
        if self.organisation_id and self.organisation.kind not in kinds:
            raise ValidationError(
                {"organisation": _("Only a GP practice or a zorggroep receives notifications.")}
            )


class WebhookDelivery(models.Model):
    """One notification to one webhook, with its attempts: the planner's delivery log."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("failed")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    referral = models.ForeignKey(
        Referral, on_delete=models.CASCADE, related_name="+", verbose_name=_("referral")
    )
    event = models.CharField(_("event"), max_length=40)
    body = models.TextField(_("body as sent"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_status_code = models.PositiveSmallIntegerField(_("last answer"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")

    def __str__(self) -> str:
        return f"{self.event} {self.public_id}"
