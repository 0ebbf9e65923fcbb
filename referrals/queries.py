"""Reads for the referral pages, already scoped by the access policy and with a fixed query count."""

from django.db.models import Count, Prefetch, Q, QuerySet

from carechain.access import Actor

from .access import PROVIDER_CARE_ROLES, referrals_for
from .models import ContactAttempt, FeedbackLetter, Referral, ReferralEvent
from .models import ReferralState as S

WORKLIST_STATES = [S.RECEIVED, S.ACCEPTED, S.SCHEDULED, S.NO_SHOW, S.CANCELLATION_REQUESTED]


def _with_list_relations(qs: QuerySet[Referral]) -> QuerySet[Referral]:
    return qs.select_related("patient", "practice", "coach", "provider").annotate(
        failed_attempts_count=Count(
            "contact_attempts", filter=~Q(contact_attempts__result=ContactAttempt.Result.REACHED)
        )
    )


def worklist(actor: Actor, *, show: str = "all") -> QuerySet[Referral]:
    """Referrals awaiting the provider: oldest first, so nobody waits longest by accident."""
    qs = referrals_for(actor).filter(
        provider_id__in=actor.org_ids(*PROVIDER_CARE_ROLES), state__in=WORKLIST_STATES
    )
    if show == "mine" and actor.user is not None:
        qs = qs.filter(coach=actor.user)
    elif show == "unassigned":
        qs = qs.filter(coach__isnull=True)
    return _with_list_relations(qs).order_by("received_at", "pk")


def practice_referrals(actor: Actor, *, state: str = "") -> QuerySet[Referral]:
    qs = referrals_for(actor)
    if state:
        qs = qs.filter(state=state)
    return _with_list_relations(qs).order_by("-received_at", "-pk")


def referral_detail(actor: Actor, pk) -> Referral:
    return (
        referrals_for(actor)
        .select_related("patient", "practice", "provider", "coach", "referred_by")
        .prefetch_related(
            Prefetch("events", queryset=ReferralEvent.objects.select_related("by")),
            Prefetch("contact_attempts", queryset=ContactAttempt.objects.select_related("by")),
            "documents",
            Prefetch("letters", queryset=FeedbackLetter.objects.order_by("created_at")),
        )
        .get(pk=pk)
    )
