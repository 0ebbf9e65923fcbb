"""Letter-campaign use cases. Views, tasks, the demo and the tests all call these functions."""

from __future__ import annotations

import datetime
import io
import logging
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.http import Http404
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from audit.models import AuditEvent
from audit.services import Touch, audit_record, audit_record_many
from carechain.access import Actor
from carechain.models import Patient
from pathways.models import ACTIVE_STATES, FOLLOW_UP_STATES, Trajectory
from referrals import services as referral_services
from referrals.models import OPEN_STATES, Channel, Motivation, Referral, ReferralState

from . import letters, listfile
from .access import campaigns_for, get_campaign, practices_for_campaigns
from .models import (
    Answer,
    AnswerChannel,
    Campaign,
    CampaignState,
    Invitee,
    LetterChunk,
    LetterStatus,
    OptOut,
    RejectedRow,
    Upload,
    new_response_code,
)

logger = logging.getLogger(__name__)

CHUNK_SIZE = 50
STALE_CLAIM = datetime.timedelta(minutes=10)
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


class CampaignRefused(ValidationError):
    """The campaign is not in a state that allows this (any more)."""


class UnknownCode(ValidationError):
    """No letter carries this response code (or its list has been erased)."""


@dataclass(frozen=True)
class PublicAnswerer:
    """Who answers on the public page: nobody logged in; the audit log keeps the address."""

    ip: str | None
    channel: str = AuditEvent.Channel.WEB
    audit_user_id: int | None = None
    audit_username: str = ""
    audit_api_key: str = ""
    audit_roles: str = "invitee (answer page)"
    audit_organisation: str = ""


def opt_out_hash(bsn: str) -> str:
    """A keyed hash: without the key nobody can test whether a BSN opted out."""
    return salted_hmac(
        "campaigns.opt-out", bsn, secret=settings.CAMPAIGN_OPT_OUT_KEY, algorithm="sha256"
    ).hexdigest()


def _locked(actor: Actor, campaign_id) -> Campaign:
    try:
        return (
            campaigns_for(actor).select_for_update().select_related("practice").get(pk=campaign_id)
        )
    except (Campaign.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def _require_open_list(campaign: Campaign) -> None:
    if campaign.state not in (CampaignState.DRAFT, CampaignState.LETTERS_READY):
        raise CampaignRefused(
            _("People can be added while the campaign is being prepared or its letters are ready."),
            code="invalid_state",
        )


# -- the campaign ---------------------------------------------------------------------------------
@transaction.atomic
def campaign_create(*, actor: Actor, name: str, retention_months: int | None = None) -> Campaign:
    practice = practices_for_campaigns(actor).first()
    if practice is None:
        raise PermissionDenied
    campaign = Campaign(practice=practice, name=name.strip(), created_by=actor.user)
    if retention_months is not None:
        campaign.retention_months = retention_months
    campaign.full_clean(exclude=["state", "created_by"])
    campaign.save()
    audit_record(who=actor, action=AuditEvent.Action.CREATE, patient_id=None, obj=campaign)
    return campaign


@transaction.atomic
def campaign_update(
    *, actor: Actor, campaign_id, name: str, letter_text: str, retention_months: int
) -> Campaign:
    """Name, letter text and retention; the text only while no letter has been made from it."""
    campaign = _locked(actor, campaign_id)
    if campaign.state == CampaignState.ERASED:
        raise CampaignRefused(_("This campaign's list has been erased."), code="erased")
    text_changed = letter_text.replace("\r\n", "\n") != campaign.letter_text.replace("\r\n", "\n")
    if text_changed and campaign.state != CampaignState.DRAFT:
        raise CampaignRefused(
            _("The letters have been made; their text can no longer change."), code="letters_made"
        )
    unknown = letters.unknown_placeholders(letter_text)
    if unknown:
        raise ValidationError(
            {
                "letter_text": _("Unknown placeholders: %(names)s.")
                % {"names": ", ".join("{" + n + "}" for n in unknown)}
            }
        )
    campaign.name = name.strip()
    campaign.letter_text = letter_text.replace("\r\n", "\n")
    campaign.retention_months = retention_months
    campaign.full_clean(exclude=["state", "created_by"])
    campaign.save()
    audit_record(
        who=actor, action=AuditEvent.Action.CHANGE, patient_id=None, obj=campaign, detail="letter"
    )
    return campaign


# -- filling the list -----------------------------------------------------------------------------
def _in_care_bsns(practice_id: int, bsns: set[str]) -> set[str]:
    """BSNs of the practice's own patients with a referral under way or a trajectory running.

    Only the practice's own patients: whether someone is in care elsewhere is not the practice's
    to learn (see carechain.services on known BSNs)."""
    if not bsns:
        return set()
    referred = Referral.objects.filter(
        patient__practice_id=practice_id,
        patient__bsn__in=bsns,
        state__in=[*OPEN_STATES, ReferralState.CANCELLATION_REQUESTED],
    ).values_list("patient__bsn", flat=True)
    in_trajectory = Trajectory.objects.filter(
        patient__practice_id=practice_id,
        patient__bsn__in=bsns,
        state__in=[*ACTIVE_STATES, *FOLLOW_UP_STATES],
    ).values_list("patient__bsn", flat=True)
    return set(referred) | set(in_trajectory)


def _opted_out_bsns(campaign: Campaign, bsns: set[str]) -> set[str]:
    hashes = {opt_out_hash(bsn): bsn for bsn in bsns}
    found = OptOut.objects.filter(bsn_hash__in=list(hashes)).filter(
        Q(scope=OptOut.Scope.PRACTICE, practice_id=campaign.practice_id)
        | Q(scope=OptOut.Scope.ZORGGROEP, zorggroep_id=campaign.practice.zorggroep_id)
    )
    return {hashes[h] for h in found.values_list("bsn_hash", flat=True)}


def _with_codes(invitees: list[Invitee]) -> None:
    """Give each a fresh response code not in use (collisions are all but impossible: 50 bits)."""
    codes: set[str] = set()
    while len(codes) < len(invitees):
        codes.add(new_response_code())
    taken = set(
        Invitee.objects.filter(response_code__in=codes).values_list("response_code", flat=True)
    )
    codes -= taken
    while len(codes) < len(invitees):
        code = new_response_code()
        if not Invitee.objects.filter(response_code=code).exists():
            codes.add(code)
    for invitee, code in zip(invitees, list(codes)[: len(invitees)], strict=True):
        invitee.response_code = code


def _add(actor: Actor, campaign: Campaign, upload: Upload, candidates: list[Invitee]) -> Upload:
    """Skip duplicates, people in care and opt-outs, add the rest; counts go on the upload row."""
    bsns = {c.bsn for c in candidates}
    in_campaign = set(campaign.invitees.filter(bsn__in=bsns).values_list("bsn", flat=True))
    in_care = _in_care_bsns(campaign.practice_id, bsns)
    opted_out = _opted_out_bsns(campaign, bsns)
    patients = dict(
        Patient.objects.filter(practice_id=campaign.practice_id, bsn__in=bsns).values_list(
            "bsn", "pk"
        )
    )
    seen: set[str] = set()
    fresh = []
    for candidate in candidates:
        if candidate.bsn in seen or candidate.bsn in in_campaign:
            upload.skipped_duplicate += 1
        elif candidate.bsn in opted_out:
            upload.skipped_opted_out += 1
        elif candidate.bsn in in_care:
            upload.skipped_in_care += 1
        else:
            candidate.campaign = campaign
            candidate.patient_id = candidate.patient_id or patients.get(candidate.bsn)
            fresh.append(candidate)
        seen.add(candidate.bsn)
    _with_codes(fresh)
    Invitee.objects.bulk_create(fresh, batch_size=1000)
    upload.added = len(fresh)
    upload.save()
    audit_record(
        who=actor,
        action=AuditEvent.Action.CREATE,
        patient_id=None,
        obj=upload,
        detail=f"campaign {campaign.pk}: {upload.added} added, {upload.rows} rows",
    )
    audit_record_many(
        who=actor,
        action=AuditEvent.Action.CREATE,
        touches=[Touch(i.patient_id, i, f"campaign {campaign.pk} list") for i in fresh],
    )
    return upload


def campaign_upload_list(*, actor: Actor, campaign_id, raw: bytes, filename: str = "") -> Upload:
    """Read a HIS export; every bad row is kept as a RejectedRow with its line and reason.

    Raises listfile.UnreadableFile when the file as a whole cannot be read."""
    if len(raw) > MAX_UPLOAD_BYTES:
        raise listfile.UnreadableFile(
            _("The file is larger than %(mb)s MB; split the list.")
            % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)},
            code="too_large",
        )
    parsed = listfile.read_list(raw)
    for attempt in range(3):
        try:
            with transaction.atomic():
                campaign = _locked(actor, campaign_id)
                _require_open_list(campaign)
                upload = Upload.objects.create(
                    campaign=campaign,
                    by=actor.user,
                    source="csv",
                    filename=filename[:200],
                    encoding=parsed.encoding,
                    delimiter=parsed.delimiter,
                    rows=parsed.rows,
                    rejected=len(parsed.rejections),
                )
                RejectedRow.objects.bulk_create(
                    RejectedRow(upload=upload, line=r.line, reason=r.reason[:300])
                    for r in parsed.rejections
                )
                candidates = [
                    Invitee(
                        bsn=p.bsn,
                        initials=p.initials,
                        first_name=p.first_name,
                        name_prefix=p.name_prefix,
                        last_name=p.last_name,
                        birth_date=p.birth_date,
                        address=p.address,
                        postal_code=p.postal_code,
                        city=p.city,
                    )
                    for p in parsed.people
                ]
                return _add(actor, campaign, upload, candidates)
        except IntegrityError:  # a response code or BSN taken at this very moment: try again
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def eligible_patients(actor: Actor, campaign: Campaign):
    """The practice's registered patients who may be invited: not on the list, not in care."""
    on_list = campaign.invitees.exclude(bsn="").values("bsn")
    busy = Q(referrals__state__in=[*OPEN_STATES, ReferralState.CANCELLATION_REQUESTED]) | Q(
        trajectories__state__in=[*ACTIVE_STATES, *FOLLOW_UP_STATES]
    )
    busy_ids = Patient.objects.filter(busy, practice_id=campaign.practice_id).values("pk")
    return (
        Patient.objects.filter(practice_id=campaign.practice_id)
        .exclude(bsn__in=on_list)
        .exclude(pk__in=busy_ids)
        .order_by("last_name", "first_name", "pk")
    )


@transaction.atomic
def campaign_add_patients(*, actor: Actor, campaign_id, patient_ids: list[int]) -> Upload:
    campaign = _locked(actor, campaign_id)
    _require_open_list(campaign)
    patients = list(Patient.objects.filter(practice_id=campaign.practice_id, pk__in=patient_ids))
    if len(patients) != len(set(patient_ids)):
        raise ValidationError({"patients": _("Choose patients of your own practice.")})
    upload = Upload.objects.create(
        campaign=campaign, by=actor.user, source="patients", rows=len(patients)
    )
    candidates = [
        Invitee(
            patient_id=p.pk,
            bsn=p.bsn,
            initials=p.initials,
            first_name=p.first_name,
            name_prefix=p.name_prefix,
            last_name=p.last_name,
            birth_date=p.birth_date,
            address=p.address,
            postal_code=p.postal_code,
            city=p.city,
            phone=p.phone,
        )
        for p in patients
    ]
    return _add(actor, campaign, upload, candidates)


# -- the letters ----------------------------------------------------------------------------------
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


# -- answers --------------------------------------------------------------------------------------
def normalise_code(value: str) -> str:
    return "".join(ch for ch in (value or "").upper() if ch.isalnum())


def _erase(invitee: Invitee, *, keep_code: bool = False) -> None:
    for name in Invitee.PERSONAL_FIELDS:
        setattr(invitee, name, "")
    invitee.birth_date = None
    invitee.patient = None
    if not keep_code:
        invitee.response_code = None
    invitee.erased_at = timezone.now()


def _record_answer(
    invitee: Invitee,
    *,
    answer: str,
    channel: str,
    phone: str,
    best_time_to_call: str,
    consent: bool,
) -> None:
    if answer not in Answer.values:
        raise ValidationError({"answer": _("Choose an answer.")})
    invitee.answer = answer
    invitee.answer_channel = channel
    invitee.answered_at = timezone.now()
    if answer == Answer.YES:
        invitee.phone = (phone or invitee.phone).strip()[:20]
        invitee.best_time_to_call = best_time_to_call or Patient.CallTime.ANY
        invitee.consent_data_exchange = consent
    else:
        campaign = invitee.campaign
        OptOut.objects.get_or_create(
            bsn_hash=opt_out_hash(invitee.bsn),
            practice_id=campaign.practice_id,
            scope=OptOut.Scope.PRACTICE,
            defaults={"zorggroep_id": campaign.practice.zorggroep_id, "campaign": campaign},
        )
        _erase(invitee)  # "no more letters": nothing more is needed of this person
    invitee.save()


def invitee_answer_public(
    *,
    code: str,
    answer: str,
    phone: str = "",
    best_time_to_call: str = "",
    consent: bool = False,
    ip: str | None = None,
) -> None:
    """The answer on the public page. A second answer with the same code changes nothing."""
    with transaction.atomic():
        invitee = (
            Invitee.objects.select_for_update()
            .select_related("campaign__practice")
            .filter(response_code=normalise_code(code), erased_at__isnull=True)
            .exclude(campaign__state=CampaignState.ERASED)
            .first()
        )
        if invitee is None:
            raise UnknownCode({"code": _("This code is unknown. Check the code on your letter.")})
        if invitee.answered_at is not None:
            return
        patient_id = invitee.patient_id
        _record_answer(
            invitee,
            answer=answer,
            channel=AnswerChannel.WEB,
            phone=phone,
            best_time_to_call=best_time_to_call,
            consent=consent,
        )
        audit_record(
            who=PublicAnswerer(ip=ip),
            action=AuditEvent.Action.CHANGE,
            patient_id=patient_id,
            obj=invitee,
            detail=f"campaign answer (answer page): {answer}",
        )


@transaction.atomic
def invitee_record_phone_answer(
    *,
    actor: Actor,
    invitee_id,
    answer: str,
    phone: str = "",
    best_time_to_call: str = "",
    consent: bool = False,
) -> Invitee:
    invitee = _locked_invitee(actor, invitee_id)
    if invitee.answered_at is not None:
        raise CampaignRefused(_("This person has answered already."), code="answered")
    patient_id = invitee.patient_id
    _record_answer(
        invitee,
        answer=answer,
        channel=AnswerChannel.PHONE,
        phone=phone,
        best_time_to_call=best_time_to_call,
        consent=consent,
    )
    audit_record(
        who=actor,
        action=AuditEvent.Action.CHANGE,
        patient_id=patient_id,
        obj=invitee,
        detail=f"campaign answer (phone): {answer}",
    )
    return invitee


def _locked_invitee(actor: Actor, invitee_id) -> Invitee:
    try:
        invitee = (
            Invitee.objects.select_for_update()
            .filter(campaign__in=campaigns_for(actor), erased_at__isnull=True)
            .get(pk=invitee_id)
        )
    except (Invitee.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    invitee.campaign = get_campaign(actor, invitee.campaign_id)
    return invitee


@transaction.atomic
def invitee_refer(
    *,
    actor: Actor,
    invitee_id,
    consent_data_exchange: bool,
    best_time_to_call: str = "",
    phone: str = "",
    note: str = "",
    by=None,
) -> Referral:
    """Turn a 'yes' into a browser referral through the referral service (one click)."""
    invitee = _locked_invitee(actor, invitee_id)
    if invitee.referral_id:
        return invitee.referral
    if invitee.answer != Answer.YES:
        raise CampaignRefused(_("Only a person who said yes can be referred."), code="not_yes")
    campaign = invitee.campaign
    provider = referral_services.default_provider(campaign.practice)
    if provider is None:
        raise CampaignRefused(
            _("Your zorggroep has no contracted SMR provider yet; contact the zorggroep."),
            code="no_provider",
        )
    phone = (phone or invitee.phone).strip()
    fields = {}
    if (
        invitee.patient_id is None
        or not Patient.objects.filter(
            pk=invitee.patient_id, practice_id=campaign.practice_id
        ).exists()
    ):
        fields = {
            "initials": invitee.initials,
            "first_name": invitee.first_name,
            "name_prefix": invitee.name_prefix,
            "last_name": invitee.last_name,
            "birth_date": invitee.birth_date,
            "address": invitee.address,
            "postal_code": invitee.postal_code,
            "city": invitee.city,
            "phone": phone,
        }
    elif phone:
        fields = {"phone": phone}
    reason = _("Answered yes to the letter campaign '%(name)s'.") % {"name": campaign.name}
    data = referral_services.ReferralData(
        practice=campaign.practice,
        provider=provider,
        channel=Channel.WEB,
        patient_bsn=invitee.bsn,
        patient_fields=fields,
        referrer_name=str(by or actor.user or campaign.practice.name),
        reason=f"{reason} {note}".strip()[:4000],
        motivation=Motivation.MOTIVATED,
        best_time_to_call=best_time_to_call or invitee.best_time_to_call,
        consent_data_exchange=consent_data_exchange,
    )
    referral, _created = referral_services.referral_create(
        actor=actor, data=data, by=by or actor.user
    )
    invitee.referral = referral
    invitee.patient = referral.patient
    invitee.save(update_fields=["referral", "patient"])
    audit_record(
        who=actor,
        action=AuditEvent.Action.CHANGE,
        patient_id=referral.patient_id,
        obj=invitee,
        detail=f"campaign {campaign.pk}: referred",
    )
    return referral


# -- AVG: erasure after the retention period -----------------------------------------------------
def campaign_erase_expired(*, now: datetime.datetime | None = None) -> int:
    """Periodic: erase who did not answer once a campaign's retention period is over.

    The rows stay as empty shells, so the funnel keeps its counts; the letter PDFs (which show
    names and addresses) are deleted. Returns the number of people erased."""
    now = now or timezone.now()
    erased = 0
    for campaign_id in Campaign.objects.exclude(state=CampaignState.ERASED).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
            if campaign.retention_start + relativedelta(months=campaign.retention_months) > now:
                continue
            erased += _erase_campaign(campaign)
    return erased


def _erase_campaign(campaign: Campaign) -> int:
    silent = list(campaign.invitees.filter(answered_at__isnull=True, erased_at__isnull=True))
    for invitee in silent:
        _erase(invitee)
        invitee.save()
    for chunk in campaign.chunks.exclude(pdf=""):
        chunk.pdf.delete(save=True)
    if campaign.batch_pdf:
        campaign.batch_pdf.delete(save=False)
    campaign.chunks.filter(
        status__in=[
            LetterChunk.Status.PENDING,
            LetterChunk.Status.RENDERING,
            LetterChunk.Status.FAILED,
        ]
    ).update(status=LetterChunk.Status.DONE)
    # A terminal state the scan sets whatever came before (also a generation that never finished).
    Campaign.objects.filter(pk=campaign.pk).update(
        state=CampaignState.ERASED, erased_at=timezone.now(), batch_pdf=""
    )
    audit_record(
        who=Actor.system(),
        action=AuditEvent.Action.CHANGE,
        patient_id=None,
        obj=campaign,
        detail=f"retention over: {len(silent)} people who did not answer erased",
    )
    return len(silent)
