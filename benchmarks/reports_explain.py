"""Which of the reports page's queries cost: renders the zorggroep report once over a region and
runs ``EXPLAIN (ANALYZE, BUFFERS)`` on each of its SELECTs, slowest first.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python \
        benchmarks/reports_explain.py --trajectories 1000000 [--period 2026] [--plans 3]
"""

from __future__ import annotations

import argparse
import re

import harness  # noqa: F401  (puts the project first on sys.path)
from population import region_database


def _request(path: str, user):
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import RequestFactory

    request = RequestFactory().get(path)
    request.user = user
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trajectories", type=int, default=100_000)
    parser.add_argument("--period", default="", help="e.g. 2026 for a whole year")
    parser.add_argument("--plans", type=int, default=3, help="print the plans of the N slowest")
    args = parser.parse_args()
    with region_database(args.trajectories) as (vendor, region):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from reports.views import zorggroep_report

        pk = region.zorggroep_id
        query = f"?period={args.period}" if args.period else ""
        request = _request(f"/reports/zorggroep/{pk}/{query}", region.zorggroep_admin)
        zorggroep_report(request, pk=pk)  # warm
        request = _request(f"/reports/zorggroep/{pk}/{query}", region.zorggroep_admin)
        with CaptureQueriesContext(connection) as ctx:
            response = zorggroep_report(request, pk=pk)
        assert response.status_code == 200
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
