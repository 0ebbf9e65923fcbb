"""Benchmark: one queue of feedback letters drained by 1 and then by 2 Celery workers (separate
processes, as ``docker compose up -d --scale worker=N`` runs them), throughput per setup, and
every letter sent exactly once.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python benchmarks/scale_out_letters.py
    ... benchmarks/scale_out_letters.py --quick        # 200 letters instead of 2,000

Per setup: the workers (``--concurrency=1`` each, pinned one per core) are started and warmed
up, then the real outbox service queues the letters in one transaction and the workers drain
them; letters per second from the first queued to the last marked sent. Lost = a letter not sent
or without its one mail and stored PDF; doubled = a letter mailed more than once.

Anchor, measured in the same run just before and just after each setup (the mean of the two, as
the machine's load drifts over a long drain): bare WeasyPrint's rate on one core for
the same HTML (see benchmarks/letters.py) times the number of workers, which is the physical
limit of N single-slot workers on N cores. With 2 workers on this 2-core machine PostgreSQL,
Redis and this process share the same two cores, so somewhat less than 2× is expected.
"""

from __future__ import annotations

import argparse

from harness import Result, report, setup_django, throwaway_database
from letters import COORDINATOR_CPU, bare_rate, letter_html, outbox_rate, pin
from processes import letter_world, private_redis

from scripts import faults


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--letters", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="200 letters")
    args = parser.parse_args()
    count = 200 if args.quick else args.letters
    anchor_letters = 10 if args.quick else 30

    with throwaway_database(), private_redis() as redis, letter_world(redis) as world:
        workers, media, mails = world
        setup_django()
        pin(COORDINATOR_CPU)
        referral_ids = faults.make_referrals(count)
        html = None
        for setup in (1, 2):
            names = [workers.start(cpu=cpu) for cpu in range(2 - setup, 2)]
            _, warm = outbox_rate(referral_ids[: 2 * setup], f"warm-up-{setup}", timeout=300)
            html = html or letter_html()
            before = bare_rate(html, anchor_letters)
            rate, ids = outbox_rate(referral_ids, f"workers-{setup}", timeout=7200)
            anchor = (before + bare_rate(html, anchor_letters)) / 2 * setup
            for name in names:
                workers.stop(name)
            outcome = faults.letters_outcome(ids, mail_dir=mails, media_root=media)
            report(
                Result(
                    name=f"feedback letters: {count:,} queued, drained by {setup} worker"
                    + ("s" if setup > 1 else ""),
                    figure=rate,
                    anchor=anchor,
                    unit="letters/s",
                    anchor_label=f"bare WeasyPrint on one core × {setup}",
                    higher_is_better=True,
                    target_ratio=0.8,
                    checks={
                        "0 lost": outcome["lost"] == 0
                        and outcome["pdfs_stored"] == count
                        and outcome["statuses"] == {"sent": count},
                        "0 doubled": outcome["doubled"] == 0,
                    },
                    notes=f"{outcome['mails_sent']} mails, {outcome['pdfs_stored']} PDFs for "
                    f"{count} letters; {setup} worker process(es), one slot each, one per core",
                )
            )


if __name__ == "__main__":
    main()
