"""FHIR R4 mapping of claims: the Claim an insurer reads, the ClaimResponse it answers with.

Out: a ``Claim`` carries what the Vektis record carries (insured by BSN in a contained Patient, the
policy in a contained Coverage, insurer by UZOVI, provider and performer by AGB, one item with the
prestatie code, period and amount) and nothing from the trajectory behind it.
In: a ``ClaimResponse`` becomes one ``ClaimAnswer`` for ``billing.claims.claim_answer_many``, the
service the REST bulk answer calls: outcome ``complete`` accepts, ``error`` rejects with the first
error's code from the rejection reasons.
"""

from __future__ import annotations

import datetime
import json
import re

import pydantic
from django.utils import timezone
from django.utils.translation import gettext as _
from fhir.resources.R4B.claim import Claim as FhirClaim
from fhir.resources.R4B.claimresponse import ClaimResponse

from referrals.fhir.bundle import AGB_SYSTEM, BSN_SYSTEM
from referrals.fhir.errors import FhirError, Issue
from referrals.fhir.fhir_in import SMR_SYSTEM_BASE

from .claims import ClaimAnswer, Outcome
from .models import Claim

UZOVI_SYSTEM = "http://fhir.nl/fhir/NamingSystem/uzovi"
CLAIM_NUMBER_SYSTEM = f"{SMR_SYSTEM_BASE}/NamingSystem/claim-number"
PRESTATIE_SYSTEM = f"{SMR_SYSTEM_BASE}/CodeSystem/nza-prestatie"
REJECTION_REASON_SYSTEM = f"{SMR_SYSTEM_BASE}/CodeSystem/rejection-reason"
CLAIM_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/claim-type"
PRIORITY_SYSTEM = "http://terminology.hl7.org/CodeSystem/processpriority"
RELATED_CLAIM_SYSTEM = "http://terminology.hl7.org/CodeSystem/ex-relatedclaimrelationship"
CARE_TEAM_ROLE_SYSTEM = "http://terminology.hl7.org/CodeSystem/claimcareteamrole"

FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_MAX_ISSUES = 10
_PROFESSIONAL = {"coding": [{"system": CLAIM_TYPE_SYSTEM, "code": "professional"}]}


# -- out ------------------------------------------------------------------------------------------
def claim_resource(claim: Claim) -> FhirClaim:
    """The claim as a FHIR Claim; ``claim`` comes from ``billing.claims.with_links``."""
    money = {"value": claim.amount, "currency": "EUR"}
    period = {"start": claim.start_date.isoformat(), "end": claim.end_date.isoformat()}
    data = {
        "resourceType": "Claim",
        "meta": {"lastUpdated": _instant(claim.updated_at)},
        "contained": [
            {
                "resourceType": "Patient",
                "id": "patient",
                "identifier": [{"system": BSN_SYSTEM, "value": claim.bsn}],
                "name": [{"text": claim.patient_name}],
                "birthDate": claim.birth_date.isoformat(),
            },
            {
                "resourceType": "Coverage",
                "id": "coverage",
                "status": "active",
                "subscriberId": claim.policy_number,
                "beneficiary": {"reference": "#patient"},
                "payor": [_insurer(claim)],
            },
        ],
        "identifier": [{"system": CLAIM_NUMBER_SYSTEM, "value": claim.claim_number}],
        "status": "cancelled" if claim.status == Claim.Status.SUPERSEDED else "active",
        "type": _PROFESSIONAL,
        "use": "claim",
        "patient": {"reference": "#patient"},
        "billablePeriod": period,
        "created": _instant(claim.created_at),
        "insurer": _insurer(claim),
        "provider": {
            "type": "Organization",
            "identifier": {"system": AGB_SYSTEM, "value": claim.provider_agb},
        },
        "priority": {"coding": [{"system": PRIORITY_SYSTEM, "code": "normal"}]},
        "careTeam": [
            {
                "sequence": 1,
                "provider": {
                    "type": "Practitioner",
                    "identifier": {"system": AGB_SYSTEM, "value": claim.performer_agb},
                },
                "role": {"coding": [{"system": CARE_TEAM_ROLE_SYSTEM, "code": "primary"}]},
            }
        ],
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"reference": "#coverage"}}],
        "item": [
            {
                "sequence": 1,
                "careTeamSequence": [1],
                "productOrService": {
                    "coding": [{"system": PRESTATIE_SYSTEM, "code": claim.prestatie_code}]
                },
                "servicedPeriod": period,
                "net": money,
            }
        ],
        "total": money,
    }
    if FHIR_ID.fullmatch(claim.claim_number):
        data["id"] = claim.claim_number
    replaces = getattr(claim, "replaces", None)
    if replaces:
        data["related"] = [
            {
                "claim": {
                    "type": "Claim",
                    "identifier": {"system": CLAIM_NUMBER_SYSTEM, "value": replaces},
                },
                "relationship": {"coding": [{"system": RELATED_CLAIM_SYSTEM, "code": "prior"}]},
            }
        ]
    return FhirClaim.model_validate(data)


def claim_search_entry(claim: Claim, *, base_url: str) -> str:
    """One entry of a Claim search Bundle as JSON text (the Python twin of ``billing.fhir_search.claim_entry_json``)."""
    resource = claim_resource(claim)
    entry = {"fullUrl": f"{base_url}{claim.claim_number}"} if resource.id else {}
    return (
        json.dumps(entry)[:-1]
        + ("," if entry else "")
        + f'"resource":{resource.model_dump_json()},"search":{{"mode":"match"}}}}'
    )


def claim_response_resource(claim: Claim) -> ClaimResponse:
    """The stored answer to a claim, as the insurer's ClaimResponse would state it."""
    data = {
        "resourceType": "ClaimResponse",
        "status": "active",
        "type": _PROFESSIONAL,
        "use": "claim",
        "patient": {
            "type": "Patient",
            "identifier": {"system": BSN_SYSTEM, "value": claim.bsn},
        },
        "created": _instant(claim.answered_at or claim.updated_at),
        "insurer": _insurer(claim),
        "requestor": {
            "type": "Organization",
            "identifier": {"system": AGB_SYSTEM, "value": claim.provider_agb},
        },
        "request": {
            "reference": f"Claim/{claim.claim_number}",
            "identifier": {"system": CLAIM_NUMBER_SYSTEM, "value": claim.claim_number},
        },
        "outcome": "error" if claim.status == Claim.Status.REJECTED else "complete",
    }
    if claim.status == Claim.Status.REJECTED:
        code = {"coding": [{"system": REJECTION_REASON_SYSTEM, "code": claim.rejection_code}]}
        if claim.rejection_text:
            code["text"] = claim.rejection_text
            data["disposition"] = claim.rejection_text
        data["error"] = [{"code": code}]
    return ClaimResponse.model_validate(data)


def _insurer(claim: Claim) -> dict:
    return {"type": "Organization", "identifier": {"system": UZOVI_SYSTEM, "value": claim.uzovi}}


def _instant(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).isoformat(timespec="seconds")


# -- in -------------------------------------------------------------------------------------------
def load_claim_response(payload: object) -> ClaimResponse:
    """The payload as an R4B ClaimResponse; anything else is refused naming the wrong elements."""
    if not isinstance(payload, dict):
        raise FhirError(400, "structure", _("The body must be a JSON object (a ClaimResponse)."))
    resource_type = payload.get("resourceType")
    if resource_type != "ClaimResponse":
        raise FhirError(
            400,
            "invalid",
            _("Expected a resource of type ClaimResponse, received %(type)s.")
            % {"type": resource_type or _("no resourceType")},
            "resourceType",
        )
    try:
        return ClaimResponse.model_validate(payload)
    except pydantic.ValidationError as exc:
        raise FhirError.of(
            422,
            [
                Issue(
                    "required" if "missing" in error["type"] else "value",
                    str(error["msg"]),
                    _expression(error["loc"]),
                )
                for error in exc.errors()[:_MAX_ISSUES]
            ],
        ) from None
    except (RecursionError, ValueError) as exc:
        raise FhirError(400, "structure", str(exc)[:300]) from None


def answer_from(response: ClaimResponse) -> ClaimAnswer:
    """What the ClaimResponse answers: for which claim number, accepted or rejected, and why."""
    if response.status != "active":
        raise FhirError(
            422,
            "not-supported",
            _("Only an active ClaimResponse answers a claim, not %(status)s.")
            % {"status": response.status},
            "ClaimResponse.status",
        )
    if response.use != "claim":
        raise FhirError(
            422,
            "not-supported",
            _("Only claims are answered here (use claim), not %(use)s.") % {"use": response.use},
            "ClaimResponse.use",
        )
    number = _claim_number(response)
    if response.outcome == "complete":
        if response.error:
            raise FhirError(
                422,
                "invariant",
                _("Outcome complete accepts the claim; a rejection has outcome error."),
                "ClaimResponse.error",
            )
        return ClaimAnswer(claim_number=number, outcome=Outcome.ACCEPTED)
    if response.outcome != "error":
        raise FhirError(
            422,
            "not-supported",
            _("Answer with outcome complete (accepted) or error (rejected), not %(outcome)s.")
            % {"outcome": response.outcome},
            "ClaimResponse.outcome",
        )
    for error in response.error or []:
        for coding in error.code.coding or []:
            if coding.code and coding.system in (None, REJECTION_REASON_SYSTEM):
                text = error.code.text or response.disposition or ""
                return ClaimAnswer(
                    claim_number=number,
                    outcome=Outcome.REJECTED,
                    reason_code=coding.code,
                    reason_text=text[:500],
                )
    raise FhirError(
        422,
        "required",
        _("A rejection (outcome error) needs an error code from %(system)s.")
        % {"system": REJECTION_REASON_SYSTEM},
        "ClaimResponse.error.code.coding",
    )


def insurer_uzovi(response: ClaimResponse) -> str | None:
    """The UZOVI code the ClaimResponse names as insurer, if it names one."""
    identifier = response.insurer.identifier
    if identifier is not None and identifier.system == UZOVI_SYSTEM:
        return identifier.value
    return None


def _claim_number(response: ClaimResponse) -> str:
    request = response.request
    if request is not None and request.reference and "Claim/" in request.reference:
        number = request.reference.rsplit("Claim/", 1)[1].strip()
        if number:
            return number
    if request is not None and request.identifier is not None and request.identifier.value:
        return request.identifier.value.strip()
    raise FhirError(
        422,
        "required",
        _("Name the claim in request: Claim/<claim number>, or its identifier (%(system)s).")
        % {"system": CLAIM_NUMBER_SYSTEM},
        "ClaimResponse.request",
    )


def _expression(loc: tuple) -> str:
    path = "ClaimResponse"
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path
