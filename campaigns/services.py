"""Letter-campaign use cases. Views, tasks, the demo and the tests all call these functions."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import Touch, audit_record, audit_record_many
from carechain.access import Actor
from carechain.models import Patient
from pathways.models import ACTIVE_STATES, FOLLOW_UP_STATES, Trajectory
from referrals.models import OPEN_STATES, Referral, ReferralState

from . import letters, listfile
from .access import campaigns_for, practices_for_campaigns
from .models import (
    Campaign,
    CampaignState,
    Invitee,
    OptOut,
    RejectedRow,
    Upload,
    new_response_code,
)

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 5 * 1024 * 1024


class CampaignRefused(ValidationError):
    """The campaign is not in a state that allows this (any more)."""


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
