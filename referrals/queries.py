"""Reads for the referral pages, already scoped by the access policy and with a fixed query count."""

from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.timesince import timesince

from carechain.access import Actor
from carechain.models import Patient
from carechain.rows import choice_labels, dmy, url_for_pk

from .access import PROVIDER_CARE_ROLES, referrals_for
from .models import Channel, ContactAttempt, FeedbackLetter, Referral, ReferralEvent
from .models import ReferralState as S

WORKLIST_STATES = [S.RECEIVED, S.ACCEPTED, S.SCHEDULED, S.NO_SHOW, S.CANCELLATION_REQUESTED]


def _with_list_relations(qs: QuerySet[Referral]) -> QuerySet[Referral]:
    # A correlated count rather than Count() over a join: without a GROUP BY the database sorts
    # the referrals, stops at the page's limit and joins only those (docs/explain/caseload.md).
    failed = (
        ContactAttempt.objects.filter(referral=OuterRef("pk"))
        .exclude(result=ContactAttempt.Result.REACHED)
        .order_by()
        .values("referral")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return qs.select_related("patient", "practice", "coach", "provider").annotate(
        failed_attempts_count=Coalesce(Subquery(failed), 0)
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


def worklist_rows(referrals: list[Referral]) -> list[dict]:
    """What each row of the worklist shows, as plain values (``carechain.rows`` says why)."""
    now = timezone.now()
    today = timezone.localdate(now)
    detail_url = url_for_pk("referral-detail")
    state_labels = choice_labels(S)
    channel_labels = choice_labels(Channel)
    call_time_labels = choice_labels(Patient.CallTime)
    rows = []
    for r in referrals:
        rows.append(
            {
                "received": dmy(r.received_at),
                "received_since": timesince(r.received_at, now),
                "url": detail_url(r.pk),
                "patient": r.patient.full_name,
                "practice": r.practice.name,
                "channel": channel_labels.get(r.channel, r.channel),
                "ketenzorg": r.is_ketenzorg,
                "best_time_to_call": call_time_labels.get(r.best_time_to_call, r.best_time_to_call),
                "call_note": r.call_note,
                "state": r.state,
                "state_label": state_labels.get(r.state, r.state),
                "coach": str(r.coach) if r.coach else "",
                "first_contact_due": dmy(r.first_contact_due),
                "overdue": r.first_contact_overdue(today),
                "failed_attempts": r.failed_attempts_count,
            }
        )
    return rows


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
