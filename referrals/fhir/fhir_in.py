"""FHIR in: a ZorgDomein document or a KIS transaction Bundle becomes plain ReferralData.

Everything a channel can get wrong is refused here, before a service runs, so a refused delivery
stores nothing. The services (``referrals.services``) then see the same ReferralData as the browser
form produces and apply the same rules to every channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

from carechain.models import KetenzorgEnrolment

from ..models import Channel, Motivation, ReferralDocument
from ..services import ReferralData
from .bundle import (
    BSN_SYSTEM,
    BundleIndex,
    Found,
    concept_text,
    has_coding,
    identifier_value,
    load_bundle,
    narrative_text,
)
from .errors import invalid, required
from .participants import (
    patient_bsn,
    patient_entry,
    patient_fields,
    practice_from,
    provider_from,
    referrer_fields,
)

ZD_DOCUMENT_TYPE_SYSTEM = "http://zorgdomein.nl/terminology/code-system/document-type"
ZD_NUMBER_SYSTEM = "http://zorgdomein.nl/terminology/code-system/zd-number"
SMR_SYSTEM_BASE = "https://smr-ketenzorg.nl/fhir"
SMOKING_PROFILE_SYSTEM = f"{SMR_SYSTEM_BASE}/CodeSystem/smoking-profile"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"

Kind = ReferralDocument.Kind
ZORGDOMEIN_KINDS = (
    Kind.APPOINTMENT_REQUEST,
    Kind.REFERRAL_LETTER,
    Kind.SUPPLEMENT,
    Kind.CANCELLATION,
)

# Smoking profile observations. LOINC and SNOMED where a code exists; where none is in common use
# (years smoked, earlier quit attempts, motivation) the codes of our own published CodeSystem.
PROFILE_CODES = {
    "cigarettes_per_day": {(LOINC, "63640-6"), (SNOMED, "230056004")},
    "years_smoked": {(SMOKING_PROFILE_SYSTEM, "years-smoked")},
    "earlier_quit_attempts": {(SMOKING_PROFILE_SYSTEM, "earlier-quit-attempts")},
    "motivation": {(SMOKING_PROFILE_SYSTEM, "motivation")},
}
KETENZORG_CONDITIONS = {
    "44054006": KetenzorgEnrolment.Programme.DM2,
    "13645005": KetenzorgEnrolment.Programme.COPD,
    "195967001": KetenzorgEnrolment.Programme.ASTMA,
}

_MAX_REASON = 4000


@dataclass(frozen=True)
class ZorgDomeinDelivery:
    """One ZorgDomein document; ``referral`` is set for the appointment request only."""

    kind: str
    zd_number: str
    document: dict
    patient_bsn: str = ""
    referral: ReferralData | None = None

    @property
    def cancel_reason(self) -> str:
        return (self.document["text"] or self.document["title"])[:500]


@dataclass(frozen=True)
class KisDelivery:
    referral: ReferralData
    document: dict


# -- ZorgDomein ------------------------------------------------------------------------------------
def zorgdomein_delivery(payload: dict) -> ZorgDomeinDelivery:
    bundle = load_bundle(payload)
    _require_bundle_type(bundle, "document")
    if not bundle.id:
        raise required(
            _("A ZorgDomein document carries its document id in Bundle.id."), "Bundle.id"
        )
    index = BundleIndex(bundle)
    if not index.entries or index.entries[0].index != 0 or index.entries[0].type != "Composition":
        raise invalid(
            _("The first entry of a document Bundle must be its Composition."),
            "Bundle.entry[0]",
            code="structure",
        )
    composition = index.entries[0]
    kind = _document_kind(composition)
    identifier = composition.resource.identifier
    zd_number = (identifier.value or "").strip() if identifier else ""
    if not zd_number:
        raise required(
            _("The Composition has no identifier with the ZD number."),
            f"{composition.path}.identifier",
        )
    document = {
        "kind": kind,
        "source_id": bundle.id,
        "title": (composition.resource.title or "")[:300],
        "text": _sections_text(composition.resource.section),
        "payload": payload,
    }
    patient = patient_entry(index, composition.resource.subject)
    if kind != Kind.APPOINTMENT_REQUEST:
        has_bsn = patient and identifier_value(patient.resource.identifier, BSN_SYSTEM)
        bsn = patient_bsn(patient) if has_bsn else ""
        return ZorgDomeinDelivery(kind, zd_number, document, patient_bsn=bsn)
    if patient is None:
        raise required(
            _("The appointment request names no Patient."), f"{composition.path}.subject"
        )
    request = _only(index, "ServiceRequest", _("The appointment request has no ServiceRequest."))
    authors = [
        (ref, f"{composition.path}.author[{i}]")
        for i, ref in enumerate(composition.resource.author or [])
    ]
    practice = practice_from(
        index,
        [(request.resource.requester, f"{request.path}.requester"), *authors]
        + [(composition.resource.custodian, f"{composition.path}.custodian")],
        missing=f"{request.path}.requester",
    )
    provider = provider_from(index, _performers(request), missing=f"{request.path}.performer")
    referrer = index.practitioner(request.resource.requester) or next(
        filter(None, (index.practitioner(ref) for ref, _path in authors)), None
    )
    data = ReferralData(
        practice=practice,
        provider=provider,
        channel=Channel.ZORGDOMEIN,
        patient_bsn=patient_bsn(patient),
        patient_fields=patient_fields(patient),
        external_id=zd_number,
        reason=(_request_reason(request) or document["text"])[:_MAX_REASON],
        **referrer_fields(referrer),
        **_smoking_profile(index),
    )
    return ZorgDomeinDelivery(
        kind, zd_number, document, patient_bsn=data.patient_bsn, referral=data
    )


def _document_kind(composition: Found) -> str:
    codings = composition.resource.type.coding or []
    codes = [c.code for c in codings if c.system in (ZD_DOCUMENT_TYPE_SYSTEM, None) and c.code]
    for code in codes:
        if code in ZORGDOMEIN_KINDS:
            return code
    raise invalid(
        _("Unknown ZorgDomein document type %(code)s; expected one of %(kinds)s.")
        % {"code": ", ".join(codes) or "-", "kinds": ", ".join(ZORGDOMEIN_KINDS)},
        f"{composition.path}.type",
        code="code-invalid",
    )


def _sections_text(sections) -> str:
    parts = []
    for section in sections or []:
        body = narrative_text(section.text)
        parts.append("\n".join(part for part in (section.title or "", body) if part))
        nested = _sections_text(section.section)
        if nested:
            parts.append(nested)
    return "\n\n".join(part for part in parts if part)


# -- KIS ---------------------------------------------------------------------------------------
def kis_delivery(payload: dict) -> KisDelivery:
    bundle = load_bundle(payload)
    _require_bundle_type(bundle, "transaction")
    index = BundleIndex(bundle)
    task = _only(index, "Task", _("A KIS referral has exactly one Task addressed to the provider."))
    request = index.resolve(task.resource.focus, "ServiceRequest") or _only(
        index, "ServiceRequest", _("The Task's focus must be the referral's ServiceRequest.")
    )
    external_id = next((i.value.strip() for i in request.resource.identifier or [] if i.value), "")
    if not external_id:
        raise required(
            _("The ServiceRequest has no identifier (the KIS referral number)."),
            f"{request.path}.identifier",
        )
    provider = provider_from(
        index,
        [(task.resource.owner, f"{task.path}.owner"), *_performers(request)],
        missing=f"{task.path}.owner",
    )
    practice = practice_from(
        index,
        [
            (task.resource.requester, f"{task.path}.requester"),
            (request.resource.requester, f"{request.path}.requester"),
        ],
        missing=f"{request.path}.requester",
        fallback=index.of_type("Organization"),
        exclude_agb=provider.agb,
    )
    patient = patient_entry(index, request.resource.subject or task.resource.for_fhir)
    if patient is None:
        raise required(_("The KIS referral names no Patient."), f"{request.path}.subject")
    reason = _request_reason(request)
    data = ReferralData(
        practice=practice,
        provider=provider,
        channel=Channel.KIS,
        patient_bsn=patient_bsn(patient),
        patient_fields=patient_fields(patient),
        external_id=external_id[:100],
        reason=reason[:_MAX_REASON],
        is_ketenzorg=True,
        ketenzorg_programme=_programme(request),
        **referrer_fields(index.practitioner(request.resource.requester)),
        **_smoking_profile(index),
    )
    document = {
        "kind": Kind.KIS_REFERRAL,
        "source_id": bundle.id or f"kis:{external_id}"[:100],
        "title": (concept_text(request.resource.code) or _("KIS referral"))[:300],
        "text": reason,
        "payload": payload,
    }
    return KisDelivery(referral=data, document=document)


def _programme(request: Found) -> str:
    for concept in request.resource.reasonCode or []:
        for coding in concept.coding or []:
            if coding.system == SNOMED and coding.code in KETENZORG_CONDITIONS:
                return KETENZORG_CONDITIONS[coding.code]
    return ""


# -- shared ------------------------------------------------------------------------------------
def _require_bundle_type(bundle, expected: str) -> None:
    if bundle.type != expected:
        raise invalid(
            _("Expected a Bundle of type %(expected)s, received %(type)s.")
            % {"expected": expected, "type": bundle.type or "-"},
            "Bundle.type",
            code="invalid",
        )


def _only(index: BundleIndex, resource_type: str, message: str) -> Found:
    found = index.of_type(resource_type)
    if len(found) != 1:
        raise required(message, f"Bundle.entry.resource.ofType({resource_type})")
    return found[0]


def _performers(request: Found) -> list[tuple]:
    return [
        (ref, f"{request.path}.performer[{i}]")
        for i, ref in enumerate(request.resource.performer or [])
    ]


def _request_reason(request: Found) -> str:
    resource = request.resource
    parts = [concept_text(concept) for concept in resource.reasonCode or []]
    parts += [note.text.strip() for note in resource.note or [] if note.text]
    return "\n".join(part for part in parts if part)


def _smoking_profile(index: BundleIndex) -> dict:
    profile: dict = {}
    for found in index.of_type("Observation"):
        for field, codes in PROFILE_CODES.items():
            if not has_coding(found.resource.code, codes):
                continue
            if field == "motivation":
                profile[field] = _motivation(found)
            else:
                profile[field] = _count(found, per_pack=field == "cigarettes_per_day")
    return profile


def _count(found: Found, *, per_pack: bool) -> int:
    observation = found.resource
    quantity = observation.valueQuantity
    value = quantity.value if quantity is not None else observation.valueInteger
    if value is None or Decimal(value) < 0:
        raise invalid(_("Expected a count of zero or more."), f"{found.path}.value[x]")
    unit = f"{quantity.unit or ''} {quantity.code or ''}".lower() if quantity is not None else ""
    if per_pack and "pack" in unit:
        value = Decimal(value) * 20
    return int(Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _motivation(found: Found) -> str:
    concept = found.resource.valueCodeableConcept
    codes = [c.code for c in getattr(concept, "coding", None) or []]
    code = next((c for c in codes if c in Motivation.values), None)
    if code is None:
        raise invalid(
            _("Motivation must be one of %(codes)s.") % {"codes": ", ".join(Motivation.values)},
            f"{found.path}.valueCodeableConcept",
            code="code-invalid",
        )
    return code


__all__ = ["KisDelivery", "ZorgDomeinDelivery", "kis_delivery", "zorgdomein_delivery"]
