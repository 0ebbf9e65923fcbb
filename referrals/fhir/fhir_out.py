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

from ..models import CLOSED_STATES, Channel, FeedbackLetter, Referral
from ..models import ReferralState as S
from .bundle import AGB_SYSTEM, BSN_SYSTEM
from .errors import Issue
from .fhir_in import SMR_SYSTEM_BASE, SNOMED, ZD_NUMBER_SYSTEM

BSER_STATUS_SYSTEM = "http://hl7.org/fhir/us/bser/CodeSystem/TaskBusinessStatusCS"
TASK_CODE_SYSTEM = "http://hl7.org/fhir/CodeSystem/task-code"
REFERRAL_ID_SYSTEM = f"{SMR_SYSTEM_BASE}/NamingSystem/referral"
FEEDBACK_ID_SYSTEM = f"{SMR_SYSTEM_BASE}/NamingSystem/feedback"
FEEDBACK_MOMENT_SYSTEM = f"{SMR_SYSTEM_BASE}/CodeSystem/feedback-moment"
DECLINE_REASON_SYSTEM = f"{SMR_SYSTEM_BASE}/CodeSystem/decline-reason"
FHIR_VERSION = "4.0.1"
CAPABILITY_DATE = "2025-06-01"

_REQUEST_STATUS = {
    S.DECLINED: "revoked",
    S.UNREACHABLE: "revoked",
    S.CANCELLED: "revoked",
    S.COMPLETED: "completed",
}


def task(referral: Referral, letters: list[FeedbackLetter] = ()) -> Task:
    """The referral's closed-loop status; ``referral`` comes with practice, provider and patient,
    ``letters`` are its feedback letters (each one a feedback Bundle in ``Task.output``)."""
    code, display, status = referral.bser
    data = {
        "id": str(referral.public_id),
        # Exact to the microsecond: a KIS sends it back as _lastUpdated=gt... on its next poll.
        "meta": {"lastUpdated": _instant(referral.updated_at, timespec="microseconds")},
        "identifier": _identifiers(referral),
        "status": status,
        "businessStatus": {
            "coding": [{"system": BSER_STATUS_SYSTEM, "code": code, "display": display}],
            "text": referral.get_state_display(),
        },
        "intent": "order",
        "code": {"coding": [{"system": TASK_CODE_SYSTEM, "code": "fulfill"}]},
        "focus": {
            "reference": f"ServiceRequest/{referral.public_id}",
            "type": "ServiceRequest",
        },
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
    data["output"] = [task_output(letter) for letter in letters]
    return Task.model_validate(_pruned(data))


def task_output(letter: FeedbackLetter) -> dict:
    """A Task.output entry: one feedback moment, pointing at its document Bundle."""
    label = str(FeedbackLetter.Kind(letter.kind).label)
    return {
        "type": {
            "coding": [{"system": FEEDBACK_MOMENT_SYSTEM, "code": letter.kind, "display": label}],
            "text": label,
        },
        "valueReference": {
            "reference": f"Bundle/{letter.public_id}",
            "type": "Bundle",
            "display": label,
        },
    }


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
        "id": str(referral.public_id),
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


def searchset(resources: list[tuple[str, object]], *, links: list[dict]) -> Bundle:
    """One page of a search result: (fullUrl, resource) pairs, all of them matches; a ``next``
    link when there is more (no total: counting every match would cost what paging saves)."""
    return Bundle.model_validate(
        {
            "type": "searchset",
            "link": links,
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
                            "the GP practice or the zorggroep; a feedback key of theirs reads "
                            "Task, ServiceRequest and feedback Bundles only."
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
                                },
                                {
                                    "code": "read",
                                    "documentation": _(
                                        "Feedback to the referrer: one document Bundle "
                                        "(Composition, Observations, MedicationStatements and "
                                        "the PDF letter as a DocumentReference) per feedback "
                                        "moment, listed in Task.output."
                                    ),
                                },
                            ],
                        },
                        {
                            "type": "Task",
                            "interaction": [{"code": "read"}, {"code": "search-type"}],
                            "searchParam": [
                                {"name": "_id", "type": "token"},
                                {"name": "focus", "type": "reference"},
                                {"name": "identifier", "type": "token"},
                                {
                                    "name": "_lastUpdated",
                                    "type": "date",
                                    "documentation": _(
                                        "What changed since your last poll: gt<meta.lastUpdated "
                                        "you last saw>. Results are ordered by lastUpdated and "
                                        "paged with _count (at most 200) and the next link."
                                    ),
                                },
                                {"name": "_count", "type": "number"},
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
    identifiers = [{"system": REFERRAL_ID_SYSTEM, "value": str(referral.public_id)}]
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


def _instant(moment: datetime.datetime, timespec: str = "seconds") -> str:
    return timezone.localtime(moment).isoformat(timespec=timespec)
