"""Benchmark: FHIR intake with 1, 2 and 4 gunicorn workers on one database, and the audit chain's
cost under 4 concurrent writers.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python benchmarks/scale_out_intake.py
    .venv/bin/python benchmarks/scale_out_intake.py --quick

The platform grows by adding gunicorn processes (and machines) on the same PostgreSQL and Redis.
For each number of workers: interleaved rounds of the bare view (anchor, same workers) and distinct
ZorgDomein and KIS bundles; one row per setup with the referrals/s.

The audit log is written by every audited request. Four processes write audit rows, one row per
transaction as a request does, (a) with the hash chain as it was, one chain (``AUDIT_CHAINS=1``),
(b) with the chains side by side (``AUDIT_CHAINS=16``, the default), against (c) plain inserts of
the same rows without any chain: the anchor.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import secrets
import statistics
import time

from harness import Result, report, setup_django, throwaway_database
from intake_load import (
    KIS_PATH,
    ZD_PATH,
    bare_requests,
    build_world,
    drive,
    gunicorn,
    intake_requests,
    kis_bodies,
    zorgdomein_bodies,
)

WRITERS = 4
PLAIN = 999  # the plain rows' own "chain", so verifying the chained rows can leave them out


def scale_out(world, *, workers: int, rounds: int, per_round: int, bare_count: int, vendor: str):
    from django.db import connections

    from referrals.models import Referral

    rng = random.Random(workers)
    connections.close_all()
    bare, intake, errors = [], [], 0
    with gunicorn(workers=workers) as port:
        for _ in range(rounds):
            half = per_round // 2
            requests = intake_requests(
                ZD_PATH, world.practice_key, zorgdomein_bodies(world, half, rng)
            ) + intake_requests(KIS_PATH, world.zorggroep_key, kis_bodies(world, half, rng))
            random.Random(len(intake)).shuffle(requests)
            load = drive(port, bare_requests(bare_count), concurrency=4 * workers)
            bare.append(load.per_second)
            errors += load.server_errors
            before = Referral.objects.count()
            load = drive(port, requests, concurrency=4 * workers)
            intake.append((Referral.objects.count() - before) / load.seconds)
            errors += load.server_errors
    print(
        f"{workers} worker(s): intake {', '.join(f'{x:.0f}' for x in intake)} referrals/s; "
        f"bare {', '.join(f'{x:.0f}' for x in bare)} requests/s"
    )
    return report(
        Result(
            name=f"scale-out: FHIR intake, {workers} gunicorn worker(s), {vendor}",
            figure=statistics.median(intake),
            anchor=statistics.median(bare),
            unit="req/s",
            anchor_label=f"bare view, {workers} worker(s)",
            higher_is_better=True,
            target_ratio=0.25,
            checks={"no 5xx": errors == 0},
            notes=f"ZorgDomein and KIS mixed, medians of {rounds} rounds of {per_round}",
        )
    )


def _writer(mode: str, chains: int, count: int, barrier, results) -> None:
    """One process writing ``count`` audit rows, one transaction each."""
    from django.conf import settings
    from django.db import transaction

    from audit.models import AuditEvent
    from audit.services import audit_record
    from carechain.access import Actor

    settings.AUDIT_CHAINS = chains
    who = Actor.system()
    AuditEvent.objects.exists()  # connect before the clock starts
    barrier.wait(timeout=120)
    start = time.perf_counter()
    for i in range(count):
        if mode == "chain":
            audit_record(who=who, action="view", patient_id=i, detail="bench")
        else:
            with transaction.atomic():
                event = AuditEvent(
                    action="view", channel=who.channel, patient_id=i, detail="bench", chain=PLAIN
                )
                event.prev_hash = secrets.token_hex(32)
                event.hash = secrets.token_hex(32)
                AuditEvent.objects.bulk_create([event])
    results.put(time.perf_counter() - start)


def audit_writes(mode: str, chains: int, count: int) -> float:
    """Rows per second written by ``WRITERS`` processes at once."""
    from django.db import connections

    connections.close_all()  # never share a connection with the forked writers
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(WRITERS + 1), context.Queue()
    processes = [
        context.Process(target=_writer, args=(mode, chains, count, barrier, results))
        for _ in range(WRITERS)
    ]
    for process in processes:
        process.start()
    barrier.wait(timeout=120)
    start = time.perf_counter()
    durations = [results.get(timeout=600) for _ in processes]
    wall = time.perf_counter() - start
    for process in processes:
        process.join()
    assert all(process.exitcode == 0 for process in processes)
    return WRITERS * count / max(wall, max(durations))


def audit_chain_cost(*, rounds: int, count: int, vendor: str) -> None:
    from audit.services import audit_verify_chain

    figures = {"one chain": [], "16 chains": [], "plain": []}
    for _ in range(rounds):
        figures["plain"].append(audit_writes("plain", 1, count))
        figures["one chain"].append(audit_writes("chain", 1, count))
        figures["16 chains"].append(audit_writes("chain", 16, count))
    plain = statistics.median(figures["plain"])
    # Only the chained rows are checked: the plain inserts carry random hashes on purpose.
    from audit.models import AuditEvent

    plain_ids = set(AuditEvent.objects.filter(chain=PLAIN).values_list("pk", flat=True))
    chained_ok = all(
        int(problem.split(":")[0].removeprefix("row ")) in plain_ids
        for problem in audit_verify_chain(checkpoint=False)
    )
    for label in ("one chain", "16 chains"):
        print(
            f"audit, {WRITERS} writers, {label}: "
            f"{', '.join(f'{x:.0f}' for x in figures[label])} rows/s; "
            f"plain inserts {', '.join(f'{x:.0f}' for x in figures['plain'])} rows/s"
        )
        report(
            Result(
                name=f"audit log, {WRITERS} concurrent writers, {label} ({vendor})",
                figure=statistics.median(figures[label]),
                anchor=plain,
                unit="rows/s",
                anchor_label="plain inserts of the same rows",
                higher_is_better=True,
                target_ratio=0.5,
                checks={"chains verify (audit_verify)": chained_ok},
                notes="one row per transaction, as an audited request writes it",
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests and rounds")
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2, 4])
    args = parser.parse_args()
    rounds, per_round, bare_count, audit_rows = (
        (3, 120, 1000, 150) if args.quick else (3, 300, 3000, 500)
    )
    with throwaway_database() as vendor:
        setup_django()
        world = build_world()
        for workers in args.workers:
            scale_out(
                world,
                workers=workers,
                rounds=rounds,
                per_round=per_round,
                bare_count=bare_count,
                vendor=vendor,
            )
        audit_chain_cost(rounds=rounds, count=audit_rows, vendor=vendor)


if __name__ == "__main__":
    os.environ.setdefault("AUDIT_CHAINS", "16")
    main()
