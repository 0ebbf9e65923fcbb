"""The daily reminder scan. Idempotent by construction: every reminder has a unique key and is
inserted with ``ignore_conflicts``, so a second run, or a second beat instance running at the
same moment, creates nothing new. Reminders whose reason has gone are resolved by the same scan.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from carechain.access import Actor
from carechain.models import Membership, Role
from pathways import services as pathway_services
from pathways.models import Trajectory
from pathways.models import TrajectoryState as T
from referrals.models import Referral
from referrals.models import ReferralState as RS

from .models import Reminder

logger = logging.getLogger(__name__)

FOLLOW_UP_NOTICE = datetime.timedelta(days=7)
FOLLOW_UP_OVERDUE = datetime.timedelta(days=14)
KRS_NOTICE = datetime.timedelta(days=60)
AWAITING_FIRST_CONTACT = [RS.RECEIVED, RS.ACCEPTED, RS.SCHEDULED, RS.NO_SHOW]
FOLLOW_UP_STATES = [T.END_OF_TREATMENT, T.FOLLOW_UP_DUE]
BATCH = 2000


@dataclass
class ScanResult:
    created: int = 0
    resolved: int = 0
    marked_due: int = 0


def _insert(rows: list[Reminder]) -> int:
    if not rows:
        return 0
    keys = [r.key for r in rows]
    before = set(Reminder.objects.filter(key__in=keys).values_list("key", flat=True))
    Reminder.objects.bulk_create(rows, ignore_conflicts=True, batch_size=BATCH)
    return len(set(keys) - before)


def _follow_up_calls(today: datetime.date, result: ScanResult) -> None:
    horizon = today + FOLLOW_UP_NOTICE
    due = (
        Trajectory.objects.filter(state__in=FOLLOW_UP_STATES, follow_up_due__lte=horizon)
        .values_list("pk", "provider_id", "coach_id", "follow_up_due", "state")
        .order_by("pk")
    )
    rows, to_mark = [], []
    for pk, provider_id, coach_id, follow_up_due, state in due.iterator(chunk_size=BATCH):
        rows.append(
            Reminder(
                key=f"follow_up_call:{pk}",
                kind=Reminder.Kind.FOLLOW_UP_CALL,
                provider_id=provider_id,
                user_id=coach_id,
                trajectory_id=pk,
                due=follow_up_due,
            )
        )
        if state == T.END_OF_TREATMENT:
            to_mark.append(pk)
        if len(rows) >= BATCH:
            result.created += _insert(rows)
            rows = []
    result.created += _insert(rows)
    system = Actor.system()
    for pk in to_mark:
        try:
            pathway_services.trajectory_mark_follow_up_due(actor=system, trajectory_id=pk)
            result.marked_due += 1
        except pathway_services.ValidationError:
            logger.info("trajectory %s changed while being marked follow-up due", pk)


def _first_contacts(today: datetime.date, result: ScanResult) -> None:
    late = (
        Referral.objects.filter(
            state__in=AWAITING_FIRST_CONTACT,
            first_contact_at__isnull=True,
            first_contact_due__lt=today,
        )
        .values_list("pk", "provider_id", "coach_id", "first_contact_due")
        .order_by("pk")
    )
    rows = [
        Reminder(
            key=f"first_contact:{pk}",
            kind=Reminder.Kind.FIRST_CONTACT,
            provider_id=provider_id,
            user_id=coach_id,
            referral_id=pk,
            due=due,
        )
        for pk, provider_id, coach_id, due in late.iterator(chunk_size=BATCH)
    ]
    result.created += _insert(rows)


def _krs_registrations(today: datetime.date, result: ScanResult) -> None:
    expiring = Membership.objects.filter(
        role=Role.COACH, is_active=True, krs_valid_until__lte=today + KRS_NOTICE
    ).values_list("pk", "organisation_id", "user_id", "krs_valid_until")
    rows = [
        Reminder(
            key=f"krs_expiry:{pk}:{valid_until.isoformat()}",
            kind=Reminder.Kind.KRS_EXPIRY,
            provider_id=provider_id,
            user_id=user_id,
            membership_id=pk,
            due=valid_until,
        )
        for pk, provider_id, user_id, valid_until in expiring
    ]
    result.created += _insert(rows)


def _resolve_gone(today: datetime.date, result: ScanResult) -> None:
    """A reminder whose reason has gone (call made, contact done, registration renewed) is done."""
    now = timezone.now()
    open_ = Reminder.objects.filter(resolved_at__isnull=True)
    gone = (
        Q(kind=Reminder.Kind.FOLLOW_UP_CALL) & ~Q(trajectory__state__in=FOLLOW_UP_STATES)
        | Q(kind=Reminder.Kind.FIRST_CONTACT)
        & (
            Q(referral__first_contact_at__isnull=False)
            | ~Q(referral__state__in=AWAITING_FIRST_CONTACT)
        )
        | Q(kind=Reminder.Kind.KRS_EXPIRY)
        & (Q(membership__krs_valid_until__gt=today + KRS_NOTICE) | Q(membership__is_active=False))
    )
    result.resolved += open_.filter(gone).update(resolved_at=now)


def reminders_scan(*, today: datetime.date | None = None) -> ScanResult:
    """The daily scan (celery beat). Safe to run any number of times, also concurrently."""
    today = today or timezone.localdate()
    result = ScanResult()
    with transaction.atomic():
        _follow_up_calls(today, result)
    with transaction.atomic():
        _first_contacts(today, result)
        _krs_registrations(today, result)
        _resolve_gone(today, result)
    return result


def open_reminders(actor: Actor, *, mine_only: bool):
    qs = Reminder.objects.filter(
        resolved_at__isnull=True, provider_id__in=actor.org_ids(Role.COACH, Role.PLANNER)
    ).select_related("trajectory__patient", "referral__patient", "membership__user", "user")
    if mine_only and actor.user is not None:
        qs = qs.filter(user=actor.user)
    return qs.order_by("due", "pk")


def overdue_follow_up_calls(actor: Actor, *, today: datetime.date | None = None):
    """For the planner: follow-up calls more than 14 days overdue."""
    today = today or timezone.localdate()
    return open_reminders(actor, mine_only=False).filter(
        kind=Reminder.Kind.FOLLOW_UP_CALL, due__lt=today - FOLLOW_UP_OVERDUE
    )


def reminders_send_digests(*, today: datetime.date | None = None) -> int:
    """Optional daily e-mail per coach with their open reminders (no patient data in the mail)."""
    today = today or timezone.localdate()
    counts: dict[int, list[Reminder]] = {}
    for reminder in Reminder.objects.filter(
        resolved_at__isnull=True, due__lte=today + FOLLOW_UP_NOTICE, user__isnull=False
    ).select_related("user"):
        counts.setdefault(reminder.user_id, []).append(reminder)
    sent = 0
    for reminders in counts.values():
        user = reminders[0].user
        if not user.email:
            continue
        with translation.override("nl"):
            body = render_to_string(
                "reminders/digest.txt", {"user": user, "reminders": reminders, "today": today}
            )
        send_mail("Herinneringen stoppen-met-rokenzorg", body, None, [user.email])
        sent += 1
    return sent


def reminders_demo_scan(chain) -> None:
    """Demo data step: what the daily scan would have found by now."""
    reminders_scan()
