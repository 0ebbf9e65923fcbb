"""Making the invitation letters: chunks of CHUNK_SIZE people rendered on Celery, each chunk
claimed by a conditional update; resumable after a failure without doubles; one printable PDF."""

from __future__ import annotations

import datetime
import io
import logging

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from audit.models import AuditEvent
from audit.services import audit_record
from carechain.access import Actor

from . import letters
from .models import Campaign, CampaignState, Invitee, LetterChunk, LetterStatus
from .services import CampaignRefused, _locked

logger = logging.getLogger(__name__)

CHUNK_SIZE = 50
STALE_CLAIM = datetime.timedelta(minutes=10)


def _enqueue_chunk(chunk_id: int) -> None:
    """Start a chunk; a failure here (broker down, an eager run that failed) never breaks the
    caller: the chunk stays pending or failed, and the sweep or the resume button picks it up."""
    from .tasks import render_letter_chunk

    try:
        render_letter_chunk.delay(chunk_id)
    except Exception:
        logger.exception("campaign letter chunk %s could not start now", chunk_id)


def _queue(chunk_ids: list[int]) -> None:
    for chunk_id in chunk_ids:
        transaction.on_commit(lambda chunk_id=chunk_id: _enqueue_chunk(chunk_id))


@transaction.atomic
def campaign_generate_letters(*, actor: Actor, campaign_id) -> Campaign:
    """Make the letters of everyone on the list without one, in chunks of CHUNK_SIZE on Celery.

    Pressed again while letters are being made, it resumes: failed chunks and chunks whose worker
    was lost are queued again; chunks already made are left as they are (no doubles)."""
    campaign = _locked(actor, campaign_id)
    if campaign.state == CampaignState.GENERATING:
        _resume(campaign, force=True)
        audit_record(
            who=actor,
            action=AuditEvent.Action.CHANGE,
            patient_id=None,
            obj=campaign,
            detail="letters resumed",
        )
        return campaign
    pending = list(
        campaign.invitees.filter(
            letter_status=LetterStatus.PENDING, chunk__isnull=True, erased_at__isnull=True
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not pending:
        raise CampaignRefused(_("Everyone on the list has a letter already."), code="nothing")
    if not can_proceed(campaign.start_generation):
        raise CampaignRefused(_("Letters cannot be made now."), code="invalid_state")
    campaign.start_generation()
    campaign.save()
    last = campaign.chunks.order_by("-number").values_list("number", flat=True).first() or 0
    chunk_ids = []
    for offset in range(0, len(pending), CHUNK_SIZE):
        last += 1
        chunk = LetterChunk.objects.create(campaign=campaign, number=last)
        Invitee.objects.filter(pk__in=pending[offset : offset + CHUNK_SIZE]).update(chunk=chunk)
        chunk_ids.append(chunk.pk)
    _queue(chunk_ids)
    audit_record(
        who=actor,
        action=AuditEvent.Action.CHANGE,
        patient_id=None,
        obj=campaign,
        detail=f"letters started: {len(pending)}",
    )
    return campaign


def _resume(campaign: Campaign, *, force: bool, now: datetime.datetime | None = None) -> int:
    """Give back chunks whose worker died (and, pressed by a person, failed ones) and queue them.

    Queuing a chunk twice is harmless: the second task finds it claimed or done."""
    now = now or timezone.now()
    again = Q(status=LetterChunk.Status.RENDERING, claimed_at__lt=now - STALE_CLAIM)
    if force:
        again |= Q(status=LetterChunk.Status.FAILED)
    ids = list(campaign.chunks.filter(again).values_list("pk", flat=True))
    LetterChunk.objects.filter(pk__in=ids).filter(again).update(
        status=LetterChunk.Status.PENDING, claimed_at=None
    )
    if force:  # also chunks whose task was lost with the broker
        ids = list(
            campaign.chunks.filter(status=LetterChunk.Status.PENDING).values_list("pk", flat=True)
        )
    _queue(ids)
    if not ids:
        transaction.on_commit(lambda: campaign_finish_if_done(campaign_id=campaign.pk))
    return len(ids)


def chunk_render(*, chunk_id: int) -> bool:
    """Claim one chunk, render its letters into one PDF, store it; True when this call made it.

    The claim is a conditional update, so two workers (or a retry) never render a chunk at the
    same time; a crash leaves it 'rendering' until the sweep gives it back."""
    claimable = [LetterChunk.Status.PENDING, LetterChunk.Status.FAILED]  # FAILED: the task's retry
    claimed = LetterChunk.objects.filter(pk=chunk_id, status__in=claimable).update(
        status=LetterChunk.Status.RENDERING, claimed_at=timezone.now(), attempts=F("attempts") + 1
    )
    if not claimed:
        return False
    chunk = LetterChunk.objects.select_related("campaign__practice").get(pk=chunk_id)
    invitees = list(chunk.invitees.filter(erased_at__isnull=True).order_by("pk"))
    try:
        pdf, page_counts = (
            letters.render_letters_pdf(chunk.campaign, invitees) if invitees else (b"", [])
        )
    except Exception as exc:
        LetterChunk.objects.filter(pk=chunk_id, status=LetterChunk.Status.RENDERING).update(
            status=LetterChunk.Status.FAILED, last_error=f"{type(exc).__name__}: {exc}"[:500]
        )
        raise
    with transaction.atomic():
        if pdf:
            if chunk.pdf:
                chunk.pdf.storage.delete(chunk.pdf.name)
            chunk.pdf.save(
                f"campaign-{chunk.campaign_id}-chunk-{chunk.number}.pdf",
                ContentFile(pdf),
                save=False,
            )
        now = timezone.now()
        first = 0
        for invitee, pages in zip(invitees, page_counts, strict=True):
            Invitee.objects.filter(pk=invitee.pk).update(
                letter_status=LetterStatus.DONE,
                letter_first_page=first,
                letter_pages=pages,
                letter_made_at=now,
            )
            first += pages
        LetterChunk.objects.filter(pk=chunk_id).update(
            status=LetterChunk.Status.DONE, pdf=chunk.pdf.name if pdf else "", last_error=""
        )
    campaign_finish_if_done(campaign_id=chunk.campaign_id)
    return True


def campaign_finish_if_done(*, campaign_id: int) -> bool:
    """When the last chunk is made: one printable PDF of all letters, and the campaign is ready."""
    from pypdf import PdfWriter

    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        if campaign.state != CampaignState.GENERATING:
            return False
        if campaign.chunks.exclude(status=LetterChunk.Status.DONE).exists():
            return False
        writer = PdfWriter()
        for chunk in campaign.chunks.exclude(pdf="").order_by("number"):
            with chunk.pdf.open("rb") as handle:
                writer.append(io.BytesIO(handle.read()))
        buffer = io.BytesIO()
        writer.write(buffer)
        if campaign.batch_pdf:
            campaign.batch_pdf.storage.delete(campaign.batch_pdf.name)
        campaign.batch_pdf.save(
            letters.batch_filename(campaign), ContentFile(buffer.getvalue()), save=False
        )
        campaign.finish_generation()
        campaign.save()
    return True


def chunks_sweep(*, now: datetime.datetime | None = None) -> int:
    """Periodic: chunks whose worker died are given back and queued again."""
    now = now or timezone.now()
    queued = 0
    for campaign in Campaign.objects.filter(state=CampaignState.GENERATING):
        with transaction.atomic():
            queued += _resume(campaign, force=False, now=now)
    return queued


def campaign_progress(campaign: Campaign) -> dict:
    counts = campaign.invitees.filter(erased_at__isnull=True, chunk__isnull=False)
    total = counts.count()
    done = counts.filter(letter_status=LetterStatus.DONE).count()
    failed = campaign.chunks.filter(status=LetterChunk.Status.FAILED).exists()
    return {
        "state": campaign.state,
        "done": done,
        "total": total,
        "failed": failed,
        "percent": round(100 * done / total) if total else 0,
    }


def invitee_letter_pdf(invitee: Invitee) -> bytes:
    """One person's letter: its pages cut from the chunk's PDF (no rendering in the request)."""
    from pypdf import PdfReader, PdfWriter

    if invitee.letter_status != LetterStatus.DONE or not invitee.chunk or not invitee.chunk.pdf:
        raise Http404
    with invitee.chunk.pdf.open("rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    writer = PdfWriter()
    for number in range(
        invitee.letter_first_page, invitee.letter_first_page + invitee.letter_pages
    ):
        writer.add_page(reader.pages[number])
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
