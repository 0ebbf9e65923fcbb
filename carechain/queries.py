"""Reads of the core room for pages and the API, already scoped by the access policy."""

from django.db.models import QuerySet

from .access import Actor
from .models import Membership, Role

# Who may see a provider's coaches by name and registration: its own coaches and planners, who
# assign referrals and trajectories to them. Nobody outside the provider.
COACH_LIST_ROLES = (Role.COACH, Role.PLANNER)


def coach_memberships_for(actor: Actor) -> QuerySet[Membership]:
    """The active coaches of the providers the actor is a coach or planner of, by name."""
    return (
        Membership.objects.filter(
            organisation_id__in=actor.org_ids(*COACH_LIST_ROLES),
            role=Role.COACH,
            is_active=True,
            user__is_active=True,
        )
        .select_related("user", "organisation__as_provider")
        .order_by("user__last_name", "user__first_name", "user__public_id", "organisation__name")
    )
