"""Which of the reports' queries cost: computes the zorggroep report's figures once over a region
(what the beat's refresh, or a page without fresh stored figures, runs: ``reports.snapshots``) and
runs ``EXPLAIN (ANALYZE, BUFFERS)`` on each of its SELECTs, slowest first.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python \
        benchmarks/reports_explain.py --trajectories 1000000 [--period 2026] [--plans 3]
"""

from __future__ import annotations

import argparse
import re

import harness  # noqa: F401  (puts the project first on sys.path)
from population import region_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trajectories", type=int, default=100_000)
    parser.add_argument("--period", default="", help="e.g. 2026 for a whole year")
    parser.add_argument("--plans", type=int, default=3, help="print the plans of the N slowest")
    args = parser.parse_args()
    with region_database(args.trajectories) as (vendor, region):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext
        from django.utils import timezone

        from carechain.models import Zorggroep
        from reports import build, periods

        zorggroep = Zorggroep.objects.get(pk=region.zorggroep_id)
        today = timezone.localdate()
        period = periods.parse_period(args.period) if args.period else periods.quarter_of(today)
        build.zorggroep_figures(zorggroep, period, today=today)  # warm
        with CaptureQueriesContext(connection) as ctx:
            build.zorggroep_figures(zorggroep, period, today=today)
        timed = []
        with connection.cursor() as cursor:
            for captured in ctx.captured_queries:
                sql = captured["sql"]
                if not sql.lstrip().upper().startswith("SELECT"):
                    continue
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                plan = "\n".join(row[0] for row in cursor.fetchall())
                ms = float(re.search(r"Execution Time: ([\d.]+) ms", plan).group(1))
                timed.append((ms, sql, plan))
        print(f"{len(ctx.captured_queries)} queries")
        for ms, sql, _plan in sorted(timed, key=lambda t: t[0], reverse=True):
            print(f"{ms:10.1f} ms  {sql[:160]}")
        for ms, sql, plan in sorted(timed, key=lambda t: t[0], reverse=True)[: args.plans]:
            print(f"\n-- {ms:.1f} ms\n{sql}\n{plan}")


if __name__ == "__main__":
    main()
