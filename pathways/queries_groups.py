"""Reads for the relapse-prevention group pages: scoped by groups.group_filter, fixed query counts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Min, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from carechain.access import Actor
from carechain.models import Role, User

from . import groups
from .access import trajectories_for
from .models import (
    Attendance,
    GroupMeeting,
    GroupParticipant,
    RelapsePreventionGroup,
    SmokingStatus,
    Trajectory,
)


def eligible_trajectories(actor: Actor, group: RelapsePreventionGroup) -> QuerySet[Trajectory]:
    """Quitters of the group's provider who may join now and are not (or no longer) in it."""
    return (
        trajectories_for(actor)
        .filter(provider_id=group.location.provider_id, quit_date__lte=timezone.localdate())
        .exclude(state__in=groups.NOT_JOINABLE_STATES)
        .exclude(group_memberships__group=group)
        .annotate(latest_smoking_status=groups.latest_status_after_intake())
        .filter(
            Q(latest_smoking_status__isnull=True)
            | Q(latest_smoking_status__in=[SmokingStatus.SMOKE_FREE, SmokingStatus.LAPSE])
        )
        .select_related("patient", "coach")
        .order_by("patient__last_name", "patient__first_name", "pk")
    )


def joinable_meetings(group: RelapsePreventionGroup) -> QuerySet[GroupMeeting]:
    """Today's meeting and the ones still to come."""
    return group.meetings.filter(starts_at__gte=groups.today_starts()).order_by("number")


def group_list(actor: Actor) -> QuerySet[RelapsePreventionGroup]:
    """One query: each group with its room, active participants and next meeting."""
    return (
        groups.groups_for(actor)
        .select_related("location__practice", "location__provider")
        .annotate(
            active_participants=Count(
                "participants", filter=Q(participants__left_on__isnull=True), distinct=True
            ),
            next_meeting_at=Min(
                "meetings__starts_at", filter=Q(meetings__starts_at__gte=groups.today_starts())
            ),
        )
        .order_by("-year", "location__practice__name", "location__name", "pk")
    )


def group_for_page(actor: Actor, group_id) -> RelapsePreventionGroup:
    try:
        return (
            groups.groups_for(actor)
            .select_related("location__practice", "location__provider")
            .get(pk=group_id)
        )
    except (RelapsePreventionGroup.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def group_detail(actor: Actor, group_id) -> RelapsePreventionGroup:
    """The group with its meetings, participants and their attendance in four queries."""
    qs = (
        groups.groups_for(actor)
        .select_related("location__practice", "location__provider")
        .prefetch_related(
            Prefetch(
                "meetings",
                queryset=GroupMeeting.objects.select_related("facilitator").order_by("number"),
            ),
            Prefetch(
                "participants",
                queryset=GroupParticipant.objects.select_related(
                    "trajectory__patient", "trajectory__coach"
                ).order_by(
                    "trajectory__patient__last_name", "trajectory__patient__first_name", "pk"
                ),
            ),
            "participants__attendances",
        )
    )
    try:
        return qs.get(pk=group_id)
    except (RelapsePreventionGroup.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


@dataclass(frozen=True)
class Cell:
    meeting: GroupMeeting
    expected: bool
    attendance: Attendance | None


@dataclass(frozen=True)
class Row:
    participant: GroupParticipant
    joined_number: int
    cells: list[Cell]


def attendance_grid(group: RelapsePreventionGroup) -> list[Row]:
    """Participant × meeting, from what group_detail prefetched (no further queries)."""
    meetings = list(group.meetings.all())
    numbers = {m.pk: m.number for m in meetings}
    rows = []
    for participant in group.participants.all():
        by_meeting = {a.meeting_id: a for a in participant.attendances.all()}
        joined = numbers.get(participant.joined_at_id, 1)
        cells = [
            Cell(m, groups.expected_at(participant, m, joined), by_meeting.get(m.pk))
            for m in meetings
        ]
        rows.append(Row(participant, joined, cells))
    return rows


def expected_participants(
    group: RelapsePreventionGroup, meeting: GroupMeeting
) -> list[tuple[GroupParticipant, Attendance | None]]:
    """Who the POH-GGZ records attendance for at one meeting, with what is recorded so far."""
    return [
        (row.participant, cell.attendance)
        for row in attendance_grid(group)
        for cell in row.cells
        if cell.meeting.pk == meeting.pk and cell.expected
    ]


def poh_ggz_of(practice_ids: Iterable[int]) -> QuerySet[User]:
    """The people who may facilitate a meeting: active POH-GGZ of the given practices."""
    return (
        User.objects.filter(
            is_active=True,
            memberships__organisation_id__in=list(practice_ids),
            memberships__role=Role.POH_GGZ,
            memberships__is_active=True,
        )
        .distinct()
        .order_by("last_name", "first_name", "pk")
    )
