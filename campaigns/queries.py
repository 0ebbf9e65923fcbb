"""Reads for the campaign pages and for the zorggroep's reports: counts in SQL, one query each."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from carechain.access import Actor
from carechain.models import Zorggroep
from pathways.models import Outcome

from .access import campaigns_for
from .models import Answer, Campaign, Invitee, LetterStatus

FUNNEL = ("sent", "answered", "referred", "started", "quit")


def _funnel_counts(prefix: str = "") -> dict:
    p = prefix
    return {
        "sent": Count(f"{p}pk", filter=Q(**{f"{p}letter_status": LetterStatus.DONE})),
        "answered": Count(f"{p}pk", filter=Q(**{f"{p}answered_at__isnull": False})),
        "answered_yes": Count(f"{p}pk", filter=Q(**{f"{p}answer": Answer.YES})),
        "answered_no": Count(f"{p}pk", filter=Q(**{f"{p}answer": Answer.NO})),
        "referred": Count(f"{p}pk", filter=Q(**{f"{p}referral__isnull": False})),
        "started": Count(f"{p}pk", filter=Q(**{f"{p}referral__trajectory__isnull": False})),
        "quit": Count(
            f"{p}pk", filter=Q(**{f"{p}referral__trajectory__end_result": Outcome.SMOKE_FREE})
        ),
        "invited": Count(f"{p}pk"),
    }


def campaign_list(actor: Actor) -> QuerySet[Campaign]:
    return (
        campaigns_for(actor)
        .select_related("practice")
        .annotate(**_funnel_counts("invitees__"))
        .order_by("-created_at", "-pk")
    )


def campaign_funnel(campaign: Campaign) -> dict:
    """sent, answered, referred, started, quit (and the yes/no split) of one campaign."""
    return Invitee.objects.filter(campaign=campaign).aggregate(**_funnel_counts())


def campaign_funnels_for_zorggroep(zorggroep: Zorggroep) -> list[dict]:
    """Every campaign of the zorggroep's practices as counts only (for the zorggroep's reports).

    Aggregates, no person: the reports apply their own small-cell rule ("< 5") before showing."""
    rows = (
        Campaign.objects.filter(practice__zorggroep=zorggroep)
        .annotate(**_funnel_counts("invitees__"))
        .order_by("practice__name", "created_at", "pk")
        .values("pk", "practice__name", "name", "created_at", *FUNNEL)
    )
    return [
        {
            "campaign_id": row["pk"],
            "practice": row["practice__name"],
            "campaign": row["name"],
            "started_on": row["created_at"].date(),
            **{key: row[key] for key in FUNNEL},
        }
        for row in rows
    ]


def drafts(campaign: Campaign) -> QuerySet[Invitee]:
    """Yes-answers waiting for the practice to confirm the referral."""
    return campaign.invitees.filter(
        answer=Answer.YES, referral__isnull=True, erased_at__isnull=True
    ).order_by("answered_at", "pk")


INVITEE_FILTERS = {
    "all": Q(),
    "waiting": Q(answered_at__isnull=True, erased_at__isnull=True),
    "yes": Q(answer=Answer.YES),
    "referred": Q(referral__isnull=False),
}


def invitees(campaign: Campaign, show: str) -> QuerySet[Invitee]:
    return (
        campaign.invitees.filter(INVITEE_FILTERS.get(show, Q()))
        .select_related("referral")
        .order_by("last_name", "pk")
    )


def funnel_chart(counts: dict) -> list[dict]:
    """Bars of the server-side SVG funnel: each stage's width relative to the letters sent."""
    top = max(counts.get("sent") or 0, counts.get("invited") or 0, 1)
    bars = []
    for index, key in enumerate(FUNNEL):
        value = counts.get(key) or 0
        width = round(500 * value / top)
        bars.append(
            {
                "key": key,
                "value": value,
                "width": max(width, 2),
                "x": 215 + (500 - max(width, 2)) // 2,
                "y": 10 + index * 44,
                "share": round(100 * value / counts["sent"]) if counts.get("sent") else 0,
            }
        )
    return bars
