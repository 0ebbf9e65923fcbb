"""Redis restarted while letters are queued: the queue is gone (no persistence), and after Redis
is back the sweeper queues the waiting letters again; none is lost and none is sent twice.

A real ``celery -A smr worker`` drains the letters; each fault waits until a few letters have
been sent, kills redis-server (SIGKILL, nothing saved) and starts it again on the same port after
a moment down. The worker reconnects by itself; the sweeper, as beat runs it, re-queues the
letters whose task was lost with the queue.
"""

from __future__ import annotations

from scripts import faults


def run(bounded: bool) -> dict:
    from harness import throwaway_database
    from processes import letter_world, private_redis, wait_until

    count, restarts = (20, 2) if bounded else (200, 5)
    with throwaway_database(), private_redis() as redis, letter_world(redis) as world:
        workers, media, mails = world
        faults.setup_django()
        from referrals.models import FeedbackLetter

        letter_ids = faults.queue_letters(faults.make_referrals(count))
        faults.log(f"{count} letters queued")
        sent = FeedbackLetter.objects.filter(status=FeedbackLetter.Status.SENT)
        lost_with_queue = []
        name = workers.start()
        step = max(2, count // (restarts + 2))
        for _ in range(restarts):
            target = sent.count() + step
            wait_until(lambda n=target: sent.count() >= n, timeout=180, what="letters sent")
            before = redis.waiting()
            redis.restart(down_seconds=1.0)
            lost_with_queue.append(before)
            faults.log(f"Redis restarted: {sent.count()} sent, {before} queued tasks lost")
            faults.sweep()  # beat's next sweep, once Redis is back

        def drained() -> bool:
            if faults.open_letters() == 0:
                return True
            if redis.waiting() == 0:
                faults.sweep()
            return False

        wait_until(drained, timeout=600, interval=0.5, what="every letter delivered")
        workers.stop(name)
        faults.log("every letter sent or interrupted")
        swept = faults.sweep(after_grace=True)
        outcome = faults.letters_outcome(letter_ids, mail_dir=mails, media_root=media)
        crashed_workers = workers.started - 1
    return {
        "fault": "Redis restarted (queue lost) while letters are queued",
        "faults_injected": redis.restarts,
        **outcome,
        "tasks_lost_with_the_queue": lost_with_queue,
        "flagged_by_sweeper": swept["interrupted"],
        "resent_by_sweeper": swept.get("resent", 0),
        "workers_restarted": crashed_workers,
        "ok": faults.letters_ok(outcome),
    }
