"""Reads for the caseload, the trajectory page and the POH-GGZ inbox, scoped and query-bounded."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carechain.access import Actor
from carechain.rows import choice_labels, dmy, url_for_pk
from carechain.validators import normalise_bsn

from .access import escalations_for_poh_ggz, trajectories_for
from .models import (
    Appointment,
    Contact,
    Escalation,
    GgzSession,
    SmokingStatus,
    Trajectory,
    TrajectoryEvent,
)
from .models import TrajectoryState as T

CONTACT_INTERVAL = datetime.timedelta(days=14)
ESCALATION_REPORT_WITHIN = datetime.timedelta(days=28)
CASELOAD_STATES = [
    T.INTAKE_PLANNED,
    T.INTAKE_DONE,
    T.COUNSELLING,
    T.ESCALATED,
    T.END_OF_TREATMENT,
    T.FOLLOW_UP_DUE,
]


@dataclass(frozen=True)
class NextAction:
    label: str
    due: datetime.date | None

    def overdue(self, today: datetime.date) -> bool:
        return self.due is not None and self.due < today


def caseload(
    actor: Actor,
    *,
    coach_id=None,
    state: str = "",
    location_id=None,
    practice_id=None,
    query: str = "",
) -> QuerySet[Trajectory]:
    """Active and follow-up trajectories with what the next action needs, in one query."""
    now = timezone.now()
    next_appointment = Appointment.objects.filter(
        trajectory=OuterRef("pk"), status=Appointment.Status.PLANNED, starts_at__gte=now
    ).order_by("starts_at")
    latest_contact = Contact.objects.filter(trajectory=OuterRef("pk")).order_by("-date", "-pk")
    latest_date = Contact.objects.filter(trajectory=OuterRef("pk")).order_by("-date")
    open_escalation = Escalation.objects.filter(
        trajectory=OuterRef("pk"), status=Escalation.Status.OPEN
    )
    qs = trajectories_for(actor).filter(state__in=CASELOAD_STATES)
    if coach_id:
        qs = qs.filter(coach_id=coach_id)
    if state:
        qs = qs.filter(state=state)
    if practice_id:
        qs = qs.filter(practice_id=practice_id)
    if location_id:
        qs = qs.filter(
            pk__in=Appointment.objects.filter(location_id=location_id).values("trajectory_id")
        )
    if query:
        compact = normalise_bsn(query)
        if compact.isdigit():
            qs = qs.filter(patient__bsn=compact)
        else:
            qs = qs.filter(
                Q(patient__last_name__icontains=query) | Q(patient__first_name__icontains=query)
            )
    return (
        qs.select_related("patient", "practice", "coach", "referral")
        .annotate(
            next_appointment_at=Subquery(next_appointment.values("starts_at")[:1]),
            # A correlated subquery, not Max() over a join: no GROUP BY over the whole scope.
            last_contact_date=Subquery(latest_date.values("date")[:1]),
            latest_status=Subquery(latest_contact.values("smoking_status")[:1]),
            escalated_at=Subquery(open_escalation.values("created_at")[:1]),
        )
        .order_by("state_changed_at", "pk")
    )


def next_action(trajectory: Trajectory) -> NextAction:
    """What the coach has to do next for this trajectory, and by when."""
    appointment_day = (
        timezone.localdate(trajectory.next_appointment_at)
        if trajectory.next_appointment_at
        else None
    )
    state = trajectory.state
    if state == T.INTAKE_PLANNED:
        if trajectory.referral.first_contact_at is None and appointment_day is None:
            return NextAction(_("first contact"), trajectory.referral.first_contact_due)
        return NextAction(_("intake"), appointment_day)
    if state == T.INTAKE_DONE:
        return NextAction(_("quit date"), trajectory.quit_date)
    if state == T.COUNSELLING:
        if appointment_day:
            return NextAction(_("next contact"), appointment_day)
        last = trajectory.last_contact_date or trajectory.intake_date
        return NextAction(_("next contact"), last + CONTACT_INTERVAL if last else None)
    if state == T.ESCALATED:
        started = trajectory.escalated_at
        return NextAction(
            _("report back from the POH-GGZ"),
            timezone.localdate(started + ESCALATION_REPORT_WITHIN) if started else None,
        )
    if state in (T.END_OF_TREATMENT, T.FOLLOW_UP_DUE):
        return NextAction(_("follow-up call"), trajectory.follow_up_due)
    return NextAction("", None)


def caseload_rows(trajectories: list[Trajectory]) -> list[dict]:
    """What each row of the caseload shows, as plain values (``carechain.rows`` says why)."""
    today = timezone.localdate()
    now = timezone.now()
    detail_url = url_for_pk("trajectory-detail")
    state_labels = choice_labels(T)
    status_labels = choice_labels(SmokingStatus)
    rows = []
    for t in trajectories:
        action = next_action(t)
        patient = t.patient
        rows.append(
            {
                "t": t,
                "url": detail_url(t.pk),
                "patient": patient.full_name,
                "birth_date": dmy(patient.birth_date),
                "practice": t.practice.name,
                "ketenzorg": t.referral.is_ketenzorg,
                "state": t.state,
                "state_label": state_labels.get(t.state, t.state),
                "days_in_state": t.days_in_state(now),
                "latest_status": status_labels[t.latest_status] if t.latest_status else "",
                "action": action,
                "action_label": str(action.label),
                "due": dmy(action.due),
                "overdue": action.overdue(today),
                "coach": str(t.coach) if t.coach else "",
            }
        )
    return rows


def trajectory_page(actor: Actor, pk) -> Trajectory:
    return (
        trajectories_for(actor)
        .select_related("patient", "practice", "provider", "coach", "referral")
        .prefetch_related(
            Prefetch("events", queryset=TrajectoryEvent.objects.select_related("by")),
            Prefetch("contacts", queryset=Contact.objects.select_related("location", "coach")),
            Prefetch(
                "appointments",
                queryset=Appointment.objects.select_related("location__practice", "coach"),
            ),
            Prefetch(
                "escalations",
                queryset=Escalation.objects.select_related(
                    "created_by", "poh_ggz"
                ).prefetch_related(
                    Prefetch("sessions", queryset=GgzSession.objects.select_related("by"))
                ),
            ),
        )
        .get(pk=pk)
    )


def poh_ggz_inbox(actor: Actor, *, status: str = Escalation.Status.OPEN) -> QuerySet[Escalation]:
    qs = escalations_for_poh_ggz(actor).select_related(
        "trajectory__patient", "trajectory__coach", "created_by"
    )
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("created_at", "pk")
