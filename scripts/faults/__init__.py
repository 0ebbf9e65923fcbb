"""Fault-injection scenarios against real Celery workers on Redis and PostgreSQL.

Each module has ``run(bounded: bool) -> dict`` returning at least
``{"fault", "faults_injected", "items", "lost", "doubled"}``; ``scripts/fault_injection.py`` runs
each in its own process (Django is set up once per process, on that scenario's throwaway
database) and exits non-zero on any loss or double. This package holds what the letter
scenarios share: the world they queue letters in, the sweeper as beat would run it, and how
letters are counted afterwards.

What the letter outbox guarantees, and so what is counted (``referrals/letters.py``):

- a letter is never sent twice by the machinery: the send is claimed by a conditional update, and
  a delivery interrupted after the claim is never claimed again automatically;
- a letter is never silently lost: a killed task or a Redis that lost its queue leaves the row
  ``pending``/``rendered`` and the sweeper queues it again;
- a worker killed after claiming the send but *before* handing the mail to the mail server (the
  letter's ``handed_over_at`` mark is committed just before the server is asked) is sent again
  by the sweeper by itself: delivered exactly once;
- a worker killed *between handing the mail over and recording it* cannot know whether the mail
  server took the message (no SMTP server can be asked). The sweeper flags such letters
  ``interrupted`` for the planner instead of re-sending them. They are counted apart:
  ``interrupted_handed_over`` (the mail was written: delivered once) and
  ``interrupted_not_handed_over`` (no mail yet: the planner's retry sends it). Neither is lost or
  doubled; both are printed.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for path in (ROOT, ROOT / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

LETTER_MOMENT = {
    "intake_date": "2026-11-20",
    "cigarettes_per_day": 22,
    "years_smoked": 31,
    "pack_years": "34,1",
    "earlier_quit_attempts": 2,
    "motivated": True,
    "quit_date": "2026-12-02",
    "medication": ["nicotinepleister"],
    "medication_prescription": [],
}


_STARTED = time.monotonic()


def log(message: str) -> None:
    """A progress line (the runner shows it indented), with the seconds since the start."""
    print(f"{time.monotonic() - _STARTED:6.1f} s  {message}", flush=True)


def setup_django() -> None:
    """Django on the throwaway database, migrated, as a production process (no test shortcuts:
    ``processes.app_environment`` must have run first)."""
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    log("throwaway database migrated")


def make_referrals(count: int) -> list[int]:
    """``count`` referrals from one practice to one provider, ready to get a letter each."""
    from tests import factories

    zorggroep = factories.ZorggroepFactory()
    provider = factories.ProviderFactory()
    zorggroep.smr_provider = provider
    zorggroep.save(update_fields=["smr_provider"])
    practice = factories.PracticeFactory(zorggroep=zorggroep)
    coach = factories.member("coach", provider)
    return [
        factories.ReferralFactory(
            patient=factories.PatientFactory(practice=practice), provider=provider, coach=coach
        ).pk
        for _ in range(count)
    ]


def queue_letters(referral_ids: list[int], *, key: str = "intake_done") -> list[int]:
    """One intake letter per referral through the real outbox service; the tasks reach the
    broker when the transaction commits."""
    from django.db import transaction

    from referrals import letters
    from referrals.models import Referral

    ids = []
    with transaction.atomic():
        for referral in Referral.objects.filter(pk__in=referral_ids).select_related(
            "patient", "practice", "provider", "coach"
        ):
            letter = letters.letter_queue(
                referral=referral, kind="intake_done", key=key, moment=LETTER_MOMENT
            )
            ids.append(letter.pk)
    return ids


def sweep(*, after_grace: bool = False) -> dict:
    """The sweeper as beat runs it every 5 minutes, with the clock moved on far enough that the
    letters whose task was lost count as lost (``RESEND_AFTER``); with ``after_grace`` also far
    enough that a delivery still ``sending`` counts as interrupted (``SENDING_GRACE``). Only call
    that one with no worker running, or a live delivery would be flagged."""
    import datetime

    from django.utils import timezone

    from referrals import letters

    ahead = letters.SENDING_GRACE if after_grace else letters.RESEND_AFTER
    return letters.letters_sweep(now=timezone.now() + ahead + datetime.timedelta(seconds=1))


def open_letters() -> int:
    """Letters a worker or the sweeper's re-queueing still has to deliver. Not counted: sent
    ones, and ``sending`` ones (a live worker finishes its one before a warm shutdown; a killed
    worker's is the grace sweep's, run once no worker is left)."""
    from referrals.models import FeedbackLetter

    Status = FeedbackLetter.Status
    return FeedbackLetter.objects.filter(
        status__in=[Status.PENDING, Status.RENDERED, Status.FAILED]
    ).count()


def letters_outcome(letter_ids: list[int], *, mail_dir: Path, media_root: Path) -> dict:
    """Count, per letter, the mails written and the PDFs stored; see the module docstring."""
    from referrals.models import FeedbackLetter
    from tests.letters.mail_backends import sent_message_ids

    rows = list(FeedbackLetter.objects.filter(pk__in=letter_ids))
    known = {letter.message_id for letter in FeedbackLetter.objects.only("pk", "key")}
    mails = Counter(sent_message_ids(mail_dir))
    files = {str(path.relative_to(media_root)) for path in (media_root / "letters").rglob("*.pdf")}
    referenced = {row.pdf.name for row in rows if row.pdf}
    referenced_by_any = set(FeedbackLetter.objects.exclude(pdf="").values_list("pdf", flat=True))
    by_status = Counter(row.status for row in rows)
    interrupted = [row for row in rows if row.status == FeedbackLetter.Status.INTERRUPTED]
    lost = [
        row
        for row in rows
        if mails[row.message_id] == 0 and row.status != FeedbackLetter.Status.INTERRUPTED
    ]
    return {
        "items": len(letter_ids),
        "lost": len(lost) + (len(letter_ids) - len(rows)),
        "doubled": sum(1 for row in rows if mails[row.message_id] > 1),
        "mails_sent": sum(mails[row.message_id] for row in rows),
        "mails_unknown": sum(n for message_id, n in mails.items() if message_id not in known),
        "sent_without_mail": sum(
            1 for row in rows if row.status == "sent" and mails[row.message_id] != 1
        ),
        "pdfs_stored": len(referenced & files),
        "pdfs_missing": len(referenced - files),
        "pdfs_orphaned": len(files - referenced_by_any),
        "interrupted_handed_over": sum(1 for row in interrupted if mails[row.message_id] == 1),
        "interrupted_not_handed_over": sum(1 for row in interrupted if mails[row.message_id] == 0),
        "statuses": dict(by_status),
        "guarantee": "never sent twice automatically, never silently lost; a delivery killed "
        "before the mail server had the letter is sent again by the sweeper; one killed while "
        "handing it over is flagged 'interrupted' for the planner (counted apart above, as "
        "handed over or not; neither lost nor doubled)",
    }


def letters_ok(outcome: dict) -> bool:
    return (
        outcome["lost"] == 0
        and outcome["doubled"] == 0
        and outcome["sent_without_mail"] == 0
        and outcome["mails_unknown"] == 0
        and outcome["pdfs_missing"] == 0
        and outcome["pdfs_orphaned"] == 0
    )
