"""A parsed FHIR delivery handed to the referral services: which service each document calls.

ZorgDomein re-delivers documents and two deliveries of one document may arrive together; the
answer then is the referral as it stands (200), never a second referral or a second document.
The services decide idempotency for new referrals with the database's unique constraints; a later
document is checked under the referral's row lock, so the replay answer is exact there as well.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from carechain.access import Actor

from ..access import referrals_for
from ..models import Channel, Referral, ReferralDocument
from ..services import (
    ReferralData,
    referral_attach_document,
    referral_create,
    referral_request_cancellation,
)
from .errors import FhirError
from .fhir_in import KisDelivery, ZorgDomeinDelivery

Kind = ReferralDocument.Kind


def zorgdomein_receive(*, actor: Actor, delivery: ZorgDomeinDelivery) -> tuple[Referral, bool]:
    """Returns (referral, stored): stored is False when this document was delivered before. A
    stored referral comes with its practice, provider and patient, as it stands now."""
    if delivery.referral is not None:
        return _create(actor, delivery.referral, delivery.document)
    return _later_document(actor, delivery)


def kis_receive(*, actor: Actor, delivery: KisDelivery) -> tuple[Referral, bool]:
    return _create(actor, delivery.referral, delivery.document)


def _create(actor: Actor, data: ReferralData, document: dict) -> tuple[Referral, bool]:
    try:
        referral, created = referral_create(actor=actor, data=data, document=document)
    except PermissionDenied:
        raise FhirError(
            403,
            "forbidden",
            _("This API key may not refer on behalf of GP practice %(agb)s.")
            % {"agb": data.practice.agb},
        ) from None
    # A replay answers with what was stored under this document id or identifier; that must be
    # this caller's referral for this same identifier, or the id was reused for something else.
    same = referral.channel == data.channel and referral.external_id == data.external_id
    if not created and not (same and referrals_for(actor).filter(pk=referral.pk).exists()):
        raise FhirError(
            409,
            "duplicate",
            _("This document id or referral identifier was already used for another referral."),
            "Bundle.id",
        )
    return referral, created


def _later_document(actor: Actor, delivery: ZorgDomeinDelivery) -> tuple[Referral, bool]:
    """A referral letter, supplement or cancellation for a referral we already have."""
    referral_id = (
        referrals_for(actor)
        .filter(channel=Channel.ZORGDOMEIN, external_id=delivery.zd_number)
        .values_list("pk", flat=True)
        .first()
    )
    if referral_id is None:
        raise FhirError(
            404,
            "not-found",
            _(
                "No referral with ZD number %(number)s is known for your organisation; "
                "the appointment request comes first."
            )
            % {"number": delivery.zd_number},
            "Bundle.entry[0].resource.identifier",
        )
    source_id = delivery.document["source_id"]
    with transaction.atomic():
        # Serialises deliveries for one referral, so "seen before" is decided exactly once.
        referral = (
            Referral.objects.select_for_update().select_related("patient").get(pk=referral_id)
        )
        earlier = ReferralDocument.objects.filter(source_id=source_id).first()
        if earlier is not None:
            if earlier.referral_id != referral.pk:
                raise FhirError(
                    409,
                    "duplicate",
                    _("This document id was already delivered for another referral."),
                    "Bundle.id",
                )
            return referral, False
        if delivery.patient_bsn and delivery.patient_bsn != referral.patient.bsn:
            raise FhirError(
                422,
                "business-rule",
                _("The document's patient (BSN) is not the patient of referral %(number)s.")
                % {"number": delivery.zd_number},
                "Bundle.entry.resource.ofType(Patient).identifier",
            )
        referral_attach_document(
            actor=actor,
            external_id=delivery.zd_number,
            channel=Channel.ZORGDOMEIN,
            document=delivery.document,
        )
        if delivery.kind == Kind.CANCELLATION:
            referral_request_cancellation(
                actor=actor, referral_id=referral.pk, reason=delivery.cancel_reason
            )
    # As it stands after the document (a cancellation request changes its status).
    return Referral.objects.select_related("practice", "provider", "patient").get(
        pk=referral.pk
    ), True
