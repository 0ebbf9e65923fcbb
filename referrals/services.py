"""Referral use cases. The browser, the REST API and the FHIR handlers all call these functions."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Value
from django.http import Http404
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django_fsm import TransitionNotAllowed, can_proceed

from audit.models import AuditEvent
from audit.services import audit_record
from carechain.access import Actor, practices_for_referring
from carechain.models import Practice, Provider, Role
from carechain.services import coach_of_provider, patient_for_referral

from .access import is_provider_staff, is_referrer, referrals_for
from .letters import letter_queue
from .models import (
    Channel,
    ContactAttempt,
    FeedbackLetter,
    Referral,
    ReferralDocument,
    ReferralEvent,
)
from .models import ReferralState as S
from .notify import Event, notify_referrer


class TransitionRefused(ValidationError):
    """The referral is not in a state that allows this action (any more)."""


@dataclass
class ReferralData:
    """What every channel delivers, after its own parsing and validation."""

    practice: Practice
    provider: Provider
    channel: str
    patient_bsn: str
    patient_fields: dict = field(default_factory=dict)
    external_id: str = ""
    referrer_name: str = ""
    referrer_agb: str = ""
    reason: str = ""
    cigarettes_per_day: int | None = None
    years_smoked: int | None = None
    earlier_quit_attempts: int | None = None
    motivation: str = ""
    is_ketenzorg: bool = False
    ketenzorg_programme: str = ""
    best_time_to_call: str = ""
    call_note: str = ""
    consent_data_exchange: bool = False
    received_at: datetime.datetime | None = None


def default_provider(practice: Practice) -> Provider | None:
    return practice.zorggroep.smr_provider


def _actor_label(actor: Actor) -> str:
    if actor.user is not None:
        return str(actor.user)
    return actor.audit_api_key or actor.channel


def referral_create(
    *, actor: Actor, data: ReferralData, document: dict | None = None, by=None
) -> tuple[Referral, bool]:
    """Create a referral, or return the existing one when this delivery was seen before.

    Idempotent by (channel, external_id) and by the document id: two identical deliveries at the
    same moment both answer with the one referral (the database's unique constraints decide).
    Returns (referral, created).
    """
    if not practices_for_referring(actor).filter(pk=data.practice.pk).exists():
        raise PermissionDenied
    if data.channel in (Channel.WEB, Channel.API) and not data.consent_data_exchange:
        raise ValidationError(
            {"consent_data_exchange": _("The patient's consent for data exchange is required.")}
        )
    existing = _existing(actor, data, document)
    if existing:
        return existing, False
    try:
        with transaction.atomic():
            referral = _create(actor, data, document, by)
    except IntegrityError:
        existing = _existing(actor, data, document)
        if existing is None:
            raise
        return existing, False
    return referral, True


class IdentifierInUse(TransitionRefused):
    """A document id or external identifier that already belongs to a referral the caller may
    not see: refused without revealing anything about that referral."""


def _existing(actor: Actor, data: ReferralData, document: dict | None) -> Referral | None:
    """The referral this delivery was seen under: by its document id, else by the channel's
    identifier. One query (a UNION, each side on its own unique index) for the common case of a
    delivery never seen before."""
    found_by = []
    if document and document.get("source_id"):
        found_by.append(
            Referral.objects.filter(documents__source_id=document["source_id"]).annotate(
                rank=Value(0)
            )
        )
    if data.external_id:
        found_by.append(
            Referral.objects.filter(channel=data.channel, external_id=data.external_id).annotate(
                rank=Value(1)
            )
        )
    if not found_by:
        return None
    found_by = [query.order_by() for query in found_by]  # no ORDER BY inside a UNION (SQLite)
    query = found_by[0].union(*found_by[1:]) if len(found_by) > 1 else found_by[0]
    found = query.order_by("rank").first()
    if found is not None and not is_referrer(actor, found):
        raise IdentifierInUse(
            _("This document id or referral identifier is already in use."),
            code="identifier_in_use",
        )
    return found


def _create(actor: Actor, data: ReferralData, document: dict | None, by) -> Referral:
    patient = patient_for_referral(
        actor=actor, practice=data.practice, fields={"bsn": data.patient_bsn, **data.patient_fields}
    )
    referral = Referral(
        patient=patient,
        practice=data.practice,
        provider=data.provider,
        channel=data.channel,
        external_id=data.external_id,
        referred_by=by,
        referrer_name=data.referrer_name or (str(by) if by else ""),
        referrer_agb=data.referrer_agb,
        reason=data.reason,
        cigarettes_per_day=data.cigarettes_per_day,
        years_smoked=data.years_smoked,
        earlier_quit_attempts=data.earlier_quit_attempts,
        motivation=data.motivation,
        is_ketenzorg=data.is_ketenzorg or data.channel == Channel.KIS,
        ketenzorg_programme=data.ketenzorg_programme,
        best_time_to_call=data.best_time_to_call or patient.best_time_to_call,
        call_note=data.call_note or patient.call_note,
        consent_data_exchange=data.consent_data_exchange,
        received_at=data.received_at or timezone.now(),
    )
    # Its only constraint is the unique external id: a simultaneous delivery of the same referral is
    # for the database to catch (IntegrityError: referral_create answers with the one it made).
    # The practice, provider and patient were just read or written in this request: checking that
    # they exist would be three more queries for nothing (the foreign keys hold in the database).
    referral.full_clean(
        exclude=["first_contact_due", "patient", "practice", "provider", "state"],
        validate_constraints=False,
    )
    referral.save()
    if document:
        ReferralDocument.objects.create(referral=referral, **document)
    ReferralEvent.objects.create(
        referral=referral,
        by=by,
        by_label=_actor_label(actor),
        action="received",
        to_state=referral.state,
        note=_("Referral received via %(channel)s.") % {"channel": referral.get_channel_display()},
    )
    audit_record(who=actor, action=AuditEvent.Action.CREATE, patient_id=patient.pk, obj=referral)
    return referral


def referral_attach_document(
    *, actor: Actor, external_id: str, channel: str, document: dict
) -> Referral:
    """A later document (referral letter, supplement) for a known referral; re-delivery is a no-op."""
    with transaction.atomic():
        referral = _locked(actor, channel=channel, external_id=external_id)
        if not is_referrer(actor, referral):
            raise Http404
        if ReferralDocument.objects.filter(source_id=document["source_id"]).exists():
            return referral
        try:
            with transaction.atomic():
                ReferralDocument.objects.create(referral=referral, **document)
        except IntegrityError:
            return referral
        ReferralEvent.objects.create(
            referral=referral,
            by_label=_actor_label(actor),
            action="document",
            note=_("Document received: %(kind)s.")
            % {"kind": ReferralDocument.Kind(document["kind"]).label},
        )
        audit_record(
            who=actor,
            action=AuditEvent.Action.CHANGE,
            patient_id=referral.patient_id,
            obj=referral,
            detail=f"document {document['kind']}",
        )
    return referral


def _locked(actor: Actor, *, pk=None, channel=None, external_id=None) -> Referral:
    query = Referral.objects.select_for_update().select_related("practice", "patient")
    try:
        if pk is not None:
            return query.get(pk=pk)
        return query.get(channel=channel, external_id=external_id)
    except (Referral.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def _transition(
    *, actor: Actor, referral_id, name: str, side: str, note: str = "", by=None, **kwargs
) -> Referral:
    """Run one FSM transition under a row lock, with its access check, history and audit row.

    ``side`` says who may do it: "provider" (coach or planner of the provider), "referrer", or
    "trajectory" (a consequence of the trajectory, whose service already checked the person).
    """
    with transaction.atomic():
        referral = _locked(actor, pk=referral_id)
        if side != "trajectory":
            if not referrals_for(actor).filter(pk=referral.pk).exists():
                raise Http404
            allowed = (
                is_provider_staff(actor, referral)
                if side == "provider"
                else is_referrer(actor, referral)
            )
            if not allowed:
                raise PermissionDenied
        method = getattr(referral, name)
        before = referral.state
        if not can_proceed(method):
            raise TransitionRefused(
                _("This is not possible while the referral is '%(state)s'. Reload the page.")
                % {"state": referral.get_state_display()},
                code="invalid_transition",
            )
        try:
            method(**kwargs)
        except TransitionNotAllowed:
            raise TransitionRefused(
                _("This is not possible now."), code="invalid_transition"
            ) from None
        referral.state_changed_at = timezone.now()
        referral.save()
        ReferralEvent.objects.create(
            referral=referral,
            by=actor.user if actor.user else by,
            by_label=_actor_label(actor),
            action=name,
            from_state=before,
            to_state=referral.state,
            note=note[:1000],
        )
        audit_record(
            who=actor,
            action=AuditEvent.Action.CHANGE,
            patient_id=referral.patient_id,
            obj=referral,
            detail=name,
        )
        notify_referrer(referral_id=referral.pk, event=Event.STATUS_CHANGED)
    return referral


def _provider_coach(referral: Referral, coach_id) -> object:
    return coach_of_provider(provider_id=referral.provider_id, user_id=coach_id)


def referral_assign(*, actor: Actor, referral_id, coach_id) -> Referral:
    with transaction.atomic():
        referral = _locked(actor, pk=referral_id)
        if not is_provider_staff(actor, referral):
            raise Http404
        if not referral.is_open:
            raise TransitionRefused(_("A closed referral cannot be reassigned."), code="closed")
        referral.coach = _provider_coach(referral, coach_id)
        referral.save(update_fields=["coach", "updated_at"])
        ReferralEvent.objects.create(
            referral=referral,
            by=actor.user,
            by_label=_actor_label(actor),
            action="assigned",
            note=_("Assigned to %(coach)s.") % {"coach": referral.coach},
        )
        audit_record(
            who=actor,
            action=AuditEvent.Action.CHANGE,
            patient_id=referral.patient_id,
            obj=referral,
            detail="assigned",
        )
    return referral


def referral_accept(*, actor: Actor, referral_id, note: str = "") -> Referral:
    """Accept the referral and hand it to the trajectory (see REFERRAL_ACCEPTED_HANDLER)."""
    with transaction.atomic():
        referral = _transition(
            actor=actor, referral_id=referral_id, name="accept", side="provider", note=note
        )
        if referral.coach_id is None and actor.user is not None and actor.has_role(Role.COACH):
            referral.coach = actor.user
            referral.save(update_fields=["coach", "updated_at"])
        handler = getattr(settings, "REFERRAL_ACCEPTED_HANDLER", "")
        if handler:
            import_string(handler)(referral=referral, actor=actor)
        letter_queue(referral=referral, kind=FeedbackLetter.Kind.ACCEPTED, moment={})
    return referral


@transaction.atomic
def referral_decline(*, actor: Actor, referral_id, reason: str, note: str = "") -> Referral:
    from .models import DeclineReason

    if reason not in DeclineReason.values:
        raise ValidationError({"reason": _("Choose a reason for declining.")})
    referral = _transition(
        actor=actor,
        referral_id=referral_id,
        name="decline",
        side="provider",
        note=note,
        reason=reason,
        explanation=note[:500],
    )
    letter_queue(
        referral=referral,
        kind=FeedbackLetter.Kind.DECLINED,
        moment={"reason": str(DeclineReason(reason).label), "note": note},
    )
    return referral


def referral_record_attempt(
    *,
    actor: Actor,
    referral_id,
    method: str,
    result: str,
    note: str = "",
    at: datetime.datetime | None = None,
) -> ContactAttempt:
    with transaction.atomic():
        referral = _locked(actor, pk=referral_id)
        if not is_provider_staff(actor, referral):
            raise Http404
        if referral.state not in (S.RECEIVED, S.ACCEPTED, S.SCHEDULED, S.NO_SHOW):
            raise TransitionRefused(
                _("Contact attempts are for referrals awaiting first contact."),
                code="invalid_transition",
            )
        attempt = ContactAttempt(
            referral=referral,
            method=method,
            result=result,
            note=note,
            at=at or timezone.now(),
            by=actor.user,
        )
        attempt.full_clean(exclude=["referral", "by"])
        if attempt.at > timezone.now() + datetime.timedelta(minutes=5):
            raise ValidationError({"at": _("A contact attempt cannot lie in the future.")})
        attempt.save()
        ReferralEvent.objects.create(
            referral=referral,
            by=actor.user,
            by_label=_actor_label(actor),
            action="contact_attempt",
            note=f"{attempt.get_method_display()}: {attempt.get_result_display()}. {note}".strip()[
                :1000
            ],
        )
        audit_record(
            who=actor,
            action=AuditEvent.Action.CHANGE,
            patient_id=referral.patient_id,
            obj=referral,
            detail="contact attempt",
        )
    return attempt


def referral_schedule_contact(*, actor: Actor, referral_id, note: str = "") -> Referral:
    return _transition(
        actor=actor, referral_id=referral_id, name="schedule_contact", side="provider", note=note
    )


def referral_record_no_show(*, actor: Actor, referral_id, note: str = "") -> Referral:
    return _transition(
        actor=actor, referral_id=referral_id, name="record_no_show", side="provider", note=note
    )


def referral_record_contact_done(*, actor: Actor, referral_id, note: str = "") -> Referral:
    return _transition(
        actor=actor, referral_id=referral_id, name="record_contact_done", side="provider", note=note
    )


@transaction.atomic
def referral_close_unreachable(*, actor: Actor, referral_id, note: str = "") -> Referral:
    referral = _transition(
        actor=actor, referral_id=referral_id, name="close_unreachable", side="provider", note=note
    )
    attempts = list(referral.contact_attempts.order_by("at"))
    letter_queue(
        referral=referral,
        kind=FeedbackLetter.Kind.UNREACHABLE,
        moment={
            "attempts": len(attempts),
            "last_attempt": timezone.localdate(attempts[-1].at).isoformat() if attempts else None,
        },
    )
    return referral


def referral_request_cancellation(*, actor: Actor, referral_id, reason: str) -> Referral:
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason for the cancellation.")})
    return _transition(
        actor=actor,
        referral_id=referral_id,
        name="request_cancellation",
        side="referrer",
        note=reason,
        reason=reason[:500],
    )


def referral_confirm_cancellation(*, actor: Actor, referral_id, note: str = "") -> Referral:
    return _transition(
        actor=actor,
        referral_id=referral_id,
        name="confirm_cancellation",
        side="provider",
        note=note,
    )


def referral_complete_from_trajectory(*, actor: Actor, referral_id, note: str = "") -> Referral:
    """The trajectory ended for good; pathways checked who acts before calling this."""
    return _transition(
        actor=actor, referral_id=referral_id, name="complete", side="trajectory", note=note
    )
