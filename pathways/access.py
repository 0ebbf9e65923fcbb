"""Who may see and move trajectories, and who may read mental-health (POH-GGZ) notes."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from carechain.access import Actor
from carechain.models import PRACTICE_ROLES, Role

from .models import Escalation, Trajectory


def trajectory_filter(actor: Actor) -> Q:
    condition = Q(pk__in=[])
    provider_ids = actor.org_ids(Role.COACH, Role.PLANNER)
    if provider_ids:
        condition |= Q(provider_id__in=provider_ids)
    practice_ids = actor.org_ids(*PRACTICE_ROLES)
    if practice_ids:
        condition |= Q(practice_id__in=practice_ids)
    return condition


def trajectories_for(actor: Actor) -> QuerySet[Trajectory]:
    return Trajectory.objects.filter(trajectory_filter(actor))


def is_coach_of_provider(actor: Actor, trajectory: Trajectory) -> bool:
    """Only a coach of the provider moves a trajectory."""
    return trajectory.provider_id in actor.org_ids(Role.COACH)


def is_planner_of_provider(actor: Actor, trajectory: Trajectory) -> bool:
    return trajectory.provider_id in actor.org_ids(Role.PLANNER)


def is_poh_ggz_of_practice(actor: Actor, trajectory: Trajectory) -> bool:
    return trajectory.practice_id in actor.org_ids(Role.POH_GGZ)


def can_read_ggz_notes(actor: Actor, trajectory: Trajectory) -> bool:
    """Mental-health notes: the POH-GGZ of the practice and the coach of this trajectory only."""
    if is_poh_ggz_of_practice(actor, trajectory):
        return True
    return (
        actor.user is not None
        and trajectory.coach_id == actor.user.pk
        and is_coach_of_provider(actor, trajectory)
    )


def escalations_for_poh_ggz(actor: Actor) -> QuerySet[Escalation]:
    return Escalation.objects.filter(practice_id__in=actor.org_ids(Role.POH_GGZ))
