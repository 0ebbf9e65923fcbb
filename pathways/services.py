"""Trajectory use cases. Views, the API, tasks and tests all call these functions.

Every state change goes through ``_transition``: lock the row, check who acts, check the state the
person saw is still the state in the database ("changed meanwhile, reload"), run the FSM
transition, log the event and the audit row, and keep the referral's closed-loop status in step.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, can_proceed

from audit.models import AuditEvent
from audit.services import audit_record, audit_record_rows
from carechain.access import Actor
from carechain.models import Location
from carechain.services import coach_of_provider
from referrals import services as referral_services
from referrals.letters import letter_queue
from referrals.models import FeedbackLetter, ReferralState, pack_years

from .access import (
    is_coach_of_provider,
    is_planner_of_provider,
    is_poh_ggz_of_practice,
    trajectories_for,
)
from .models import (
    ACTIVE_STATES,
    PRESCRIPTION_MEDICATION,
    Appointment,
    Contact,
    Escalation,
    EscalationReason,
    FollowUpOutcome,
    GgzSession,
    GroupParticipant,
    Medication,
    Outcome,
    SmokingStatus,
    Trajectory,
    TrajectoryEvent,
)
from .models import TrajectoryState as T


class ChangedMeanwhile(ValidationError):
    """Someone else changed the trajectory after this person loaded it."""


class TransitionRefused(ValidationError):
    """The action is not possible in the trajectory's current state or condition."""


def _label(actor: Actor) -> str:
    return str(actor.user) if actor.user is not None else (actor.audit_api_key or actor.channel)


def _event(trajectory, actor, action, *, before="", note="") -> TrajectoryEvent:
    return TrajectoryEvent.objects.create(
        trajectory=trajectory,
        by=actor.user,
        by_label=_label(actor),
        action=action,
        from_state=before,
        to_state=trajectory.state,
        note=note[:1000],
    )


def _load(actor: Actor, trajectory_id, *, scoped: bool = True) -> Trajectory:
    try:
        trajectory = (
            Trajectory.objects.select_for_update()
            .select_related("patient", "practice", "referral")
            .get(pk=trajectory_id)
        )
    except (Trajectory.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if scoped and not trajectories_for(actor).filter(pk=trajectory.pk).exists():
        raise Http404
    return trajectory


def _transition(
    *,
    actor: Actor,
    trajectory_id,
    name: str,
    expected_state: str | None = None,
    note: str = "",
    who=is_coach_of_provider,
    scoped: bool = True,
    **kwargs,
) -> Trajectory:
    trajectory = _load(actor, trajectory_id, scoped=scoped)
    if not who(actor, trajectory):
        raise PermissionDenied
    if expected_state is not None and trajectory.state != expected_state:
        raise ChangedMeanwhile(
            _(
                "The trajectory was changed meanwhile by someone else (now: %(state)s). Reload the page."
            )
            % {"state": trajectory.get_state_display()},
            code="changed_meanwhile",
        )
    method = getattr(trajectory, name)
    if not can_proceed(method):
        raise TransitionRefused(
            _("This is not possible while the trajectory is '%(state)s'.")
            % {"state": trajectory.get_state_display()},
            code="invalid_transition",
        )
    before = trajectory.state
    method(**kwargs)
    trajectory.full_clean(exclude=["state", "referral", "patient", "practice", "provider", "coach"])
    trajectory.state_changed_at = timezone.now()
    try:
        trajectory.save()
    except ConcurrentTransition:
        raise ChangedMeanwhile(
            _("The trajectory was changed meanwhile by someone else. Reload the page."),
            code="changed_meanwhile",
        ) from None
    _event(trajectory, actor, name, before=before, note=note)
    audit_record(
        who=actor,
        action=AuditEvent.Action.CHANGE,
        patient_id=trajectory.patient_id,
        obj=trajectory,
        detail=name,
    )
    return trajectory


def _nl(label) -> str:
    """Letters are Dutch whatever language the coach's browser uses."""
    with translation.override("nl"):
        return str(label)


def _iso(day) -> str | None:
    return day.isoformat() if day else None


def _letter(trajectory: Trajectory, kind: str, moment: dict, key: str | None = None) -> None:
    letter_queue(
        referral=trajectory.referral, kind=kind, moment=moment, key=key, coach=trajectory.coach
    )


def _medication_labels(codes) -> list[str]:
    return [_nl(Medication(c).label) for c in codes if c in Medication.values]


def _sync_referral_completed(actor: Actor, trajectory: Trajectory) -> None:
    """The referral's loop closes when the trajectory ends for good."""
    if trajectory.referral.state == ReferralState.IN_PROGRESS:
        referral_services.referral_complete_from_trajectory(
            actor=actor, referral_id=trajectory.referral_id
        )


# -- opening ------------------------------------------------------------------------------------
def trajectory_open_for_referral(*, referral, actor: Actor) -> Trajectory:
    """Called when a referral is accepted (settings.REFERRAL_ACCEPTED_HANDLER). Idempotent."""
    trajectory, created = Trajectory.objects.get_or_create(
        referral=referral,
        defaults={
            "patient_id": referral.patient_id,
            "practice_id": referral.practice_id,
            "provider_id": referral.provider_id,
            "coach_id": referral.coach_id,
            "cigarettes_per_day": referral.cigarettes_per_day,
            "years_smoked": referral.years_smoked,
            "earlier_quit_attempts": referral.earlier_quit_attempts,
        },
    )
    if created:
        _event(trajectory, actor, "opened", note=_("Opened from the accepted referral."))
        audit_record(
            who=actor,
            action=AuditEvent.Action.CREATE,
            patient_id=trajectory.patient_id,
            obj=trajectory,
        )
    return trajectory


# -- the coach's transitions ---------------------------------------------------------------------
@transaction.atomic
def trajectory_record_intake(
    *,
    actor: Actor,
    trajectory_id,
    expected_state=None,
    intake_date: datetime.date,
    duration_minutes: int,
    location: Location | None = None,
    cigarettes_per_day: int,
    years_smoked: int | None,
    earlier_quit_attempts: int | None,
    is_motivated: bool,
    medication_plan: list[str],
    quit_date: datetime.date | None,
    note: str = "",
) -> Trajectory:
    if quit_date and quit_date < intake_date:
        raise ValidationError({"quit_date": _("The quit date cannot lie before the intake.")})
    trajectory = _transition(
        actor=actor,
        trajectory_id=trajectory_id,
        name="record_intake",
        expected_state=expected_state,
        intake_date=intake_date,
        cigarettes_per_day=cigarettes_per_day,
        years_smoked=years_smoked,
        earlier_quit_attempts=earlier_quit_attempts,
        is_motivated=is_motivated,
        medication_plan=medication_plan,
        quit_date=quit_date,
        note=note,
    )
    Contact.objects.create(
        trajectory=trajectory,
        kind="intake",
        date=intake_date,
        duration_minutes=duration_minutes,
        location=location,
        coach=actor.user,
        smoking_status=SmokingStatus.SMOKING,
        cigarettes_per_day=cigarettes_per_day,
        medication=[],
        still_motivated=is_motivated,
        notes=note,
    )
    if trajectory.coach_id is None:
        trajectory.coach = actor.user
        trajectory.save(update_fields=["coach"])
    if trajectory.referral.state in (
        ReferralState.ACCEPTED,
        ReferralState.SCHEDULED,
        ReferralState.NO_SHOW,
    ):
        referral_services.referral_record_contact_done(
            actor=actor, referral_id=trajectory.referral_id, note=_("Intake done.")
        )
    _letter(
        trajectory,
        FeedbackLetter.Kind.INTAKE_DONE,
        {
            "intake_date": _iso(intake_date),
            "cigarettes_per_day": cigarettes_per_day,
            "years_smoked": years_smoked,
            "earlier_quit_attempts": earlier_quit_attempts,
            "pack_years": str(pack_years(cigarettes_per_day, years_smoked) or "").replace(".", ","),
            "motivated": is_motivated,
            "quit_date": _iso(quit_date),
            "medication": _medication_labels(medication_plan),
            "medication_prescription": _medication_labels(
                [m for m in medication_plan if m in PRESCRIPTION_MEDICATION]
            ),
            "smoking_status_code": SmokingStatus.SMOKING,
            "medication_codes": list(medication_plan),
        },
    )
    return trajectory


@transaction.atomic
def trajectory_start_counselling(
    *, actor: Actor, trajectory_id, expected_state=None, note=""
) -> Trajectory:
    return _transition(
        actor=actor,
        trajectory_id=trajectory_id,
        name="start_counselling",
        expected_state=expected_state,
        note=note,
    )


@transaction.atomic
def trajectory_escalate(
    *, actor: Actor, trajectory_id, reason: str, explanation: str, expected_state=None
) -> Escalation:
    """Hand the patient to the POH-GGZ of their practice, only while still motivated."""
    if reason not in EscalationReason.values:
        raise ValidationError({"reason": _("Choose a reason from the list.")})
    if not explanation.strip():
        raise ValidationError({"explanation": _("Explain what blocks the quit attempt.")})
    trajectory = _transition(
        actor=actor,
        trajectory_id=trajectory_id,
        name="escalate",
        expected_state=expected_state,
        note=EscalationReason(reason).label,
    )
    escalation = Escalation.objects.create(
        trajectory=trajectory,
        practice_id=trajectory.practice_id,
        reason=reason,
        explanation=explanation,
        created_by=actor.user,
    )
    _letter(
        trajectory,
        FeedbackLetter.Kind.ESCALATED,
        {
            "date": _iso(timezone.localdate()),
            "reason": _nl(EscalationReason(reason).label),
            "reason_text": _nl(EscalationReason(reason).label).split(" (")[0],
        },
        key=f"escalated:{escalation.pk}",
    )
    return escalation


@transaction.atomic
def trajectory_record_contact(
    *,
    actor: Actor,
    trajectory_id,
    kind: str,
    date: datetime.date,
    duration_minutes: int,
    smoking_status: str,
    location: Location | None = None,
    cigarettes_per_day: int | None = None,
    co_ppm: int | None = None,
    medication: list[str] = (),
    still_motivated: bool = True,
    notes: str = "",
) -> Contact:
    """Record a contact. Smoking again and no longer motivated stops care (the seed's rule)."""
    trajectory = _load(actor, trajectory_id)
    if not is_coach_of_provider(actor, trajectory):
        raise PermissionDenied
    if trajectory.state not in (T.INTAKE_DONE, T.COUNSELLING, T.ESCALATED):
        raise TransitionRefused(
            _("Contacts are recorded between intake and end of treatment."),
            code="invalid_transition",
        )
    contact = Contact(
        trajectory=trajectory,
        kind=kind,
        date=date,
        duration_minutes=duration_minutes,
        location=location,
        coach=actor.user,
        smoking_status=smoking_status,
        cigarettes_per_day=cigarettes_per_day,
        co_ppm=co_ppm,
        medication=list(medication),
        still_motivated=still_motivated,
        notes=notes,
    )
    contact.full_clean(exclude=["trajectory", "coach"])
    if date > timezone.localdate():
        raise ValidationError(
            {"date": _("A contact cannot lie in the future; plan an appointment.")}
        )
    contact.save()
    audit_record(
        who=actor,
        action=AuditEvent.Action.CHANGE,
        patient_id=trajectory.patient_id,
        obj=contact,
        detail="contact",
    )
    if smoking_status == SmokingStatus.SMOKING:
        _leave_groups(trajectory, reason=_("smokes again"))
    if trajectory.is_motivated != still_motivated:
        Trajectory.objects.filter(pk=trajectory.pk).update(is_motivated=still_motivated)
    if smoking_status == SmokingStatus.SMOKING and not still_motivated:
        _stop_unmotivated(actor, trajectory.pk, _("Smokes again and is no longer motivated."))
    return contact


def _stop_unmotivated(
    actor: Actor, trajectory_id, reason: str, *, letter_note: str | None = None
) -> Trajectory:
    trajectory = _transition(
        actor=actor,
        trajectory_id=trajectory_id,
        name="stop_unmotivated",
        reason=reason,
        note=reason,
        who=lambda a, t: is_coach_of_provider(a, t) or is_poh_ggz_of_practice(a, t),
    )
    _care_stopped(
        actor,
        trajectory,
        _("no longer motivated"),
        reason if letter_note is None else letter_note,
    )
    return trajectory


def _care_stopped(actor: Actor, trajectory: Trajectory, why: str, reason: str) -> None:
    """Care ends for everyone: open escalations stop, groups are left, the referral's loop closes
    and the practice gets a letter."""
    Escalation.objects.filter(trajectory=trajectory, status=Escalation.Status.OPEN).update(
        status=Escalation.Status.STOPPED
    )
    _leave_groups(trajectory, reason=reason)
    _sync_referral_completed(actor, trajectory)
    _care_stopped_letter(trajectory, why, reason)


def _care_stopped_letter(trajectory: Trajectory, why: str, note: str) -> None:
    latest = trajectory.contacts.order_by("-date", "-pk").first()
    _letter(
        trajectory,
        FeedbackLetter.Kind.CARE_STOPPED,
        {
            "date": _iso(timezone.localdate()),
            "reason": _nl(why),
            "note": note,
            "last_status": _nl(SmokingStatus(latest.smoking_status).label) if latest else "",
            "smoking_status_code": latest.smoking_status if latest else "",
        },
    )


@transaction.atomic
def trajectory_stop_unmotivated(
    *, actor: Actor, trajectory_id, reason: str, expected_state=None
) -> Trajectory:
    if expected_state is not None:
        current = _load(actor, trajectory_id).state
        if current != expected_state:
            raise ChangedMeanwhile(
                _("The trajectory was changed meanwhile by someone else. Reload the page."),
                code="changed_meanwhile",
            )
    return _stop_unmotivated(actor, trajectory_id, reason or _("No longer motivated."))


@transaction.atomic
def trajectory_drop_out(
    *, actor: Actor, trajectory_id, reason: str, expected_state=None
) -> Trajectory:
    trajectory = _transition(
        actor=actor,
        trajectory_id=trajectory_id,
        name="drop_out",
        expected_state=expected_state,
        reason=reason,
        note=reason,
    )
    _care_stopped(actor, trajectory, _("dropped out / unreachable"), reason)
    return trajectory


@transaction.atomic
def trajectory_end_treatment(
    *,
    actor: Actor,
    trajectory_id,
    end_date: datetime.date,
    result: str,
    co_ppm: int | None = None,
    expected_state=None,
    note: str = "",
) -> Trajectory:
    trajectory = _transition(
        actor=actor,
        trajectory_id=trajectory_id,
        name="end_treatment",
        expected_state=expected_state,
        end_date=end_date,
        result=result,
        co_ppm=co_ppm,
        note=note,
    )
    Escalation.objects.filter(trajectory=trajectory, status=Escalation.Status.OPEN).update(
        status=Escalation.Status.RETURNED
    )
    medication = sorted({m for c in trajectory.contacts.all() for m in c.medication})
    _letter(
        trajectory,
        FeedbackLetter.Kind.END_OF_TREATMENT,
        {
            "end_date": _iso(end_date),
            "quit_date": _iso(trajectory.quit_date),
            "result": _nl(Outcome(result).label),
            "co_ppm": co_ppm,
            "contacts": trajectory.contacts.count(),
            "medication": _medication_labels(medication),
            "follow_up_due": _iso(trajectory.follow_up_due),
            "smoking_status_code": result,
            "medication_codes": medication,
        },
    )
    return trajectory


@transaction.atomic
def trajectory_mark_follow_up_due(*, actor: Actor, trajectory_id) -> Trajectory:
    """The daily reminder scan (a system task, not a person) marks the call as due."""
    return _transition(
        actor=actor,
        trajectory_id=trajectory_id,
        name="mark_follow_up_due",
        who=lambda a, t: True,
        scoped=False,
    )


def trajectories_mark_follow_up_due(*, actor: Actor, due_by: datetime.date) -> list[int]:
    """Set form of ``trajectory_mark_follow_up_due`` for the daily scan: every trajectory at the end
    of treatment whose call falls due by ``due_by`` moves to follow-up due in one UPDATE, and gets
    the same timeline event and audit row the one-by-one service writes. Returns the ids moved.

    The same UPDATE sets ``follow_up_reminder_open``: the scan, its only caller, makes the call's
    reminder for exactly these ids in the same transaction (``reminders.services``). Setting the
    flag here rather than in a second UPDATE of the same rows halves what marking costs (each
    UPDATE of a trajectory writes all its indexes). The one-by-one service leaves the flag unset,
    so the scan makes that trajectory's reminder on its next run.

    Two scans at once mark each trajectory once: PostgreSQL re-checks ``state`` under the row lock
    the first scan holds, so the second skips what the first moved (on SQLite the one writer
    serialises them). A coach acting on the trajectory meanwhile holds the same row lock.
    """
    source, target, name = T.END_OF_TREATMENT, T.FOLLOW_UP_DUE, "mark_follow_up_due"
    # Table names come from the models; every value is a parameter.
    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    trajectories, events = Trajectory._meta.db_table, TrajectoryEvent._meta.db_table
    due = ops.adapt_datefield_value(due_by)
    moving = "WHERE state = %s AND follow_up_due <= %s"
    if connection.vendor == "postgresql":
        # The ids first, from trajectory_follow_up_calls alone (an InitPlan): the planner cannot
        # know that few trajectories at the end of treatment are due (state and due date are
        # correlated; it guesses 20,000 of 25,000 at 1M) and would otherwise read every one of
        # them from the heap through the state index (docs/explain/reminder_scan.md, round 3).
        # The outer condition is re-checked under each row's lock.
        moving = (
            f"WHERE id = ANY(ARRAY(SELECT id FROM {trajectories} {moving})) "  # noqa: S608
            "AND state = %s AND follow_up_due <= %s"
        )
        moving_params = [source, due, source, due]
    else:
        moving_params = [source, due]
    update = (
        f"UPDATE {trajectories} SET state = %s, state_changed_at = %s, "  # noqa: S608
        f"follow_up_reminder_open = %s {moving} RETURNING id, patient_id"
    )
    update_params = [target, now, True, *moving_params]
    insert = (
        f"INSERT INTO {events} (trajectory_id, at, by_id, by_label, action, from_state,"  # noqa: S608
        " to_state, note) SELECT id, %s, %s, %s, %s, %s, %s, '' FROM "
    )
    event_params = [now, actor.user.pk if actor.user else None, _label(actor), name, source, target]
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One statement: the events come from exactly the rows this UPDATE moved.
            cursor.execute(
                f"WITH marked AS ({update}), logged AS ({insert} marked) "  # noqa: S608
                "SELECT id, patient_id FROM marked",
                [*update_params, *event_params],
            )
            marked = cursor.fetchall()
        else:
            cursor.execute(update, update_params)
            marked = cursor.fetchall()
            # The database is locked for this writer: the rows in the target state changed at
            # this very moment are the ones just moved.
            cursor.execute(
                f"{insert} {trajectories} WHERE state = %s AND state_changed_at = %s",
                [*event_params, target, now],
            )
        # One INSERT for the audit rows of every trajectory moved (the rows audit_record_many
        # writes, without a model instance per row).
        audit_record_rows(
            who=actor,
            action=AuditEvent.Action.CHANGE,
            model=Trajectory,
            rows=[(patient_id, pk) for pk, patient_id in marked],
            detail=name,
        )
    return [pk for pk, _patient_id in marked]


@transaction.atomic
def trajectory_record_follow_up(
    *,
    actor: Actor,
    trajectory_id,
    call_date: datetime.date,
    result: str,
    co_ppm: int | None = None,
    expected_state=None,
    note: str = "",
) -> Trajectory:
    """The coach's call a year after quitting; closing records the 12-month result."""
    trajectory = _transition(
        actor=actor,
        trajectory_id=trajectory_id,
        name="close_with_follow_up",
        expected_state=expected_state,
        call_date=call_date,
        result=result,
        co_ppm=co_ppm,
        note=note,
    )
    _sync_referral_completed(actor, trajectory)
    _letter(
        trajectory,
        FeedbackLetter.Kind.FOLLOW_UP_RESULT,
        {
            "call_date": _iso(call_date),
            "quit_date": _iso(trajectory.quit_date),
            "result": _nl(FollowUpOutcome(result).label),
            "co_ppm": co_ppm,
            "smoking_status_code": result,
        },
    )
    return trajectory


@transaction.atomic
def trajectory_reassign(*, actor: Actor, trajectory_id, coach_id) -> Trajectory:
    trajectory = _load(actor, trajectory_id)
    if not is_planner_of_provider(actor, trajectory):
        raise PermissionDenied
    coach = coach_of_provider(provider_id=trajectory.provider_id, user_id=coach_id)
    trajectory.coach = coach
    Trajectory.objects.filter(pk=trajectory.pk).update(coach=coach)
    _event(
        trajectory,
        actor,
        "reassigned",
        before=trajectory.state,
        note=_("Reassigned to %(coach)s.") % {"coach": coach},
    )
    audit_record(
        who=actor,
        action=AuditEvent.Action.CHANGE,
        patient_id=trajectory.patient_id,
        obj=trajectory,
        detail="reassigned",
    )
    return trajectory


# -- the POH-GGZ ---------------------------------------------------------------------------------
def _open_escalation(actor: Actor, escalation_id) -> Escalation:
    try:
        escalation = (
            Escalation.objects.select_for_update()
            .select_related("trajectory")
            .get(pk=escalation_id)
        )
    except (Escalation.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not is_poh_ggz_of_practice(actor, escalation.trajectory):
        raise Http404
    if escalation.status != Escalation.Status.OPEN:
        raise TransitionRefused(_("This escalation is already closed."), code="invalid_transition")
    return escalation


@transaction.atomic
def escalation_record_session(
    *, actor: Actor, escalation_id, date: datetime.date, duration_minutes: int, notes: str = ""
) -> GgzSession:
    escalation = _open_escalation(actor, escalation_id)
    session = GgzSession(
        escalation=escalation,
        date=date,
        duration_minutes=duration_minutes,
        notes=notes,
        by=actor.user,
    )
    session.full_clean(exclude=["escalation", "by"])
    if date > timezone.localdate():
        raise ValidationError({"date": _("A session cannot lie in the future.")})
    session.save()
    if escalation.poh_ggz_id is None:
        Escalation.objects.filter(pk=escalation.pk).update(poh_ggz=actor.user)
    audit_record(
        who=actor,
        action=AuditEvent.Action.CHANGE,
        patient_id=escalation.trajectory.patient_id,
        obj=session,
        detail="POH-GGZ session",
    )
    return session


@transaction.atomic
def escalation_report_back(*, actor: Actor, escalation_id, report: str) -> Escalation:
    """The POH-GGZ reports back; the patient returns to the coach (back to counselling)."""
    if not report.strip():
        raise ValidationError({"report": _("Write the report back for the coach.")})
    escalation = _open_escalation(actor, escalation_id)
    _transition(
        actor=actor,
        trajectory_id=escalation.trajectory_id,
        name="return_from_escalation",
        who=is_poh_ggz_of_practice,
        note=_("Returned from the POH-GGZ."),
    )
    escalation.report = report
    escalation.reported_at = timezone.now()
    escalation.status = Escalation.Status.RETURNED
    escalation.poh_ggz = escalation.poh_ggz or actor.user
    escalation.save()
    _letter(
        escalation.trajectory,
        FeedbackLetter.Kind.ESCALATION_RETURNED,
        {"date": _iso(timezone.localdate()), "sessions": escalation.sessions.count()},
        key=f"returned:{escalation.pk}",
    )
    return escalation


@transaction.atomic
def escalation_stop_care(*, actor: Actor, escalation_id, reason: str) -> Escalation:
    """Smoking again and no longer motivated during the escalation: care stops for both."""
    escalation = _open_escalation(actor, escalation_id)
    escalation.report = reason
    escalation.reported_at = timezone.now()
    escalation.poh_ggz = escalation.poh_ggz or actor.user
    escalation.save()
    # The POH-GGZ's words stay in the mental-health record; the practice's letter and feedback
    # Bundle only say that care stopped during the escalation.
    with translation.override("nl"):
        letter_note = _("Care stopped during the escalation to the POH-GGZ.")
    _stop_unmotivated(
        actor,
        escalation.trajectory_id,
        reason or _("No longer motivated."),
        letter_note=letter_note,
    )
    escalation.refresh_from_db()
    return escalation


# -- appointments ---------------------------------------------------------------------------------
@transaction.atomic
def appointment_book(
    *,
    actor: Actor,
    trajectory_id,
    kind: str,
    starts_at: datetime.datetime,
    duration_minutes: int,
    coach_id,
    location: Location | None = None,
) -> Appointment:
    """Plan a contact. A room is never double-booked, nor a coach in two places at once."""
    trajectory = _load(actor, trajectory_id)
    if not (is_coach_of_provider(actor, trajectory) or is_planner_of_provider(actor, trajectory)):
        raise PermissionDenied
    if trajectory.state not in ACTIVE_STATES:
        raise TransitionRefused(
            _("Appointments are for active trajectories."), code="invalid_transition"
        )
    coach = coach_of_provider(provider_id=trajectory.provider_id, user_id=coach_id)
    if kind in ("location", "intake", "group") and location is None:
        raise ValidationError({"location": _("Choose the room for a contact on location.")})
    if location is not None:
        if location.provider_id != trajectory.provider_id or not location.is_active:
            raise ValidationError({"location": _("This room is not available to your provider.")})
        Location.objects.select_for_update().get(pk=location.pk)  # serialise bookings per room
    appointment = Appointment(
        trajectory=trajectory,
        kind=kind,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        coach=coach,
        location=location,
    )
    appointment.full_clean(exclude=["trajectory", "coach", "location"])
    if starts_at < timezone.now() - datetime.timedelta(minutes=5):
        raise ValidationError({"starts_at": _("An appointment cannot be planned in the past.")})
    ends_at = appointment.ends_at
    clashes = Appointment.objects.filter(status=Appointment.Status.PLANNED).exclude(
        pk=appointment.pk
    )
    window = clashes.filter(
        starts_at__lt=ends_at, starts_at__gt=starts_at - datetime.timedelta(hours=4)
    )
    overlapping = [a for a in window.select_related("location") if a.ends_at > starts_at]
    if location is not None and any(a.location_id == location.pk for a in overlapping):
        raise ValidationError({"location": _("This room is already booked at that time.")})
    if any(a.coach_id == coach.pk for a in overlapping):
        raise ValidationError({"coach": _("This coach already has an appointment at that time.")})
    appointment.save()
    _event(
        trajectory,
        actor,
        "appointment",
        before=trajectory.state,
        note=_("Appointment planned: %(when)s")
        % {"when": timezone.localtime(starts_at).strftime("%d-%m-%Y %H:%M")},
    )
    audit_record(
        who=actor,
        action=AuditEvent.Action.CHANGE,
        patient_id=trajectory.patient_id,
        obj=appointment,
        detail="appointment",
    )
    return appointment


def _leave_groups(trajectory: Trajectory, *, reason: str) -> None:
    GroupParticipant.objects.filter(trajectory=trajectory, left_on__isnull=True).update(
        left_on=timezone.localdate(), left_reason=reason[:200]
    )
