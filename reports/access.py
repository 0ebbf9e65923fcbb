"""Who sees which report (the reports' part of the one access policy).

A zorggroep admin sees the report of their own zorggroep, with small cells suppressed. A planner
sees the figures of their provider for every coach; a coach sees only their own. Another
organisation's report is a 404, as for any object out of reach; a role without reports a 403.
"""

from __future__ import annotations

from django.db.models import QuerySet

from carechain.access import Actor
from carechain.models import Provider, Role, Zorggroep

ZORGGROEP_REPORT_ROLES = (Role.ZORGGROEP_ADMIN,)
PROVIDER_REPORT_ROLES = (Role.PLANNER, Role.COACH)


def zorggroepen_for_reports(actor: Actor) -> QuerySet[Zorggroep]:
    return Zorggroep.objects.filter(pk__in=actor.org_ids(*ZORGGROEP_REPORT_ROLES))


def providers_for_reports(actor: Actor) -> QuerySet[Provider]:
    return Provider.objects.filter(pk__in=actor.org_ids(*PROVIDER_REPORT_ROLES))


def coach_scope(actor: Actor, provider: Provider) -> int | None:
    """None: every coach of the provider (its planner); else only this person's own figures."""
    if provider.pk in actor.org_ids(Role.PLANNER):
        return None
    return actor.user.pk


def suppresses_small_cells(actor: Actor) -> bool:
    """The zorggroep sees no patient: cells of 1-4 patients are hidden for its users."""
    return True
