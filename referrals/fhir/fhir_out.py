"""FHIR out: where a referral stands, as the HL7 BSeR closed-loop Task the referrer's system reads.

The referrer (a practice's ZorgDomein connector, a zorggroep's KIS) polls the Task to show "received,
accepted, declined because..." without a phone call. Organisations are named by AGB code, the one
identifier both sides share; the patient by BSN, which the referrer sent us in the first place.
"""

from __future__ import annotations

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task

from ..models import CLOSED_STATES, Channel, Referral
from ..models import ReferralState as S
from .bundle import AGB_SYSTEM, BSN_SYSTEM
from .errors import Issue
from .fhir_in import SMR_SYSTEM_BASE, SNOMED, ZD_NUMBER_SYSTEM

BSER_STATUS_SYSTEM = "http://hl7.org/fhir/us/bser/CodeSystem/TaskBusinessStatusCS"
TASK_CODE_SYSTEM = "http://hl7.org/fhir/CodeSystem/task-code"
REFERRAL_ID_SYSTEM = f"{SMR_SYSTEM_BASE}/NamingSystem/referral"
DECLINE_REASON_SYSTEM = f"{SMR_SYSTEM_BASE}/CodeSystem/decline-reason"
FHIR_VERSION = "4.0.1"
CAPABILITY_DATE = "2025-06-01"

_REQUEST_STATUS = {
    S.DECLINED: "revoked",
    S.UNREACHABLE: "revoked",
    S.CANCELLED: "revoked",
    S.COMPLETED: "completed",
}


def task(referral: Referral) -> Task:
    """The referral's closed-loop status; ``referral`` comes with practice, provider and patient."""
    code, display, status = referral.bser
    data = {
        "id": str(referral.pk),
        "meta": {"lastUpdated": _instant(referral.updated_at)},
        "identifier": _identifiers(referral),
        "status": status,
        "businessStatus": {
            "coding": [{"system": BSER_STATUS_SYSTEM, "code": code, "display": display}],
            "text": referral.get_state_display(),
        },
        "intent": "order",
        "code": {"coding": [{"system": TASK_CODE_SYSTEM, "code": "fulfill"}]},
        "focus": {"reference": f"ServiceRequest/{referral.pk}", "type": "ServiceRequest"},
        "for": _patient(referral),
        "authoredOn": _instant(referral.received_at),
        "lastModified": _instant(referral.state_changed_at),
        "requester": _organisation(referral.practice),
        "owner": _organisation(referral.provider),
        "executionPeriod": {"start": _instant(referral.received_at)},
    }
    if referral.state in CLOSED_STATES:
        data["executionPeriod"]["end"] = _instant(referral.state_changed_at)
    reason = _status_reason(referral)
    if reason:
        data["statusReason"] = reason
    return Task.model_validate(_pruned(data))


def _status_reason(referral: Referral) -> dict | None:
    if referral.state == S.DECLINED:
        label = referral.get_decline_reason_display()
        coding = {
            "system": DECLINE_REASON_SYSTEM,
            "code": referral.decline_reason,
            "display": label,
        }
        text = referral.status_note or _decline_note(referral) or label
        return {"coding": [coding] if referral.decline_reason else [], "text": text}
    if referral.state in (S.CANCELLATION_REQUESTED, S.CANCELLED) and referral.cancel_reason:
        return {"text": referral.cancel_reason}
    if referral.state == S.UNREACHABLE:
        return {"text": _("The patient could not be reached.")}
    return None


def _decline_note(referral: Referral) -> str:
    """The provider's explanation; ``referral_decline`` keeps it on the history, not the referral."""
    event = referral.events.filter(action="decline").order_by("-at", "-pk").first()
    return event.note if event else ""


def service_request(referral: Referral) -> ServiceRequest:
    if referral.referrer_agb:
        requester = {
            "type": "Practitioner",
            "identifier": {"system": AGB_SYSTEM, "value": referral.referrer_agb},
            "display": referral.referrer_name,
        }
    else:
        requester = _organisation(referral.practice)
    data = {
        "id": str(referral.pk),
        "meta": {"lastUpdated": _instant(referral.updated_at)},
        "identifier": _identifiers(referral),
        "status": _REQUEST_STATUS.get(referral.state, "active"),
        "intent": "order",
        "code": {
            "coding": [
                {"system": SNOMED, "code": "710081004", "display": "Smoking cessation therapy"}
            ],
            "text": _("Stop-smoking programme"),
        },
        "subject": _patient(referral),
        "authoredOn": _instant(referral.received_at),
        "requester": requester,
        "performer": [_organisation(referral.provider)],
    }
    if referral.reason:
        data["reasonCode"] = [{"text": referral.reason}]
    return ServiceRequest.model_validate(_pruned(data))


def searchset(resources: list[tuple[str, object]], *, self_url: str) -> Bundle:
    """A search result: (fullUrl, resource) pairs, all of them matches."""
    return Bundle.model_validate(
        {
            "type": "searchset",
            "total": len(resources),
            "link": [{"relation": "self", "url": self_url}],
            "entry": [
                {"fullUrl": url, "resource": resource, "search": {"mode": "match"}}
                for url, resource in resources
            ],
        }
    )


def operation_outcome(issues: list[Issue]) -> OperationOutcome:
    return OperationOutcome.model_validate(
        {
            "issue": [
                {
                    "severity": issue.severity,
                    "code": issue.code,
                    "diagnostics": str(issue.diagnostics),
                    **({"expression": [issue.expression]} if issue.expression else {}),
                }
                for issue in issues
            ]
        }
    )


def capability_statement(*, base_url: str) -> CapabilityStatement:
    return CapabilityStatement.model_validate(
        {
            "status": "active",
            "date": CAPABILITY_DATE,
            "publisher": "SMR ketenzorg",
            "kind": "instance",
            "software": {"name": "SMR ketenzorg"},
            "implementation": {
                "description": _("Referral intake and closed-loop referral status"),
                "url": base_url,
            },
            "fhirVersion": FHIR_VERSION,
            "format": ["application/fhir+json", "json"],
            "rest": [
                {
                    "mode": "server",
                    "security": {
                        "cors": False,
                        "service": [{"text": "API key"}],
                        "description": _(
                            "Every interaction except metadata needs the header "
                            "'Authorization: Api-Key <key>' with a referral-intake API key of "
                            "the GP practice or the zorggroep."
                        ),
                    },
                    "resource": [
                        {
                            "type": "Bundle",
                            "interaction": [
                                {
                                    "code": "create",
                                    "documentation": _(
                                        "ZorgDomein documents (Bundle.type document, Composition "
                                        "first): appointment-request, referral-letter, "
                                        "supplement, cancellation."
                                    ),
                                }
                            ],
                        },
                        {
                            "type": "Task",
                            "interaction": [{"code": "read"}, {"code": "search-type"}],
                            "searchParam": [
                                {"name": "_id", "type": "token"},
                                {"name": "focus", "type": "reference"},
                                {"name": "identifier", "type": "token"},
                            ],
                        },
                        {"type": "ServiceRequest", "interaction": [{"code": "read"}]},
                        {
                            "type": "Claim",
                            "interaction": [{"code": "read"}, {"code": "search-type"}],
                            "documentation": _(
                                "Insurers read a claim addressed to them with a claims API key, "
                                "or page through all of them: GET Claim?_count=200 and follow "
                                "the Bundle's next link."
                            ),
                        },
                        {
                            "type": "ClaimResponse",
                            "interaction": [{"code": "create"}],
                            "documentation": _(
                                "Insurers answer a claim: outcome complete, or error with a "
                                "rejection code."
                            ),
                        },
                    ],
                    "interaction": [
                        {
                            "code": "transaction",
                            "documentation": _(
                                "KIS referrals: a transaction Bundle with the ServiceRequest, "
                                "Patient, Practitioner, Organization and a Task owned by the SMR "
                                "provider (AGB code)."
                            ),
                        }
                    ],
                }
            ],
        }
    )


def _identifiers(referral: Referral) -> list[dict]:
    identifiers = [{"system": REFERRAL_ID_SYSTEM, "value": str(referral.pk)}]
    if referral.external_id and referral.channel == Channel.ZORGDOMEIN:
        identifiers.append({"system": ZD_NUMBER_SYSTEM, "value": referral.external_id})
    elif referral.external_id:
        identifiers.append(
            {"type": {"text": referral.channel.upper()}, "value": referral.external_id}
        )
    return identifiers


def _organisation(organisation) -> dict:
    return {
        "type": "Organization",
        "identifier": {"system": AGB_SYSTEM, "value": organisation.agb},
        "display": organisation.name,
    }


def _patient(referral: Referral) -> dict:
    return {"type": "Patient", "identifier": {"system": BSN_SYSTEM, "value": referral.patient.bsn}}


def _pruned(value):
    """Without empty strings, lists and objects: FHIR forbids them, and a blank name is common."""
    if isinstance(value, dict):
        value = {key: _pruned(item) for key, item in value.items()}
        return {key: item for key, item in value.items() if item not in ("", None, [], {})}
    if isinstance(value, list):
        return [item for item in map(_pruned, value) if item not in ("", None, [], {})]
    return value


def _instant(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).isoformat(timespec="seconds")
