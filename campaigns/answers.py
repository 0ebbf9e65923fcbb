"""The invitee's answer (public page or phone), the one-click referral, and the erasure of who
did not answer once the campaign's retention period is over (AVG)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import audit_record
from carechain.access import Actor
from carechain.models import Patient
from referrals import services as referral_services
from referrals.models import Channel, Motivation, Referral

from .access import campaigns_for, get_campaign
from .models import (
    Answer,
    AnswerChannel,
    Campaign,
    CampaignState,
    Invitee,
    LetterChunk,
    OptOut,
)
from .services import CampaignRefused, opt_out_hash


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
