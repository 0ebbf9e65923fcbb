"""Reads of the audit log for the privacy officer: scoped, filtered, one page at a time.

Pure over ``AuditEvent``: the pages (which sit on top of the care chain) say which patients and
which people fall within the privacy officer's organisation; this module never asks another room.
Pages are keyset pages over the primary key, which is the order of the hash chain: no COUNT over
the whole log, and the same queries for the first page as for the ten-thousandth.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from .models import AuditEvent, AuditEventPatient

PAGE_SIZE = 50
# The detail of the audit row that records a hash-chain check (see reports.chain_check).
CHAIN_CHECK_DETAIL = "hash chain check"


@dataclass(frozen=True)
class Scope:
    """What one privacy officer may read: every access to these patients, and every action of these
    people (logins and searches included). Either may be a queryset used as a subquery."""

    patient_ids: QuerySet | Iterable[int]
    user_ids: QuerySet | Iterable[int]


@dataclass(frozen=True)
class Filters:
    patient_id: int | None = None
    user: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    action: str = ""
    channel: str = ""


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def events_in_scope(scope: Scope) -> QuerySet[AuditEvent]:
    """Rows about these patients (a page row through the patients it names) or by these people."""
    on_page = AuditEventPatient.objects.filter(
        event_id=OuterRef("pk"), patient_id__in=scope.patient_ids
    )
    return AuditEvent.objects.filter(
        Q(patient_id__in=scope.patient_ids)
        | Q(user_id__in=scope.user_ids)
        | (Q(patient_count__gt=0) & Exists(on_page))
    )


def about_patient(patient_id: int) -> Q:
    """Rows about one patient: naming it, or a page row with it among its patients.

    Written as ``id IN (one index scan UNION the other)``: an OR of the two would make PostgreSQL
    filter the whole log instead of using either index (docs/explain/audit_log.md).
    """
    direct = AuditEvent.objects.filter(patient_id=patient_id).values("id").order_by()
    on_page = AuditEventPatient.objects.filter(patient_id=patient_id).values("event_id").order_by()
    return Q(id__in=direct.union(on_page))


def events_filtered(scope: Scope, filters: Filters) -> QuerySet[AuditEvent]:
    events = events_in_scope(scope)
    if filters.patient_id is not None:
        events = events.filter(about_patient(filters.patient_id))
    if filters.user:
        events = events.filter(
            Q(username__iexact=filters.user) | Q(api_key__istartswith=filters.user)
        )
    if filters.date_from:
        events = events.filter(at__gte=_start_of(filters.date_from))
    if filters.date_to:
        events = events.filter(at__lt=_start_of(filters.date_to + datetime.timedelta(days=1)))
    if filters.action:
        events = events.filter(action=filters.action)
    if filters.channel:
        events = events.filter(channel=filters.channel)
    return events


@dataclass(frozen=True)
class Page:
    """One page, newest first; ``older``/``newer`` are the cursors of the neighbouring pages."""

    events: list[AuditEvent]
    older: int | None
    newer: int | None


def page_of(
    events: QuerySet[AuditEvent],
    *,
    before: int | None = None,
    after: int | None = None,
    size: int = PAGE_SIZE,
) -> Page:
    """One query: ``size + 1`` rows to learn whether there is a further page."""
    if after is not None:
        rows = list(events.filter(id__gt=after).order_by("id")[: size + 1])
        has_newer = len(rows) > size
        rows = rows[:size][::-1]
        return Page(
            events=rows,
            older=rows[-1].pk if rows else after + 1,
            newer=rows[0].pk if has_newer else None,
        )
    if before is not None:
        events = events.filter(id__lt=before)
    rows = list(events.order_by("-id")[: size + 1])
    has_older = len(rows) > size
    rows = rows[:size]
    return Page(
        events=rows,
        older=rows[-1].pk if has_older else None,
        newer=rows[0].pk if before is not None and rows else None,
    )


def events_for_export(events: QuerySet[AuditEvent], *, up_to_id: int) -> QuerySet[AuditEvent]:
    """Oldest first, and only rows that existed when the export was asked for."""
    return events.filter(id__lte=up_to_id).order_by("id")


def events_of_patient(
    patient_id: int,
    *,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> QuerySet[AuditEvent]:
    """Every access to one patient's data, by anyone, oldest first (the AVG access report)."""
    return events_filtered(
        Scope(patient_ids=[patient_id], user_ids=[]),
        Filters(patient_id=patient_id, date_from=date_from, date_to=date_to),
    ).order_by("id")


def last_event_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


@dataclass(frozen=True)
class ChainStatus:
    """The outcome of the latest hash-chain check and how many rows were written after it."""

    checked: AuditEvent | None
    intact: bool
    rows_since: int


def chain_status() -> ChainStatus:
    """Two queries: the latest check row, and the rows written since (a range over the key)."""
    checked = (
        AuditEvent.objects.filter(
            action=AuditEvent.Action.SECURITY, detail__startswith=f"{CHAIN_CHECK_DETAIL}: "
        )
        .order_by("-id")
        .first()
    )
    if checked is None:
        return ChainStatus(checked=None, intact=False, rows_since=0)
    return ChainStatus(
        checked=checked,
        intact=checked.detail.startswith(f"{CHAIN_CHECK_DETAIL}: intact"),
        rows_since=AuditEvent.objects.filter(id__gt=checked.pk).count(),
    )
