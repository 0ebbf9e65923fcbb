"""Reads for the caseload, the trajectory page and the POH-GGZ inbox, scoped and query-bounded."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db.models import (
    Case,
    DateField,
    DateTimeField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carechain.access import Actor
from carechain.models import Location, Patient, Practice, User
from carechain.rows import choice_labels, dmy, url_for_pk
from carechain.services import coach_choices_of_providers
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


# What the coach does next, by kind; lazily translated, so each page translates each kind once.
ACTION_LABELS = {
    "first_contact": _("first contact"),
    "intake": _("intake"),
    "quit_date": _("quit date"),
    "next_contact": _("next contact"),
    "ggz_report": _("report back from the POH-GGZ"),
    "follow_up_call": _("follow-up call"),
    "": "",
}


@dataclass(frozen=True)
class NextAction:
    kind: str
    due: datetime.date | None

    @property
    def label(self) -> str:
        return ACTION_LABELS[self.kind]

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
            # Correlated subqueries, not Max() over a join: no GROUP BY over the whole scope. Each
            # only for the states whose next action reads it (a CASE runs its subquery only when
            # its branch is taken): on a coach's page about half of the 800 lookups.
            next_appointment_at=_only_in(
                [T.INTAKE_PLANNED, T.COUNSELLING],
                Subquery(next_appointment.values("starts_at")[:1]),
                DateTimeField(),
            ),
            last_contact_date=_only_in(
                [T.COUNSELLING], Subquery(latest_date.values("date")[:1]), DateField()
            ),
            latest_status=Subquery(latest_contact.values("smoking_status")[:1]),
            escalated_at=_only_in(
                [T.ESCALATED], Subquery(open_escalation.values("created_at")[:1]), DateTimeField()
            ),
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


def _only_in(states: list[str], value: Subquery, output_field) -> Case:
    return Case(When(state__in=states, then=value), default=None, output_field=output_field)


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
            return NextAction("first_contact", row["referral__first_contact_due"])
        return NextAction("intake", appointment_day)
    if state == T.INTAKE_DONE:
        return NextAction("quit_date", row["quit_date"])
    if state == T.COUNSELLING:
        if appointment_day:
            return NextAction("next_contact", appointment_day)
        last = row["last_contact_date"] or row["intake_date"]
        return NextAction("next_contact", last + CONTACT_INTERVAL if last else None)
    if state == T.ESCALATED:
        started = row["escalated_at"]
        return NextAction(
            "ggz_report",
            timezone.localdate(started + ESCALATION_REPORT_WITHIN) if started else None,
        )
    if state in (T.END_OF_TREATMENT, T.FOLLOW_UP_DUE):
        return NextAction("follow_up_call", row["follow_up_due"])
    return NextAction("", None)


def caseload_rows(trajectories: Iterable[Mapping]) -> list[dict]:
    """What each row of the caseload shows, as plain values (``carechain.rows`` says why)."""
    today = timezone.localdate()
    now = timezone.now()
    detail_url = url_for_pk("trajectory-detail")
    state_labels = choice_labels(T)
    status_labels = choice_labels(SmokingStatus)
    action_labels = {kind: str(label) for kind, label in ACTION_LABELS.items()}
    full_name = Patient.compose_full_name
    coach_name = User.display_name
    rows = []
    for t in trajectories:
        action = next_action(t)
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
                "action_label": action_labels[action.kind],
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


def caseload_filter_choices(provider_ids) -> dict[str, list[tuple[int, str]]]:
    """The caseload filter's coaches, locations and practices as (id, label) pairs."""
    locations = (
        Location.objects.filter(provider_id__in=provider_ids, is_active=True)
        .order_by("practice__name", "name")
        .values_list("pk", "practice__name", "name")
    )
    practices = (
        Practice.objects.filter(
            Q(zorggroep__smr_provider_id__in=provider_ids)
            | Q(locations__provider_id__in=provider_ids)
        )
        .distinct()
        .order_by("name")
        .values_list("pk", "name")
    )
    return {
        "coaches": coach_choices_of_providers(provider_ids),
        "locations": [(pk, Location.display_name(p, name)) for pk, p, name in locations],
        "practices": list(practices),
    }


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
