"""Benchmark: FHIR intake under gunicorn (2 workers) against a bare Django view under the same gunicorn.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python benchmarks/fhir_intake.py
    .venv/bin/python benchmarks/fhir_intake.py --quick            # SQLite, smaller

Starts gunicorn (``benchmarks/intake_load.gunicorn``: 2 gthread workers, production settings,
persistent connections) on a loopback port against a throwaway database, then, in interleaved
rounds: the bare view's requests/s (``/bench/constant``, the anchor), distinct ZorgDomein document
Bundles (``POST /fhir/Bundle``, a new patient each) and distinct KIS transaction Bundles
(``POST /fhir``), counting the referrals that reached the database. Medians per row. Then the same
ZorgDomein bundle and the same KIS bundle, each posted 100× at once: exactly one referral each.
"""

from __future__ import annotations

import argparse
import random
import statistics

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
    replay_at_once,
    zorgdomein_bodies,
)

TARGET_RATE = 200.0
TARGET_RATIO = 0.25


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests and rounds")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8, help="client connections")
    args = parser.parse_args()
    rounds, per_round, bare_count = (3, 100, 1500) if args.quick else (5, 200, 3000)

    with throwaway_database() as vendor:
        setup_django()
        from django.db import connections

        from referrals.models import Referral

        world = build_world()
        rng = random.Random(11)
        connections.close_all()
        figures: dict[str, list[float]] = {"bare": [], "zd": [], "kis": []}
        statuses = {"zd": {}, "kis": {}, "bare": {}}
        server_errors = 0

        def intake_round(label: str, path: str, key: str, bodies: list[bytes]) -> None:
            nonlocal server_errors
            before = Referral.objects.count()
            load = drive(port, intake_requests(path, key, bodies), concurrency=args.concurrency)
            created = Referral.objects.count() - before
            figures[label].append(created / load.seconds)
            server_errors += load.server_errors
            for status, n in load.statuses.items():
                statuses[label][status] = statuses[label].get(status, 0) + n

        with gunicorn(workers=args.workers) as port:
            for _ in range(rounds):
                zd = zorgdomein_bodies(world, per_round, rng)
                kis = kis_bodies(world, per_round, rng)
                load = drive(port, bare_requests(bare_count), concurrency=args.concurrency)
                figures["bare"].append(load.per_second)
                server_errors += load.server_errors
                intake_round("zd", ZD_PATH, world.practice_key, zd)
                intake_round("kis", KIS_PATH, world.zorggroep_key, kis)

            replays = {}
            for label, path, key, body in (
                ("zd", ZD_PATH, world.practice_key, zorgdomein_bodies(world, 1, rng)[0]),
                ("kis", KIS_PATH, world.zorggroep_key, kis_bodies(world, 1, rng)[0]),
            ):
                before = Referral.objects.count()
                answers = replay_at_once(port, path, key, body, times=100)
                made = Referral.objects.count() - before
                replays[label] = (made, sorted(set(answers)), answers.count(201))
                server_errors += sum(1 for s in answers if s >= 500 or s == 0)

        bare = statistics.median(figures["bare"])
        setup = f"gunicorn {args.workers} gthread workers × 4 threads, {vendor}"
        for label, name in (("zd", "ZorgDomein document Bundles"), ("kis", "KIS transactions")):
            rate = statistics.median(figures[label])
            made, answer_codes, created_answers = replays[label]
            print(
                f"{name}: rounds {', '.join(f'{x:.0f}' for x in figures[label])} referrals/s; "
                f"bare view {', '.join(f'{x:.0f}' for x in figures['bare'])} requests/s; "
                f"statuses {statuses[label]}; replay 100× → {made} referral(s), "
                f"answers {answer_codes} ({created_answers}× 201)"
            )
            report(
                Result(
                    name=f"FHIR intake: {name} ({setup})",
                    figure=rate,
                    anchor=bare,
                    unit="req/s",
                    anchor_label="bare Django view, same gunicorn",
                    higher_is_better=True,
                    target_ratio=TARGET_RATIO,
                    checks={
                        f"≥ {TARGET_RATE:.0f} referrals/s": rate >= TARGET_RATE,
                        "replay 100× at once → exactly one referral": made == 1
                        and created_answers == 1,
                        "no 5xx": server_errors == 0,
                    },
                    notes=f"medians of {rounds} interleaved rounds of {per_round} distinct bundles",
                )
            )


if __name__ == "__main__":
    main()
