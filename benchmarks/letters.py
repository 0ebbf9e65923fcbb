"""Benchmark: one-page feedback letters through the outbox on one Celery worker, against bare
WeasyPrint rendering the same HTML on the same core.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python benchmarks/letters.py
    ... benchmarks/letters.py --quick

The app side is the whole delivery: the real outbox service queues N intake letters in one
transaction (``referrals.letters.letter_queue``; the tasks reach Redis on commit), and one real
``celery -A smr worker --concurrency=1`` (prefork, settings as in production: DEBUG off, acks
late, prefetch 1) renders each PDF, stores it under MEDIA_ROOT, and mails it (a backend writing
one file per message). Its rate is N divided by the time from the first letter queued to the last
one marked sent (the rows' own timestamps).

The anchor is ``weasyprint.HTML(string=html).write_pdf()`` on the HTML of the same letter, N
times in this process. The worker keeps one WeasyPrint ``FontConfiguration`` per process
(``carechain/pdf.py``), which the plain call builds anew for every document; the notes also give
bare WeasyPrint with one kept configuration and the ratio against that, so that what the outbox
itself costs stays visible. Fairness: the worker and its pool child are pinned to core 1 with
``taskset``; this process pins itself to core 1 too while it renders the anchor (the worker is
idle then, blocked on Redis) and to core 0 while it waits for the worker (PostgreSQL and Redis run
where the scheduler puts them, as in production). Rounds alternate anchor, app, anchor, app...;
medians. Run on PostgreSQL: without DATABASE_URL the worker would share a SQLite file.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from harness import Result, report, setup_django, throwaway_database
from processes import letter_world, private_redis, wait_until

from scripts import faults

WORKER_CPU = 1
COORDINATOR_CPU = 0
NAME = "feedback letters: one-page PDF through the outbox on one Celery worker"


def pin(cpu: int) -> None:
    if hasattr(os, "sched_setaffinity") and os.cpu_count() and os.cpu_count() > cpu:
        os.sched_setaffinity(0, {cpu})


def letter_html() -> str:
    from referrals.letters import render_letter_html
    from referrals.models import FeedbackLetter

    return render_letter_html(FeedbackLetter.objects.order_by("pk").first())


def bare_rate(html: str, count: int, *, font_config=None) -> float:
    """Letters per second of WeasyPrint alone, on the worker's core: the plain call (a new font
    set-up per document), or with one ``FontConfiguration`` kept, as the worker keeps one."""
    from django.conf import settings
    from weasyprint import HTML

    pin(WORKER_CPU)
    try:
        started = time.perf_counter()
        for _ in range(count):
            HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(font_config=font_config)
        return count / (time.perf_counter() - started)
    finally:
        pin(COORDINATOR_CPU)


def outbox_rate(referral_ids: list[int], key: str, *, timeout: float = 1800) -> tuple[float, list]:
    """Queue one letter per referral through the outbox and wait until every one is sent;
    letters per second from the first queued to the last sent, and the letters' ids."""
    from django.db.models import Max
    from django.utils import timezone

    from referrals.models import FeedbackLetter

    started = timezone.now()
    ids = faults.queue_letters(referral_ids, key=key)
    letters = FeedbackLetter.objects.filter(pk__in=ids)
    wait_until(
        lambda: not letters.exclude(status=FeedbackLetter.Status.SENT).exists(),
        timeout=timeout,
        interval=0.2,
        what=f"{len(ids)} letters sent",
    )
    last = letters.aggregate(last=Max("sent_at"))["last"]
    return len(ids) / (last - started).total_seconds(), ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--letters", type=int, default=60, help="letters per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="20 letters, 3 rounds")
    args = parser.parse_args()
    count, rounds = (20, 3) if args.quick else (args.letters, args.rounds)

    with throwaway_database(), private_redis() as redis, letter_world(redis) as world:
        workers, media, mails = world
        setup_django()
        pin(COORDINATOR_CPU)
        referral_ids = faults.make_referrals(count)
        workers.start(cpu=WORKER_CPU)
        _, warm = outbox_rate(referral_ids[:3], "warm-up", timeout=300)  # imports, fonts
        html = letter_html()
        from weasyprint.text.fonts import FontConfiguration

        kept = FontConfiguration()
        bare_rate(html, 3)
        bare_rate(html, 3, font_config=kept)
        all_ids, apps, anchors, kept_anchors = list(warm), [], [], []
        for round_ in range(rounds):
            anchors.append(bare_rate(html, count))
            kept_anchors.append(bare_rate(html, count, font_config=kept))
            rate, ids = outbox_rate(referral_ids, f"round-{round_}")
            apps.append(rate)
            all_ids += ids
        workers.stop_all()
        outcome = faults.letters_outcome(all_ids, mail_dir=mails, media_root=media)

    report(
        Result(
            name=NAME,
            figure=statistics.median(apps),
            anchor=statistics.median(anchors),
            unit="letters/s",
            anchor_label="bare WeasyPrint, same HTML, same core",
            higher_is_better=True,
            target_ratio=0.8,
            checks={
                "0 lost": outcome["lost"] == 0,
                "0 doubled": outcome["doubled"] == 0,
                "every PDF stored": outcome["pdfs_stored"] == len(all_ids),
            },
            notes=(
                f"{count} letters × {rounds} rounds; app rounds "
                + ", ".join(f"{r:.2f}" for r in apps)
                + "; anchor rounds "
                + ", ".join(f"{r:.2f}" for r in anchors)
                + "; bare WeasyPrint with one kept FontConfiguration "
                + ", ".join(f"{r:.2f}" for r in kept_anchors)
                + f" (median {statistics.median(kept_anchors):.2f}/s, app ratio to it "
                + f"{statistics.median(apps) / statistics.median(kept_anchors):.2f})"
                + f"; worker and anchors pinned to core {WORKER_CPU}"
            ),
        )
    )


if __name__ == "__main__":
    main()
