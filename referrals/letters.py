"""Feedback letters to the referring practice: queue (outbox), render (pure), deliver (exactly once).

The flow, as pretix writes invoices: copy every fact onto the row when the moment happens, render
the PDF from those facts only, then send. Delivery claims the row with conditional updates, so a
task that runs twice, a retry, or two workers never send a letter twice:

    pending --render--> rendered --claim--> sending --sent--> sent
                                      \\--error--> failed --retry--> sending ...
                                      \\--killed, swept--> interrupted --planner's retry--> failed

The claim is also the mark that the letter is being handed to the mail server
(``handed_over_at``): the mail is put together before it, so between the committed claim and the
server's answer there is nothing but the send. A worker killed while *sending* leaves the row in
``sending``; the sweeper turns such rows into ``interrupted`` with a clear error after a grace
period, so the planner sees them and decides (the SMTP server may or may not have accepted the
message). Nothing automatic claims an interrupted
letter: not the task's retries, not the sweeper, not a copy of the task the broker redelivers
later (Redis hands an unacknowledged task out again after its visibility timeout). A worker killed
before sending leaves ``pending``/``rendered`` rows that the sweeper queues again.

So every letter is sent at most once by the machinery and none is silently lost; the one case no
design can decide (killed between handing the mail to the server and recording it) goes to a
person.
"""

from __future__ import annotations

import datetime
import logging

from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from carechain.models import Membership, Role
from carechain.pdf import html_to_pdf

from .models import FeedbackLetter, Referral
from .notify import Event, notify_referrer

logger = logging.getLogger(__name__)

SENDING_GRACE = datetime.timedelta(minutes=15)
RESEND_AFTER = datetime.timedelta(minutes=5)
Kind = FeedbackLetter.Kind
Status = FeedbackLetter.Status


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def coach_facts(user, provider_id) -> dict:
    if user is None:
        return {"name": "", "krs": ""}
    membership = Membership.objects.filter(
        user=user, organisation_id=provider_id, role=Role.COACH
    ).first()
    return {"name": str(user), "krs": membership.krs_number if membership else ""}


def base_facts(referral: Referral, *, coach=None) -> dict:
    """What every letter shows: letterhead, addressee, patient identification, referral, coach."""
    provider, practice, patient = referral.provider, referral.practice, referral.patient
    return {
        "date": timezone.localdate().isoformat(),
        "provider": {
            "name": provider.name,
            "address": provider.address,
            "postal_code": provider.postal_code,
            "city": provider.city,
            "phone": provider.phone,
            "email": provider.email,
            "agb": provider.agb,
        },
        "practice": {
            "name": practice.name,
            "address": practice.address,
            "postal_code": practice.postal_code,
            "city": practice.city,
            "agb": practice.agb,
        },
        "referrer": referral.referrer_name,
        "patient": {
            "name": patient.full_name,
            "birth_date": _iso(patient.birth_date),
            "bsn": patient.bsn,
            "gender": patient.gender,
        },
        "referral": {
            "id": str(referral.public_id),
            "received": _iso(timezone.localdate(referral.received_at)),
            "channel": referral.get_channel_display(),
            "external_id": referral.external_id,
        },
        "coach": coach_facts(coach or referral.coach, referral.provider_id),
    }


def letter_queue(
    *, referral: Referral, kind: str, moment: dict, key: str | None = None, coach=None
) -> FeedbackLetter | None:
    """Create the outbox row inside the caller's transaction; delivery starts after commit.

    Returns None when this moment already has its letter (the same transition replayed).
    """
    key = key or kind
    facts = {**base_facts(referral, coach=coach), "kind": kind, "moment": moment}
    try:
        with transaction.atomic():
            letter = FeedbackLetter.objects.create(
                referral=referral,
                kind=kind,
                key=key,
                facts=facts,
                recipient=referral.practice.secure_email,
            )
    except IntegrityError:
        return None
    transaction.on_commit(lambda: _enqueue(letter.pk))
    notify_referrer(referral_id=referral.pk, event=Event.FEEDBACK_ADDED)
    return letter


def _enqueue(letter_id: int) -> None:
    """Start delivery; a failure here (broker down, or an eager run that failed) never breaks the
    caller: the row stays pending/failed and the sweeper or the planner picks it up."""
    from .tasks import deliver_letter

    try:
        deliver_letter.delay(letter_id)
    except Exception:
        logger.exception("feedback letter %s: delivery could not start now", letter_id)


# -- rendering (pure) -------------------------------------------------------------------------------
def render_letter_html(letter: FeedbackLetter) -> str:
    with translation.override("nl"):
        return render_to_string(
            f"referrals/letters/{letter.kind}.html", {"letter": letter, "f": letter.facts}
        )


def render_letter_pdf(letter: FeedbackLetter) -> bytes:
    return html_to_pdf(render_letter_html(letter))


def letter_filename(letter: FeedbackLetter) -> str:
    return f"terugkoppeling-{letter.public_id}.pdf"


# -- delivery ------------------------------------------------------------------------------------
def letter_render(letter_id: int) -> tuple[FeedbackLetter | None, bytes | None]:
    """Render and store the PDF once. Returns the letter as stored (None when there is none) and
    the PDF's bytes when this call rendered it, so that the send need not read them back."""
    letter = FeedbackLetter.objects.filter(pk=letter_id).first()
    if letter is None or letter.status != Status.PENDING:
        return letter, None
    pdf = render_letter_pdf(letter)
    letter.pdf.save(letter_filename(letter), ContentFile(pdf), save=False)
    rendered_at = timezone.now()
    claimed = FeedbackLetter.objects.filter(pk=letter_id, status=Status.PENDING).update(
        status=Status.RENDERED, pdf=letter.pdf.name, rendered_at=rendered_at
    )
    if not claimed:  # someone else rendered it meanwhile; keep theirs
        letter.pdf.storage.delete(letter.pdf.name)
        return FeedbackLetter.objects.get(pk=letter_id), None
    letter.status, letter.rendered_at = Status.RENDERED, rendered_at
    return letter, pdf


SENDABLE = (Status.RENDERED, Status.FAILED)


def letter_send(
    letter_id: int, *, letter: FeedbackLetter | None = None, pdf: bytes | None = None
) -> bool:
    """Send the rendered letter if nobody else is or was; True when this call sent it.

    ``letter`` is the row as the caller just loaded it, to spare a query: only what never changes
    once the PDF is stored (facts, recipient, key, PDF) is read from it, and its status to skip
    a letter plainly not waiting to be sent; the claim below decides. ``pdf`` is the stored PDF's
    bytes when the caller has them.
    Raises on a mail failure (the task retries): the row is then 'failed' with the error.
    """
    if letter is None or not letter.pdf:
        letter = FeedbackLetter.objects.filter(pk=letter_id).first()
    if letter is None or letter.status not in SENDABLE or not letter.pdf:
        return False
    message = _message(letter, pdf=pdf)
    # The claim marks the hand-over, committed before the mail server is asked: a delivery
    # interrupted from here on may have reached the server and is for the planner to decide
    # (letters_sweep); one interrupted before the claim is still 'rendered' and sent again.
    now = timezone.now()
    claimed = FeedbackLetter.objects.filter(pk=letter_id, status__in=SENDABLE).update(
        status=Status.SENDING,
        sending_since=now,
        handed_over_at=now,
        attempts=F("attempts") + 1,
    )
    if not claimed:
        return False
    try:
        message.send(fail_silently=False)
    except Exception as exc:
        FeedbackLetter.objects.filter(pk=letter_id, status=Status.SENDING).update(
            status=Status.FAILED, last_error=f"{type(exc).__name__}: {exc}"[:500]
        )
        raise
    FeedbackLetter.objects.filter(pk=letter_id, status=Status.SENDING).update(
        status=Status.SENT, sent_at=timezone.now(), last_error=""
    )
    return True


def _message(letter: FeedbackLetter, *, pdf: bytes | None = None) -> EmailMessage:
    facts = letter.facts
    with translation.override("nl"):
        subject = render_to_string(
            "referrals/letters/email_subject.txt", {"f": facts, "letter": letter}
        )
        body = render_to_string("referrals/letters/email_body.txt", {"f": facts, "letter": letter})
    message = EmailMessage(
        subject=" ".join(subject.split()),
        body=body,
        to=[letter.recipient],
        headers={"Message-ID": letter.message_id},
    )
    if pdf is None:
        with letter.pdf.open("rb") as handle:
            pdf = handle.read()
    message.attach(letter_filename(letter), pdf, "application/pdf")
    return message


def letter_deliver(letter_id: int) -> bool:
    """Render if needed, then send; safe to call any number of times. Four queries for a new
    letter: load, mark rendered, claim the send (marking the hand-over), mark sent."""
    letter, pdf = letter_render(letter_id)
    if letter is None:
        return False
    return letter_send(letter_id, letter=letter, pdf=pdf)


WAITING_FOR_PLANNER = (Status.FAILED, Status.INTERRUPTED)


def letter_retry(*, letter_id: int) -> FeedbackLetter:
    """The planner's retry of a failed or interrupted letter (the row stays the same letter, with
    the same Message-ID, so a practice that got it twice can tell)."""
    letter = FeedbackLetter.objects.get(pk=letter_id, status__in=WAITING_FOR_PLANNER)
    FeedbackLetter.objects.filter(pk=letter_id, status=Status.INTERRUPTED).update(
        status=Status.FAILED
    )
    transaction.on_commit(lambda: _enqueue(letter.pk))
    return letter


def letters_sweep(*, now: datetime.datetime | None = None) -> dict:
    """Periodic: queue letters whose task was lost; flag deliveries interrupted mid-send.

    A delivery interrupted before the letter was handed to the mail server is simply sent again
    (it is still, or goes back to, 'rendered' and is queued below); one interrupted after that
    may or may not have reached the server, so it waits for the planner ('interrupted'), never
    resent by itself.
    """
    now = now or timezone.now()
    stuck = FeedbackLetter.objects.filter(
        status=Status.SENDING, sending_since__lt=now - SENDING_GRACE
    )
    # Claimed without the hand-over mark: only a delivery claimed by an earlier version, which
    # marked the hand-over in a statement of its own after the claim.
    resend = stuck.filter(handed_over_at__isnull=True).update(
        status=Status.RENDERED,
        last_error="Delivery was interrupted before the mail server had the letter; sent again.",
    )
    stuck = stuck.filter(handed_over_at__isnull=False).update(
        status=Status.INTERRUPTED,
        last_error="Delivery was interrupted; it is unknown whether the mail server accepted it. "
        "Check with the practice, then retry if needed.",
    )
    lost = list(
        FeedbackLetter.objects.filter(
            Q(status=Status.PENDING) | Q(status=Status.RENDERED), created_at__lt=now - RESEND_AFTER
        ).values_list("pk", flat=True)
    )
    for letter_id in lost:
        _enqueue(letter_id)
    return {"interrupted": stuck, "resent": resend, "requeued": len(lost)}
