"""Reads for the referral pages, already scoped by the access policy and with a fixed query count."""

from collections.abc import Iterable, Mapping

from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from carechain.access import Actor
from carechain.models import Patient, User
from carechain.rows import choice_labels, dmy, since, url_for_pk

from .access import PROVIDER_CARE_ROLES, referrals_for
from .models import (
    WORKLIST_STATES,
    Channel,
    ContactAttempt,
    FeedbackLetter,
    Referral,
    ReferralEvent,
)
from .models import ReferralState as S


def _failed_attempts() -> QuerySet[ContactAttempt]:
    # A correlated count rather than Count() over a join: without a GROUP BY the database sorts
    # the referrals, stops at the page's limit and joins only those (docs/explain/caseload.md).
    return (
        ContactAttempt.objects.filter(referral=OuterRef("pk"))
        .exclude(result=ContactAttempt.Result.REACHED)
        .order_by()
        .values("referral")
        .annotate(n=Count("pk"))
        .values("n")
    )


def _with_list_relations(qs: QuerySet[Referral]) -> QuerySet[Referral]:
    return qs.select_related("patient", "practice", "coach", "provider").annotate(
        failed_attempts_count=Coalesce(Subquery(_failed_attempts()), 0)
    )


# What a worklist row reads: plain columns, no model instances (a page of 300 built about 1,800:
# referral, patient, practice and provider with their organisations, coach).
WORKLIST_COLUMNS = (
    "pk",
    "patient_id",
    "received_at",
    "channel",
    "is_ketenzorg",
    "best_time_to_call",
    "call_note",
    "state",
    "first_contact_due",
    "first_contact_at",
    "patient__first_name",
    "patient__initials",
    "patient__name_prefix",
    "patient__last_name",
    "practice__name",
    "coach__first_name",
    "coach__last_name",
    "coach__username",
)


def worklist(actor: Actor, *, show: str = "all") -> QuerySet:
    """Referrals awaiting the provider: oldest first, so nobody waits longest by accident.

    Rows are dicts of ``WORKLIST_COLUMNS`` and ``failed_attempts_count``. The partial index
    ``referral_worklist`` holds exactly the waiting referrals in this order, so the page reads
    its first rows and stops (docs/explain/caseload.md).
    """
    qs = referrals_for(actor).filter(
        provider_id__in=actor.org_ids(*PROVIDER_CARE_ROLES), state__in=WORKLIST_STATES
    )
    if show == "mine" and actor.user is not None:
        qs = qs.filter(coach=actor.user)
    elif show == "unassigned":
        qs = qs.filter(coach__isnull=True)
    return (
        qs.annotate(failed_attempts_count=Coalesce(Subquery(_failed_attempts()), 0))
        .values(*WORKLIST_COLUMNS, "failed_attempts_count")
        .order_by("received_at", "pk")
    )


def worklist_rows(referrals: Iterable[Mapping]) -> list[dict]:
    """What each row of the worklist shows, as plain values (``carechain.rows`` says why)."""
    now = timezone.now()
    tz = timezone.get_current_timezone()
    today = timezone.localdate(now)
    received_since = since(now)
    detail_url = url_for_pk("referral-detail")
    state_labels = choice_labels(S)
    channel_labels = choice_labels(Channel)
    call_time_labels = choice_labels(Patient.CallTime)
    full_name = Patient.compose_full_name
    coach_name = User.display_name
    overdue = Referral.is_first_contact_overdue
    rows = []
    for r in referrals:
        state = r["state"]
        rows.append(
            {
                "pk": r["pk"],
                "patient_id": r["patient_id"],
                "received": dmy(r["received_at"], tz),
                "received_since": received_since(r["received_at"]),
                "url": detail_url(r["pk"]),
                "patient": full_name(
                    r["patient__first_name"],
                    r["patient__initials"],
                    r["patient__name_prefix"],
                    r["patient__last_name"],
                ),
                "practice": r["practice__name"],
                "channel": channel_labels.get(r["channel"], r["channel"]),
                "ketenzorg": r["is_ketenzorg"],
                "best_time_to_call": call_time_labels.get(
                    r["best_time_to_call"], r["best_time_to_call"]
                ),
                "call_note": r["call_note"],
                "state": state,
                "state_label": state_labels.get(state, state),
                "coach": coach_name(
                    r["coach__first_name"], r["coach__last_name"], r["coach__username"]
                )
                if r["coach__username"]
                else "",
                "first_contact_due": dmy(r["first_contact_due"]),
                "overdue": overdue(
                    state=state,
                    first_contact_at=r["first_contact_at"],
                    first_contact_due=r["first_contact_due"],
                    today=today,
                ),
                "failed_attempts": r["failed_attempts_count"],
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
