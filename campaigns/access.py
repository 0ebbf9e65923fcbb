"""Who may see and run a practice's letter campaigns: only the practice's own GP and POH-S.

The POH-GGZ, the provider and the zorggroep never see the list; the zorggroep gets aggregates
(``queries.campaign_funnels_for_zorggroep``). Denials on objects are 404s, on pages 403s.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from carechain.access import Actor
from carechain.models import Practice, Role

from .models import Campaign, Invitee

CAMPAIGN_ROLES = (Role.GP, Role.POH_S)


def campaign_practice_ids(actor: Actor) -> set[int]:
    return actor.org_ids(*CAMPAIGN_ROLES)


def practices_for_campaigns(actor: Actor) -> QuerySet[Practice]:
    return Practice.objects.filter(pk__in=campaign_practice_ids(actor))


def campaigns_for(actor: Actor) -> QuerySet[Campaign]:
    return Campaign.objects.filter(practice_id__in=campaign_practice_ids(actor))


def get_campaign(actor: Actor, pk) -> Campaign:
    try:
        return campaigns_for(actor).select_related("practice").get(pk=pk)
    except (Campaign.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def get_invitee(actor: Actor, pk, *, campaign: Campaign | None = None) -> Invitee:
    query = Invitee.objects.filter(campaign__in=campaigns_for(actor))
    if campaign is not None:
        query = query.filter(campaign=campaign)
    try:
        return query.select_related("campaign__practice").get(pk=pk)
    except (Invitee.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
