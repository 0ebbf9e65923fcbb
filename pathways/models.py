"""The stop-smoking trajectory: intake, quit date, counselling, POH-GGZ escalation, end of treatment
and the 12-month follow-up call; contacts with their measurements; appointments in practice rooms;
relapse-prevention groups run by the POH-GGZ.

Rule from the Almere practice story: escalation to the POH-GGZ only makes sense while the patient is
still motivated; once the patient smokes again and is no longer motivated, care stops (for the coach
and the POH-GGZ alike). The coach stays the one who calls the patient a year later.
"""

from __future__ import annotations

import datetime

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from carechain.models import Location, Patient, Practice, Provider, StateEvent
from referrals.models import Referral

FOLLOW_UP_AFTER = relativedelta(years=1)


class TrajectoryState(models.TextChoices):
    INTAKE_PLANNED = "intake_planned", _("intake planned")
    INTAKE_DONE = "intake_done", _("intake done")
    COUNSELLING = "counselling", _("counselling")
    ESCALATED = "escalated", _("with the POH-GGZ")
    END_OF_TREATMENT = "end_of_treatment", _("end of treatment")
    FOLLOW_UP_DUE = "follow_up_due", _("follow-up call due")
    CLOSED = "closed", _("closed")
    STOPPED_UNMOTIVATED = "stopped_unmotivated", _("stopped: no longer motivated")
    DROPPED_OUT = "dropped_out", _("dropped out / unreachable")


T = TrajectoryState
ACTIVE_STATES = [T.INTAKE_PLANNED, T.INTAKE_DONE, T.COUNSELLING, T.ESCALATED]
FOLLOW_UP_STATES = [T.END_OF_TREATMENT, T.FOLLOW_UP_DUE]
ENDED_STATES = [T.END_OF_TREATMENT, T.FOLLOW_UP_DUE, T.CLOSED, T.STOPPED_UNMOTIVATED, T.DROPPED_OUT]
# What the coach's caseload lists: active care and the 12-month call still to make.
CASELOAD_STATES = [*ACTIVE_STATES, *FOLLOW_UP_STATES]


class SmokingStatus(models.TextChoices):
    """Status since the last contact, Russell-Standard style (≤5 cigarettes counts as abstinent)."""

    SMOKE_FREE = "smoke_free", _("smoke-free")
    LAPSE = "lapse", _("a few cigarettes (≤ 5)")
    SMOKING = "smoking", _("smoking")


class Outcome(models.TextChoices):
    SMOKE_FREE = "smoke_free", _("smoke-free")
    SMOKING = "smoking", _("smoking")


class FollowUpOutcome(models.TextChoices):
    SMOKE_FREE = "smoke_free", _("smoke-free")
    SMOKING = "smoking", _("smoking")
    NOT_REACHED = "not_reached", _("not reached (counts as smoking)")


class Medication(models.TextChoices):
    NRT_PATCH = "nrt_patch", _("nicotine patch")
    NRT_GUM = "nrt_gum", _("nicotine gum")
    NRT_LOZENGE = "nrt_lozenge", _("nicotine lozenge")
    VARENICLINE = "varenicline", _("varenicline")
    BUPROPION = "bupropion", _("bupropion")
    NORTRIPTYLINE = "nortriptyline", _("nortriptyline")


NICOTINE_REPLACEMENT = frozenset({Medication.NRT_PATCH, Medication.NRT_GUM, Medication.NRT_LOZENGE})
PRESCRIPTION_MEDICATION = frozenset(
    {Medication.VARENICLINE, Medication.BUPROPION, Medication.NORTRIPTYLINE}
)


def validate_medication(value) -> None:
    if not isinstance(value, list) or any(v not in Medication.values for v in value):
        raise ValidationError(_("Unknown medication."), code="invalid")


class TrajectoryQuerySet(models.QuerySet):
    def active(self):
        return self.filter(state__in=ACTIVE_STATES)


class Trajectory(ConcurrentTransitionMixin, models.Model):
    """One stop-smoking trajectory per accepted referral (a patient may start again a later year).

    Transitions change state and fields only; ``services.py`` locks the row, checks who acts, logs
    the event and queues letters. ConcurrentTransitionMixin refuses a save whose state changed in
    the database meanwhile, so two people acting at once never silently overwrite each other.
    """

    referral = models.OneToOneField(
        Referral, on_delete=models.PROTECT, related_name="trajectory", verbose_name=_("referral")
    )
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="trajectories", verbose_name=_("patient")
    )
    # The foreign keys below have no index of their own: the composite indexes in Meta lead with
    # them (a trajectory changes state a dozen times, and every change writes every index; each
    # index left out is a write less per change, docs/explain/reminder_scan.md).
    practice = models.ForeignKey(
        Practice,
        on_delete=models.PROTECT,
        related_name="trajectories",
        verbose_name=_("practice"),
        db_index=False,
    )
    provider = models.ForeignKey(
        Provider,
        on_delete=models.PROTECT,
        related_name="trajectories",
        verbose_name=_("provider"),
        db_index=False,
    )
    coach = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="trajectories",
        verbose_name=_("coach"),
        db_index=False,
    )
    # Indexed in Meta (db_index would add a second, varchar_pattern_ops index no query reads).
    state = FSMField(_("status"), default=T.INTAKE_PLANNED, choices=T.choices, protected=True)
    state_changed_at = models.DateTimeField(_("status changed"), default=timezone.now)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    # intake
    intake_date = models.DateField(_("intake date"), null=True, blank=True)
    cigarettes_per_day = models.PositiveSmallIntegerField(
        _("cigarettes a day"), null=True, blank=True, validators=[MaxValueValidator(200)]
    )
    years_smoked = models.PositiveSmallIntegerField(
        _("years smoked"), null=True, blank=True, validators=[MaxValueValidator(100)]
    )
    earlier_quit_attempts = models.PositiveSmallIntegerField(
        _("earlier quit attempts"), null=True, blank=True, validators=[MaxValueValidator(100)]
    )
    is_motivated = models.BooleanField(_("motivated to quit"), default=True)
    medication_plan = models.JSONField(
        _("medication plan"), default=list, blank=True, validators=[validate_medication]
    )
    quit_date = models.DateField(_("quit date"), null=True, blank=True)
    intake_note = models.TextField(_("intake notes"), max_length=4000, blank=True)

    # end of treatment
    end_date = models.DateField(_("end of treatment"), null=True, blank=True)
    end_result = models.CharField(_("result"), max_length=12, choices=Outcome.choices, blank=True)
    end_co_ppm = models.PositiveSmallIntegerField(
        _("CO (ppm)"), null=True, blank=True, validators=[MaxValueValidator(100)]
    )
    stop_reason = models.CharField(_("reason care stopped"), max_length=500, blank=True)

    # 12-month follow-up call
    follow_up_due = models.DateField(_("follow-up call due"), null=True, blank=True, db_index=True)
    follow_up_date = models.DateField(_("follow-up call"), null=True, blank=True)
    follow_up_result = models.CharField(
        _("12-month result"), max_length=12, choices=FollowUpOutcome.choices, blank=True
    )
    follow_up_co_ppm = models.PositiveSmallIntegerField(
        _("CO at 12 months (ppm)"), null=True, blank=True, validators=[MaxValueValidator(100)]
    )
    # Written by the daily reminder scan only (reminders.services): true from the scan making this
    # trajectory's follow-up call reminder until the scan resolves it (the call recorded). It is
    # how the scan finds the few trajectories whose reminder is to be made or resolved from two
    # small partial indexes, instead of comparing the region's ~200,000 trajectories in the
    # follow-up states with its ~200,000 open calls every day.
    follow_up_reminder_open = models.BooleanField(default=False, editable=False)

    objects = TrajectoryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("trajectory")
        verbose_name_plural = _("trajectories")
        indexes = [
            models.Index(fields=["state"], name="trajectory_state"),
            models.Index(fields=["coach", "state"]),
            models.Index(fields=["provider", "state"]),
            # The caseload: a coach's (or a provider's) trajectories in care, oldest state first.
            # Partial on the caseload's states and in the page's order, so the page reads its rows
            # from the index and stops at its limit: no BitmapAnd of the coach's and the
            # provider's index entries (98,000 read to keep 200), no sort of a provider's 98,000
            # (docs/explain/caseload.md).
            models.Index(
                fields=["coach", "state_changed_at", "id"],
                condition=Q(state__in=CASELOAD_STATES),
                name="trajectory_caseload_coach",
            ),
            models.Index(
                fields=["provider", "state_changed_at", "id"],
                condition=Q(state__in=CASELOAD_STATES),
                name="trajectory_caseload_provider",
            ),
            # The calls due by a date, in the two follow-up states only (a fifth of a region;
            # docs/explain/reminder_scan.md). By state first, so the scan's marking of the ones
            # at the end of treatment reads exactly those.
            models.Index(
                fields=["state", "follow_up_due", "id"],
                condition=Q(state__in=FOLLOW_UP_STATES),
                name="trajectory_follow_up_calls",
            ),
            # The reminder scan's work, each a handful of rows on any day: calls due by a date that
            # have no reminder yet, and reminders whose trajectory has left the follow-up states
            # (docs/explain/reminder_scan.md).
            models.Index(
                fields=["follow_up_due", "id"],
                condition=Q(state__in=FOLLOW_UP_STATES, follow_up_reminder_open=False),
                name="trajectory_call_unreminded",
            ),
            models.Index(
                fields=["id"],
                condition=Q(follow_up_reminder_open=True) & ~Q(state__in=FOLLOW_UP_STATES),
                name="trajectory_call_reminder_gone",
            ),
            # The reports find a period's trajectories by these dates (docs/explain/reports.md).
            models.Index(fields=["intake_date"], name="trajectory_intake_date"),
            models.Index(fields=["end_date"], name="trajectory_end_date"),
            # A practice's trajectories that ended in a period (the reports' payers per practice).
            models.Index(fields=["practice", "end_date"], name="trajectory_practice_end"),
        ]

    def __str__(self) -> str:
        return f"{_('Trajectory')} {self.pk} · {self.patient}"

    # -- derived -------------------------------------------------------------------------------
    def compute_follow_up_due(self) -> datetime.date | None:
        """One year after the quit date; without one, a year after the end of treatment.

        relativedelta keeps 29 February sensible: a quit date of 29-02-2024 is called 28-02-2025.
        """
        base = self.quit_date or self.end_date
        return base + FOLLOW_UP_AFTER if base else None

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    def days_in_state(self, now: datetime.datetime | None = None) -> int:
        return ((now or timezone.now()) - self.state_changed_at).days

    def motivated(self) -> bool:
        return self.is_motivated

    def has_intake(self) -> bool:
        return self.intake_date is not None

    def follow_up_recorded(self) -> bool:
        return bool(self.follow_up_result)

    # -- transitions ---------------------------------------------------------------------------
    @transition(field=state, source=T.INTAKE_PLANNED, target=T.INTAKE_DONE)
    def record_intake(
        self,
        *,
        intake_date,
        cigarettes_per_day,
        years_smoked,
        earlier_quit_attempts,
        is_motivated,
        medication_plan,
        quit_date,
        note="",
    ):
        self.intake_date = intake_date
        self.cigarettes_per_day = cigarettes_per_day
        self.years_smoked = years_smoked
        self.earlier_quit_attempts = earlier_quit_attempts
        self.is_motivated = is_motivated
        self.medication_plan = list(medication_plan)
        self.quit_date = quit_date
        self.intake_note = note

    @transition(field=state, source=T.INTAKE_DONE, target=T.COUNSELLING, conditions=[motivated])
    def start_counselling(self):
        pass

    @transition(field=state, source=T.COUNSELLING, target=T.ESCALATED, conditions=[motivated])
    def escalate(self):
        pass

    @transition(field=state, source=T.ESCALATED, target=T.COUNSELLING, conditions=[motivated])
    def return_from_escalation(self):
        pass

    @transition(field=state, source=[T.COUNSELLING, T.ESCALATED], target=T.END_OF_TREATMENT)
    def end_treatment(self, *, end_date, result, co_ppm=None):
        self.end_date = end_date
        self.end_result = result
        self.end_co_ppm = co_ppm
        self.follow_up_due = self.compute_follow_up_due()

    @transition(field=state, source=T.END_OF_TREATMENT, target=T.FOLLOW_UP_DUE)
    def mark_follow_up_due(self):
        pass

    @transition(field=state, source=[T.END_OF_TREATMENT, T.FOLLOW_UP_DUE], target=T.CLOSED)
    def close_with_follow_up(self, *, call_date, result, co_ppm=None):
        self.follow_up_date = call_date
        self.follow_up_result = result
        self.follow_up_co_ppm = co_ppm

    @transition(
        field=state,
        source=[T.INTAKE_DONE, T.COUNSELLING, T.ESCALATED],
        target=T.STOPPED_UNMOTIVATED,
    )
    def stop_unmotivated(self, *, reason=""):
        self.is_motivated = False
        self.stop_reason = reason
        self.end_date = timezone.localdate()

    @transition(
        field=state,
        source=[T.INTAKE_PLANNED, T.INTAKE_DONE, T.COUNSELLING, T.ESCALATED],
        target=T.DROPPED_OUT,
    )
    def drop_out(self, *, reason=""):
        self.stop_reason = reason
        self.end_date = timezone.localdate()


class TrajectoryEvent(StateEvent):
    """The trajectory's timeline: every transition with who, when, from, to and a note."""

    STATES = T

    trajectory = models.ForeignKey(Trajectory, on_delete=models.CASCADE, related_name="events")

    class Meta(StateEvent.Meta):
        pass


class ContactKind(models.TextChoices):
    INTAKE = "intake", _("intake")
    LOCATION = "location", _("individual, on location")
    PHONE = "phone", _("phone")
    VIDEO = "video", _("video")
    GROUP = "group", _("group")


class Contact(models.Model):
    """A counselling contact with what was measured. The latest one shows on the trajectory."""

    trajectory = models.ForeignKey(Trajectory, on_delete=models.CASCADE, related_name="contacts")
    kind = models.CharField(_("kind"), max_length=10, choices=ContactKind.choices)
    date = models.DateField(_("date"))
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"), validators=[MinValueValidator(1), MaxValueValidator(480)]
    )
    location = models.ForeignKey(
        Location,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("location"),
    )
    coach = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("coach"),
    )
    smoking_status = models.CharField(
        _("smoking status since last contact"), max_length=12, choices=SmokingStatus.choices
    )
    cigarettes_per_day = models.PositiveSmallIntegerField(
        _("cigarettes a day"), null=True, blank=True, validators=[MaxValueValidator(200)]
    )
    co_ppm = models.PositiveSmallIntegerField(
        _("CO (ppm)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(100)],
        help_text=_("Exhaled carbon monoxide, 0–100 ppm; below 10 ppm confirms abstinence."),
    )
    medication = models.JSONField(
        _("medication in use"), default=list, blank=True, validators=[validate_medication]
    )
    still_motivated = models.BooleanField(_("still motivated"), default=True)
    notes = models.TextField(_("notes"), max_length=4000, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-date", "-pk"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints = [
            models.CheckConstraint(
                condition=Q(co_ppm__isnull=True) | Q(co_ppm__lte=100), name="contact_co_in_range"
            )
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()}"

    @property
    def medication_labels(self) -> list[str]:
        return [Medication(m).label for m in self.medication if m in Medication.values]


class Appointment(models.Model):
    """A planned contact in a room a practice lends the provider (or by phone/video)."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("planned")
        DONE = "done", _("done")
        CANCELLED = "cancelled", _("cancelled")

    trajectory = models.ForeignKey(
        Trajectory, on_delete=models.CASCADE, related_name="appointments"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=ContactKind.choices)
    starts_at = models.DateTimeField(_("starts at"))
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"),
        default=30,
        validators=[MinValueValidator(5), MaxValueValidator(240)],
    )
    coach = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="appointments",
        verbose_name=_("coach"),
    )
    location = models.ForeignKey(
        Location,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appointments",
        verbose_name=_("location"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PLANNED
    )
    confirmation_sent_at = models.DateTimeField(_("confirmation sent"), null=True, blank=True)

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        indexes = [
            models.Index(fields=["location", "starts_at"]),
            models.Index(fields=["coach", "starts_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M} {self.get_kind_display()}"

    @property
    def ends_at(self) -> datetime.datetime:
        return self.starts_at + datetime.timedelta(minutes=self.duration_minutes)


class EscalationReason(models.TextChoices):
    DYSFUNCTIONAL_THOUGHTS = "thoughts", _('dysfunctional thoughts ("I can\'t do it anyway")')
    ANXIETY_GLOOM = "anxiety", _("anxiety or gloom")
    PSYCHIATRIC = "psychiatric", _("psychiatric complaints")
    REPEATED_RELAPSE = "relapse", _("repeated relapse after several quit attempts")


class Escalation(models.Model):
    """The coach's request for extra sessions by the POH-GGZ of the patient's practice."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        RETURNED = "returned", _("returned to the coach")
        STOPPED = "stopped", _("care stopped")

    trajectory = models.ForeignKey(Trajectory, on_delete=models.CASCADE, related_name="escalations")
    practice = models.ForeignKey(
        Practice,
        on_delete=models.PROTECT,
        related_name="escalations",
        verbose_name=_("practice of the POH-GGZ"),
    )
    reason = models.CharField(_("reason"), max_length=12, choices=EscalationReason.choices)
    explanation = models.TextField(_("explanation"), max_length=4000)
    created_at = models.DateTimeField(_("escalated"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("coach"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    poh_ggz = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("POH-GGZ"),
    )
    report = models.TextField(_("report back"), max_length=8000, blank=True)
    reported_at = models.DateTimeField(_("reported back"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("escalation to the POH-GGZ")
        verbose_name_plural = _("escalations to the POH-GGZ")
        constraints = [
            models.UniqueConstraint(
                fields=["trajectory"], condition=Q(status="open"), name="one_open_escalation"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} ({self.get_status_display()})"


class GgzSession(models.Model):
    """A session of the POH-GGZ. Its notes are mental-health data: POH-GGZ and the coach only."""

    escalation = models.ForeignKey(Escalation, on_delete=models.CASCADE, related_name="sessions")
    date = models.DateField(_("date"))
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"), validators=[MinValueValidator(1), MaxValueValidator(240)]
    )
    notes = models.TextField(_("notes"), max_length=8000, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["date", "pk"]
        verbose_name = _("POH-GGZ session")
        verbose_name_plural = _("POH-GGZ sessions")

    def __str__(self) -> str:
        return f"{self.date}"


class RelapsePreventionGroup(models.Model):
    """Relapse prevention by the POH-GGZ: 8 meetings a year at a location; join at any meeting."""

    MEETINGS_PER_YEAR = 8

    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="groups", verbose_name=_("location")
    )
    year = models.PositiveSmallIntegerField(
        _("year"), validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    is_zorggroep_shared = models.BooleanField(
        _("shared group of the zorggroep"),
        default=False,
        help_text=_(
            "Open to quitters of every practice of the zorggroep. The POH-GGZ sees a participant "
            "of another practice by name only when the patient's consent for that is recorded."
        ),
    )

    class Meta:
        ordering = ["-year", "location"]
        verbose_name = _("relapse-prevention group")
        verbose_name_plural = _("relapse-prevention groups")
        constraints = [
            models.UniqueConstraint(fields=["location", "year"], name="one_group_per_location_year")
        ]

    def __str__(self) -> str:
        return self.name or f"{_('Relapse prevention')} {self.location} {self.year}"


class GroupMeeting(models.Model):
    group = models.ForeignKey(
        RelapsePreventionGroup, on_delete=models.CASCADE, related_name="meetings"
    )
    number = models.PositiveSmallIntegerField(
        _("meeting"), validators=[MinValueValidator(1), MaxValueValidator(8)]
    )
    starts_at = models.DateTimeField(_("date and time"))
    theme = models.CharField(_("theme"), max_length=200)
    facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("facilitating POH-GGZ"),
    )

    class Meta:
        ordering = ["group", "number"]
        verbose_name = _("group meeting")
        verbose_name_plural = _("group meetings")
        constraints = [
            models.UniqueConstraint(fields=["group", "number"], name="meeting_number_unique"),
            models.CheckConstraint(
                condition=Q(number__gte=1, number__lte=8), name="meeting_number_1_to_8"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number}. {self.theme}"


class GroupParticipant(models.Model):
    group = models.ForeignKey(
        RelapsePreventionGroup, on_delete=models.CASCADE, related_name="participants"
    )
    trajectory = models.ForeignKey(
        Trajectory, on_delete=models.PROTECT, related_name="group_memberships"
    )
    joined_at = models.ForeignKey(
        GroupMeeting,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("joined at meeting"),
    )
    left_on = models.DateField(_("left on"), null=True, blank=True)
    left_reason = models.CharField(_("reason for leaving"), max_length=200, blank=True)
    sharing_consent_at = models.DateTimeField(
        _("consent to be named in the shared group"), null=True, blank=True
    )
    sharing_consent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("consent recorded by"),
    )

    class Meta:
        verbose_name = _("group participant")
        verbose_name_plural = _("group participants")
        constraints = [
            models.UniqueConstraint(
                fields=["group", "trajectory"], name="participant_once_per_group"
            )
        ]

    def __str__(self) -> str:
        return str(self.trajectory.patient)

    @property
    def is_active(self) -> bool:
        return self.left_on is None


class Attendance(models.Model):
    class Status(models.TextChoices):
        PRESENT = "present", _("present")
        ABSENT_NOTICE = "absent_notice", _("absent with notice")
        NO_SHOW = "no_show", _("no-show")

    meeting = models.ForeignKey(GroupMeeting, on_delete=models.CASCADE, related_name="attendances")
    participant = models.ForeignKey(
        GroupParticipant, on_delete=models.CASCADE, related_name="attendances"
    )
    status = models.CharField(_("attendance"), max_length=14, choices=Status.choices)

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendances")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "participant"], name="attendance_once")
        ]

    def __str__(self) -> str:
        return f"{self.meeting} {self.get_status_display()}"
