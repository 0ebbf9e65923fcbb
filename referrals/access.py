"""Who may see and act on which referrals (the referral part of the one access policy)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from carechain.access import FEEDBACK, INTAKE, Actor, register_patient_scope
from carechain.models import PRACTICE_ROLES, Practice, Role

from .models import Referral

PROVIDER_CARE_ROLES = (Role.COACH, Role.PLANNER)


def referral_filter(actor: Actor) -> Q:
    condition = Q(pk__in=[])
    practice_ids = actor.org_ids(*PRACTICE_ROLES)
    if practice_ids:
        condition |= Q(practice_id__in=practice_ids)
    intake_ids = actor.org_ids(INTAKE, FEEDBACK)
    if intake_ids:
        # One IN over the practices (a practice's own key, or a zorggroep's practices) rather than
        # an OR across the join: PostgreSQL can then walk an index in the page's order and stop
        # after one page (benchmarks/task_polling.py).
        practices = Practice.objects.filter(Q(pk__in=intake_ids) | Q(zorggroep_id__in=intake_ids))
        condition |= Q(practice_id__in=practices.values("pk"))
    provider_ids = actor.org_ids(*PROVIDER_CARE_ROLES)
    if provider_ids:
        condition |= Q(provider_id__in=provider_ids)
    return condition


def referrals_for(actor: Actor) -> QuerySet[Referral]:
    return Referral.objects.filter(referral_filter(actor))


def is_provider_staff(actor: Actor, referral: Referral) -> bool:
    return referral.provider_id in actor.org_ids(*PROVIDER_CARE_ROLES)


def is_referrer(actor: Actor, referral: Referral) -> bool:
    if referral.practice_id in actor.org_ids(*PRACTICE_ROLES, INTAKE):
        return True
    return referral.practice.zorggroep_id in actor.org_ids(INTAKE)


def _caseload_scope(provider_ids: set[int]) -> Q:
    return Q(pk__in=Referral.objects.filter(provider_id__in=provider_ids).values("patient_id"))


def register() -> None:
    """Coaches and planners see the patients referred to their provider."""
    for role in PROVIDER_CARE_ROLES:
        register_patient_scope(role, _caseload_scope)
