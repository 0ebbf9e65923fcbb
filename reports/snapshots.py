"""The reports' materialised summary: the zorggroep report's figures computed per period and
stored (``ReportSnapshot``), refreshed by Celery beat, read by the page.

The figures are the ones ``reports.build.zorggroep_figures`` computes with the queries of
``reports.queries``, so there is one definition of each figure whether it is computed while the
person waits or by the beat. What is stored is what the page shows before suppression: counts per
practice, never a patient; small cells are suppressed when the page is built.

When stored figures are used (``snapshot_is_fresh``):
* they were computed for today: "overdue" and "due by today" change with the day;
* for a period that contains today (this month, quarter, year) they are at most
  ``REPORTS_FRESH_MINUTES`` old; the beat recomputes these every ``REPORTS_REFRESH_MINUTES``;
* they have the shape this code builds from (``build.FIGURES_VERSION``).
Otherwise the page computes them and stores them for the next view. The page says when its
figures were computed.
"""

from __future__ import annotations

import datetime
import time

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from carechain.models import Zorggroep

from . import build, periods
from .models import ReportSnapshot
from .periods import Period

CURRENT, MENU = "current", "menu"  # the beat's two runs


def current_periods(today: datetime.date) -> list[Period]:
    return [periods.month_of(today), periods.quarter_of(today), periods.year_of(today)]


def menu_periods(today: datetime.date) -> list[Period]:
    """The periods offered in the page's menu that do not contain today (refreshed nightly)."""
    keys = [key for _group, options in periods.choices(today) for key, _label in options]
    return [p for p in map(periods.parse_period, dict.fromkeys(keys)) if not is_current(p, today)]


def is_current(period: Period, today: datetime.date) -> bool:
    return period.start <= today <= period.end


def snapshot_is_fresh(
    snapshot: ReportSnapshot, period: Period, *, today: datetime.date, now: datetime.datetime
) -> bool:
    if snapshot.version != build.FIGURES_VERSION or snapshot.today != today:
        return False
    if is_current(period, today):
        age = now - snapshot.computed_at
        return age <= datetime.timedelta(minutes=settings.REPORTS_FRESH_MINUTES)
    return True


def snapshot_refresh(
    *, zorggroep: Zorggroep, period: Period, today: datetime.date | None = None
) -> ReportSnapshot:
    """Compute the period's figures and store them, replacing what was stored (one row per
    zorggroep and period: INSERT … ON CONFLICT DO UPDATE, so two runs at once leave one row)."""
    today = today or timezone.localdate()
    computed_at = timezone.now()  # the figures show the data as of (at least) this moment
    started = time.monotonic()
    figures = build.zorggroep_figures(zorggroep, period, today=today)
    snapshot = ReportSnapshot(
        zorggroep=zorggroep,
        period_key=period.key,
        today=today,
        computed_at=computed_at,
        seconds=round(time.monotonic() - started, 3),
        version=build.FIGURES_VERSION,
        figures=figures,
    )
    ReportSnapshot.objects.bulk_create(
        [snapshot],
        update_conflicts=True,
        unique_fields=["zorggroep", "period_key"],
        update_fields=["today", "computed_at", "seconds", "version", "figures"],
    )
    return snapshot


def snapshot_for_page(*, zorggroep: Zorggroep, period: Period) -> ReportSnapshot:
    """The stored figures when fresh, else computed now and stored (the first view of a period,
    a period outside the menu, or the beat not having run)."""
    today, now = timezone.localdate(), timezone.now()
    try:  # one row at most (the unique index docs/explain/reports.md shows the lookup on)
        snapshot = ReportSnapshot.objects.get(zorggroep=zorggroep, period_key=period.key)
    except ReportSnapshot.DoesNotExist:
        snapshot = None
    if snapshot is not None and snapshot_is_fresh(snapshot, period, today=today, now=now):
        return snapshot
    return snapshot_refresh(zorggroep=zorggroep, period=period, today=today)


def zorggroep_snapshots_refresh(*, zorggroep_id: int, which: str = CURRENT) -> int:
    """Recompute one zorggroep's current periods, or the other periods of the menu; returns how
    many periods were computed. Safe to run twice: each period's row is replaced."""
    zorggroep = Zorggroep.objects.filter(pk=zorggroep_id).first()
    if zorggroep is None:
        return 0
    today = timezone.localdate()
    chosen = current_periods(today) if which == CURRENT else menu_periods(today)
    for period in chosen:
        snapshot_refresh(zorggroep=zorggroep, period=period, today=today)
    return len(chosen)


def report_snapshots_refresh(*, which: str = CURRENT) -> int:
    """The beat's scan: one task per zorggroep with an active practice, so that zorggroepen are
    computed side by side by the workers. A run of the current periods that waited in the queue
    longer than the refresh interval is dropped: the next one is already on its way."""
    from .tasks import refresh_zorggroep_snapshots

    if which not in (CURRENT, MENU):
        raise ValueError(f"which must be {CURRENT!r} or {MENU!r}, got {which!r}")
    ids = list(
        Zorggroep.objects.filter(practices__is_active=True)
        .distinct()
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    expires = settings.REPORTS_REFRESH_MINUTES * 60 if which == CURRENT else 24 * 3600
    for pk in ids:
        transaction.on_commit(
            lambda pk=pk: refresh_zorggroep_snapshots.apply_async(
                kwargs={"zorggroep_id": pk, "which": which}, expires=expires
            )
        )
    return len(ids)
