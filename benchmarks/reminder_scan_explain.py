"""Where the daily reminder scan's time goes: runs one first-run-of-the-day scan over a region in a
transaction that is rolled back, captures its statements, then replays them in order, each under
``EXPLAIN (ANALYZE, BUFFERS)`` (so each sees what the ones before it wrote), in a second
transaction that is rolled back too. The anchor's ``count(*)`` is explained first. Prints each
statement's time in the scan, then its plan (Markdown, as docs/explain/reminder_scan.md).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python \\
        benchmarks/reminder_scan_explain.py --trajectories 1000000
"""

from __future__ import annotations

import argparse
import re

import harness  # noqa: F401  (puts the project first on sys.path)
from population import region_database


class Rollback(Exception):
    pass


def _explainable(sql: str) -> bool:
    head = sql.lstrip().split(None, 1)[0].upper()
    return head in {"SELECT", "INSERT", "UPDATE", "WITH", "DELETE"}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trajectories", type=int, default=100_000)
    parser.add_argument("--width", type=int, default=400, help="characters of SQL shown")
    args = parser.parse_args()
    with region_database(args.trajectories, reminders=True) as (vendor, region):
        from django.db import connection, transaction
        from django.test.utils import CaptureQueriesContext
        from reminder_scan import anchor_sql

        from reminders import services

        today = region.today
        count_sql, count_params = anchor_sql(today)
        with connection.cursor() as cursor:
            for table in ("reminders_reminder", "pathways_trajectory", "referrals_referral"):
                cursor.execute(f"VACUUM ANALYZE {table}")
            cursor.execute(count_sql, count_params)  # warm, as the benchmark's rounds are
        try:
            with transaction.atomic():
                # Captured inside the transaction: a context left by an exception keeps
                # capturing (Django), which would add the ROLLBACK and what follows.
                with CaptureQueriesContext(connection) as ctx:
                    result = services.reminders_scan(today=today)
                raise Rollback
        except Rollback:
            pass
        with connection.cursor() as cursor:  # as the benchmark does after each rolled-back round
            for table in ("reminders_reminder", "pathways_trajectory", "pathways_trajectoryevent"):
                cursor.execute(f"VACUUM {table}")
        print(f"-- scan result {result}")
        print("-- statement times in the scan (ms):")
        for captured in ctx.captured_queries:
            print(f"--   {float(captured['time']) * 1000:8.1f}  {captured['sql'][:100]}")
        anchor = connection.ops.compose_sql(count_sql, count_params)
        statements = [anchor] + [c["sql"] for c in ctx.captured_queries]
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                for sql in statements:
                    if not _explainable(sql):
                        cursor.execute(sql)
                        continue
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                    plan = "\n".join(row[0] for row in cursor.fetchall())
                    ms = re.search(r"Execution Time: ([\d.]+) ms", plan).group(1)
                    shown = sql if len(sql) <= args.width else sql[: args.width] + " …"
                    print(f"\n-- {ms} ms\n```sql\n{shown}\n```\n```\n{plan}\n```")
                raise Rollback
        except Rollback:
            pass


if __name__ == "__main__":
    main()
