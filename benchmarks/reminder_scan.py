"""Benchmark: the daily reminder scan over a region, first run (with due reminders to create).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python benchmarks/reminder_scan.py --trajectories 1000000
    .venv/bin/python benchmarks/reminder_scan.py --trajectories 20000     # SQLite, smaller

The region (``population.build_region(reminders=True)``) is as the scan finds it on any day: a
fifth of its trajectories with the 12-month call due or overdue, with the reminders earlier days'
scans made (resolved ones for the calls made), first contacts overdue; and today's new work, the
first run of the day's: about a day's worth of trajectories at the end of treatment whose call
comes within the 7-day notice (marked follow-up due, with a timeline event and an audit row each,
and reminded) and the first contacts that became overdue today.

Anchor: a bare ``SELECT count(*)`` of the same candidate rows with the same predicates (the
follow-up calls', the first contacts' and the KRS registrations'), in the same database: what any
scan must at least read to know its candidates. PostgreSQL may run it with parallel workers; the
scan's statements write, so they run in one backend: the same count in one backend is printed
beside it (and in the notes), the ratio is against the plain count.

The first run of a day happens once, so every round is a first run in a transaction that is
rolled back:
anchor (count), then the scan, then ROLLBACK, then VACUUM of the tables the scan wrote (so dead
rows of one round do not slow the next). Medians over ``--rounds``. Then one scan is committed and
a second scan is run as the idempotence check: it must create and mark nothing.

``--no-earlier-reminders`` builds the region without the earlier days' reminders: the first
scan ever, which creates one for every candidate (a one-off backfill; reported as its own row).
"""

from __future__ import annotations

import argparse
import statistics

from harness import Result, Timer, interleaved, report
from population import region_database


class Rollback(Exception):
    pass


def anchor_sql(today):
    """The anchor: a bare ``count(*)`` of the scan's candidates, with the scan's own predicates
    (the follow-up calls', the first contacts' and the KRS registrations'). Returns (sql,
    params)."""
    from django.db import connection

    from carechain.models import Membership, Role
    from pathways.models import Trajectory
    from referrals.models import Referral
    from reminders import services

    ops = connection.ops
    horizon = ops.adapt_datefield_value(today + services.FOLLOW_UP_NOTICE)
    follow_up = services.FOLLOW_UP_STATES
    waiting = services.AWAITING_FIRST_CONTACT
    count_sql = (
        "SELECT (SELECT count(*) FROM {t} WHERE state IN ({fs}) AND follow_up_due <= %s)"
        " + (SELECT count(*) FROM {r} WHERE state IN ({ws}) AND first_contact_at IS NULL"
        " AND first_contact_due < %s)"
        " + (SELECT count(*) FROM {m} WHERE role = %s AND is_active AND krs_valid_until <= %s)"
    ).format(
        t=Trajectory._meta.db_table,
        r=Referral._meta.db_table,
        m=Membership._meta.db_table,
        fs=", ".join(["%s"] * len(follow_up)),
        ws=", ".join(["%s"] * len(waiting)),
    )
    krs = ops.adapt_datefield_value(today + services.KRS_NOTICE)
    return count_sql, [
        *follow_up,
        horizon,
        *waiting,
        ops.adapt_datefield_value(today),
        Role.COACH,
        krs,
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trajectories", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-earlier-reminders", action="store_true")
    args = parser.parse_args()
    with region_database(args.trajectories, reminders=not args.no_earlier_reminders) as (
        vendor,
        region,
    ):
        from django.db import connection, transaction

        from carechain.models import Membership
        from pathways.models import Trajectory
        from referrals.models import Referral
        from reminders import services
        from reminders.models import Reminder

        before = Reminder.objects.count()
        today = region.today
        count_sql, count_params = anchor_sql(today)
        written = ["reminders_reminder", "pathways_trajectory", "pathways_trajectoryevent"]
        seen = {}

        one_backend = []

        def anchor() -> float:
            with connection.cursor() as cursor, Timer() as timer:
                cursor.execute(count_sql, count_params)
                seen["candidates"] = cursor.fetchone()[0]
            if vendor == "postgresql":
                # Also the same count in one backend, as the scan has: PostgreSQL 15 runs no
                # data-modifying statement in parallel, while the count may take two workers
                # (on a loaded 2-core machine that is up to three processes' share of the CPU).
                # Reported beside the figure; the anchor stays the plain count.
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
                    with Timer() as serial:
                        cursor.execute(count_sql, count_params)
                        cursor.fetchone()
                one_backend.append(serial.seconds * 1000)
            return timer.seconds * 1000

        def scan() -> float:
            try:
                with transaction.atomic():
                    with Timer() as timer:
                        result = services.reminders_scan(today=today)
                    seen["result"] = result
                    raise Rollback
            except Rollback:
                pass
            with connection.cursor() as cursor:
                if vendor == "postgresql":
                    for table in written:
                        cursor.execute(f"VACUUM {table}")
            return timer.seconds * 1000

        app, base, apps, anchors = interleaved(scan, anchor, rounds=args.rounds)
        first = seen["result"]
        final = services.reminders_scan(today=today)
        second = services.reminders_scan(today=today)
        print(
            f"{vendor}: {args.trajectories:,} trajectories, {seen['candidates']:,} candidates; "
            f"a first run creates {first.created:,} reminders and marks {first.marked_due:,} "
            f"trajectories follow-up due"
        )
        print("  scan ms:  " + ", ".join(f"{x:.0f}" for x in apps))
        print("  count ms: " + ", ".join(f"{x:.0f}" for x in anchors))
        serial_note = ""
        if one_backend:
            serial = statistics.median(one_backend)
            print("  count ms, one backend: " + ", ".join(f"{x:.0f}" for x in one_backend))
            serial_note = (
                f"; the count in one backend (no parallel workers, as the scan): {serial:.1f} ms,"
                f" ratio {app / serial:.2f}"
            )
        with connection.cursor() as cursor:
            cursor.execute(
                count_sql.replace(
                    "WHERE",
                    "WHERE NOT EXISTS (SELECT 1 FROM reminders_reminder m "
                    "WHERE m.trajectory_id = {t}.id) AND",
                    1,
                )
                .replace(
                    "AND first_contact_due",
                    "AND NOT EXISTS (SELECT 1 FROM reminders_reminder"
                    " m WHERE m.referral_id = {r}.id) AND first_contact_due",
                    1,
                )
                .replace(
                    "AND krs_valid_until",
                    "AND NOT EXISTS (SELECT 1 FROM reminders_reminder m WHERE m.membership_id"
                    " = {m}.id AND m.due = {m}.krs_valid_until) AND krs_valid_until",
                    1,
                )
                .format(
                    t=Trajectory._meta.db_table,
                    r=Referral._meta.db_table,
                    m=Membership._meta.db_table,
                ),
                count_params,
            )
            unreminded = cursor.fetchone()[0]
        backfill = args.no_earlier_reminders
        report(
            Result(
                name=f"reminder scan, {'first scan ever (backfill)' if backfill else 'first run of the day'}"
                f", {args.trajectories:,} trajectories",
                figure=app,
                anchor=base,
                unit="ms",
                anchor_label="bare SELECT count(*) of the candidates",
                higher_is_better=False,
                target_ratio=5,
                checks={
                    "every candidate has its reminder after the run": unreminded == 0,
                    "rounds and the committed run did the same": (first.created, first.marked_due)
                    == (final.created, final.marked_due)
                    and Reminder.objects.count() - before == final.created > 0,
                    "second run creates and marks nothing": second.created == 0
                    and second.marked_due == 0,
                },
                notes=f"{seen['candidates']:,} candidates; a run creates {first.created:,} "
                f"reminders and marks {first.marked_due:,} trajectories follow-up due; "
                f"median of {args.rounds} rolled-back rounds{serial_note}",
            )
        )


if __name__ == "__main__":
    main()
