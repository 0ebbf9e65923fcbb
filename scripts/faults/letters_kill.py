"""The Celery worker SIGKILLed mid-letter while letters are queued: every letter is delivered
once (counted in the mails written and the PDFs stored), none twice, none silently lost.

A real ``celery -A smr worker`` (prefork, one slot) drains the queue on a private Redis and the
throwaway PostgreSQL database. Each fault waits until the worker is busy with a letter (one more
letter sent since it started, then a random moment within the time one letter takes), kills the
worker and its pool child with SIGKILL (nobody is left to requeue or acknowledge), and starts a
new one. Every other fault instead waits for the moment a letter is claimed for sending and kills
then, to hit the window between the claim and "sent" that a random moment rarely finds. The killed worker's task stays unacknowledged in Redis until the visibility timeout (an
hour), so the sweeper, as beat runs it, queues the letters again. At the end every task is
delivered once more, as an at-least-once broker may do, and nothing more may be sent.
"""

from __future__ import annotations

import contextlib
import random
import time

from scripts import faults


def run(bounded: bool) -> dict:
    from harness import throwaway_database
    from processes import letter_world, private_redis, wait_until

    count, kills = (30, 4) if bounded else (200, 20)
    rng = random.Random(11)
    with throwaway_database(), private_redis() as redis, letter_world(redis) as world:
        workers, media, mails = world
        faults.setup_django()
        from referrals.models import FeedbackLetter
        from referrals.tasks import deliver_letter

        letter_ids = faults.queue_letters(faults.make_referrals(count))
        faults.log(f"{count} letters queued")
        sent = FeedbackLetter.objects.filter(status=FeedbackLetter.Status.SENT)
        sending = FeedbackLetter.objects.filter(status=FeedbackLetter.Status.SENDING)
        injected = 0
        name = workers.start()
        while injected < kills and faults.open_letters():
            before = sent.count()
            try:
                wait_until(lambda n=before: sent.count() > n, timeout=120, what="a letter sent")
            except TimeoutError:
                faults.sweep()  # the queue ran dry with letters left: the sweeper's turn
                if name not in workers.alive():
                    name = workers.start()
                continue
            if injected % 2:  # at the send: the moment the row is claimed for sending
                moment = "at the send"
                with contextlib.suppress(TimeoutError):
                    wait_until(sending.exists, timeout=10, interval=0.002, what="a send")
            else:  # anywhere in a letter; rendering is most of its 0.3 s or more
                moment = "mid-letter"
                time.sleep(rng.uniform(0.0, 0.4))
            workers.kill(name)
            injected += 1
            faults.log(f"kill {injected} ({moment}): {sent.count()} sent")
            faults.sweep()
            name = workers.start()

        def drained() -> bool:
            if faults.open_letters() == 0:
                return True
            if redis.waiting() == 0:
                faults.sweep()
            return False

        wait_until(drained, timeout=600, interval=0.5, what="every letter delivered")
        workers.stop(name)
        faults.log("every letter sent or interrupted")
        swept = faults.sweep(after_grace=True)  # deliveries left 'sending' by a kill
        for letter_id in letter_ids:  # the broker delivers every task once more
            deliver_letter.delay(letter_id)
        name = workers.start()
        wait_until(lambda: redis.waiting() == 0, timeout=300, what="the redelivered tasks")
        workers.stop(name)
        outcome = faults.letters_outcome(letter_ids, mail_dir=mails, media_root=media)
    return {
        "fault": "worker SIGKILLed mid-letter",
        "faults_injected": injected,
        **outcome,
        "flagged_by_sweeper": swept["interrupted"],
        "resent_by_sweeper": swept.get("resent", 0),
        "ok": faults.letters_ok(outcome),
    }
