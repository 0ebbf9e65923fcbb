"""Benchmark: the zorggroep's report page over a region of 1,000,000 trajectories, against the
coach's caseload page measured in the same run on the same data (target: at most 3x).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python benchmarks/reports.py
    .venv/bin/python benchmarks/reports.py --trajectories 100000      # smaller

Both pages are rendered whole (the view, its queries, the template) through Django's request
factory; the report is measured for the default period (this quarter) and for a whole year. The
report is measured as a person gets it: with the beat having run, so the page builds from the
figures stored by ``reports.snapshots`` (refreshed first, then page and caseload page interleaved).
What the beat's refresh of one zorggroep's current month, quarter and year costs is printed as a
note (it runs every 15 minutes on a worker, not while anyone waits). The report's SQL query count
must not depend on the data's size (a check of the row).
"""

from __future__ import annotations

import argparse

from harness import Result, Timer, interleaved, report
from population import region_database

MAX_QUERIES = 26  # the report (stored figures: a handful; computed: ~20) and the audit row
# (tests/reports pin the exact counts)


def _refresh(zorggroep_id: int) -> tuple[float, list[str]]:
    """The beat's run for one zorggroep's current periods: seconds, and seconds per period."""
    from django.utils import timezone

    from reports import snapshots
    from reports.models import ReportSnapshot

    with Timer() as timer:
        snapshots.zorggroep_snapshots_refresh(zorggroep_id=zorggroep_id, which=snapshots.CURRENT)
    keys = [p.key for p in snapshots.current_periods(timezone.localdate())]
    rows = ReportSnapshot.objects.filter(zorggroep_id=zorggroep_id, period_key__in=keys)
    return timer.seconds, [f"{r.period_key} {r.seconds:.2f} s" for r in rows.order_by("period_key")]


def _request(path: str, user):
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import RequestFactory

    request = RequestFactory().get(path)
    request.user = user
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


def _timed(view, path: str, user, **kwargs) -> tuple[float, int, bytes]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    request = _request(path, user)
    if hasattr(user, "_smr_grants"):
        del user._smr_grants  # each request looks up the person's roles again, as in production
    with CaptureQueriesContext(connection) as ctx, Timer() as timer:
        response = view(request, **kwargs)
    assert response.status_code == 200, response.status_code
    return timer.seconds * 1000, len(ctx.captured_queries), response.content


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trajectories", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--periods", choices=["quarter", "year", "both"], default="both", help="which periods"
    )
    args = parser.parse_args()
    with region_database(args.trajectories) as (vendor, region):
        from django.utils import timezone

        from pathways.views import caseload
        from reports.views import zorggroep_report

        print(f"database: {vendor}; region built in {region.seconds:.0f} s", flush=True)
        today = timezone.localdate()
        pk = region.zorggroep_id
        admin, coach = region.zorggroep_admin, region.coach
        periods = [("this quarter", ""), ("a whole year", f"?period={today.year}")]
        if args.periods != "both":
            periods = [periods[0] if args.periods == "quarter" else periods[1]]
        refresh_s, refresh_parts = _refresh(pk)  # the beat has run
        print(
            f"beat refresh of the zorggroep's current periods: {refresh_s:.2f} s "
            f"({', '.join(refresh_parts)})",
            flush=True,
        )
        for label, query in periods:
            queries_seen = set()

            def page(query=query, queries_seen=queries_seen) -> float:
                ms, count, _content = _timed(
                    zorggroep_report, f"/reports/zorggroep/{pk}/{query}", admin, pk=pk
                )
                queries_seen.add(count)
                return ms

            def anchor() -> float:
                return _timed(caseload, "/trajectories/", coach)[0]

            page()  # warm the caches once, as a page that is used is
            app_ms, anchor_ms, apps, anchors = interleaved(page, anchor, rounds=args.rounds)
            report(
                Result(
                    name=f"reports page, zorggroep, {label} ({args.trajectories:,} trajectories)",
                    figure=app_ms,
                    anchor=anchor_ms,
                    unit="ms",
                    anchor_label="coach's caseload page",
                    higher_is_better=False,
                    target_ratio=3,
                    checks={
                        f"≤ {MAX_QUERIES} queries": max(queries_seen) <= MAX_QUERIES,
                        "same queries every run": len(queries_seen) == 1,
                    },
                    notes=f"from the stored figures; {sorted(queries_seen)} queries; runs "
                    f"{[round(a) for a in apps]} ms vs {[round(a) for a in anchors]} ms; the beat's "
                    f"refresh of this zorggroep's current month, quarter and year (on a worker, "
                    f"every 15 min): {refresh_s:.1f} s ({', '.join(refresh_parts)})",
                )
            )


if __name__ == "__main__":
    main()
