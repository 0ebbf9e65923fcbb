"""Reads for the caseload, the trajectory page and the POH-GGZ inbox, scoped and query-bounded."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carechain.access import Actor
from carechain.models import Patient, User
from carechain.rows import choice_labels, dmy, url_for_pk
from carechain.validators import normalise_bsn

from .access import escalations_for_poh_ggz, trajectories_for
from .models import (
    CASELOAD_STATES,
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


@dataclass(frozen=True)
class NextAction:
    label: str
    due: datetime.date | None

    def overdue(self, today: datetime.date) -> bool:
        return self.due is not None and self.due < today


# What a caseload row reads: plain columns, no model instances (a page of 200 rows built about
# 1,200 of them: trajectory, patient, practice and its organisation, referral, coach).
CASELOAD_COLUMNS = (
    "pk",
    "patient_id",
    "state",
    "state_changed_at",
    "intake_date",
    "quit_date",
    "follow_up_due",
    "patient__first_name",
    "patient__initials",
    "patient__name_prefix",
    "patient__last_name",
    "patient__birth_date",
    "practice__name",
    "referral__is_ketenzorg",
    "referral__first_contact_at",
    "referral__first_contact_due",
    "coach__first_name",
    "coach__last_name",
    "coach__username",
)


def caseload(
    actor: Actor,
    *,
    coach_id=None,
    state: str = "",
    location_id=None,
    practice_id=None,
    query: str = "",
) -> QuerySet:
    """Active and follow-up trajectories with what the next action needs, in one query.

    Rows are dicts of ``CASELOAD_COLUMNS`` and the annotations below, oldest state first; a
    coach's page reads the partial index ``trajectory_caseload_coach`` in that order and stops at
    the page's limit, a planner's page ``trajectory_caseload_provider`` (docs/explain/caseload.md).
    """
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
        qs.annotate(
            next_appointment_at=Subquery(next_appointment.values("starts_at")[:1]),
            # A correlated subquery, not Max() over a join: no GROUP BY over the whole scope.
            last_contact_date=Subquery(latest_date.values("date")[:1]),
            latest_status=Subquery(latest_contact.values("smoking_status")[:1]),
            escalated_at=Subquery(open_escalation.values("created_at")[:1]),
        )
        .values(
            *CASELOAD_COLUMNS,
            "next_appointment_at",
            "last_contact_date",
            "latest_status",
            "escalated_at",
        )
        .order_by("state_changed_at", "pk")
    )


def next_action(row: Mapping) -> NextAction:
    """What the coach has to do next for this trajectory, and by when.

    ``row``: a row of ``caseload`` (the trajectory's columns, its referral's first contact, and
    the next appointment, last contact and open escalation annotated).
    """
    next_appointment_at = row["next_appointment_at"]
    appointment_day = timezone.localdate(next_appointment_at) if next_appointment_at else None
    state = row["state"]
    if state == T.INTAKE_PLANNED:
        if row["referral__first_contact_at"] is None and appointment_day is None:
            return NextAction(_("first contact"), row["referral__first_contact_due"])
        return NextAction(_("intake"), appointment_day)
    if state == T.INTAKE_DONE:
        return NextAction(_("quit date"), row["quit_date"])
    if state == T.COUNSELLING:
        if appointment_day:
            return NextAction(_("next contact"), appointment_day)
        last = row["last_contact_date"] or row["intake_date"]
        return NextAction(_("next contact"), last + CONTACT_INTERVAL if last else None)
    if state == T.ESCALATED:
        started = row["escalated_at"]
        return NextAction(
            _("report back from the POH-GGZ"),
            timezone.localdate(started + ESCALATION_REPORT_WITHIN) if started else None,
        )
    if state in (T.END_OF_TREATMENT, T.FOLLOW_UP_DUE):
        return NextAction(_("follow-up call"), row["follow_up_due"])
    return NextAction("", None)


def caseload_rows(trajectories: Iterable[Mapping]) -> list[dict]:
    """What each row of the caseload shows, as plain values (``carechain.rows`` says why)."""
    today = timezone.localdate()
    now = timezone.now()
    detail_url = url_for_pk("trajectory-detail")
    state_labels = choice_labels(T)
    status_labels = choice_labels(SmokingStatus)
    labels: dict[object, str] = {}  # each lazily translated action label once per page
    full_name = Patient.compose_full_name
    coach_name = User.display_name
    rows = []
    for t in trajectories:
        action = next_action(t)
        action_label = labels.get(action.label)
        if action_label is None:
            action_label = labels[action.label] = str(action.label)
        state = t["state"]
        rows.append(
            {
                "pk": t["pk"],
                "patient_id": t["patient_id"],
                "url": detail_url(t["pk"]),
                "patient": full_name(
                    t["patient__first_name"],
                    t["patient__initials"],
                    t["patient__name_prefix"],
                    t["patient__last_name"],
                ),
                "birth_date": dmy(t["patient__birth_date"]),
                "practice": t["practice__name"],
                "ketenzorg": t["referral__is_ketenzorg"],
                "state": state,
                "state_label": state_labels.get(state, state),
                "days_in_state": (now - t["state_changed_at"]).days,
                "latest_status": status_labels[t["latest_status"]] if t["latest_status"] else "",
                "action": action,
                "action_label": action_label,
                "due": dmy(action.due),
                "overdue": action.overdue(today),
                "coach": coach_name(
                    t["coach__first_name"], t["coach__last_name"], t["coach__username"]
                )
                if t["coach__username"]
                else "",
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
