"""Insurers read a claim as a FHIR R4 Claim and answer it with a ClaimResponse."""

import json

import pytest
from fhir.resources.R4B.claim import Claim as FhirClaim
from fhir.resources.R4B.claimresponse import ClaimResponse
from fhir.resources.R4B.operationoutcome import OperationOutcome

from audit.models import AuditEvent
from billing.fhir import CLAIM_NUMBER_SYSTEM, REJECTION_REASON_SYSTEM, UZOVI_SYSTEM
from billing.models import Claim
from tests.billing.claims_support import (
    ANSWERS_URL,
    claim_row,
    claims_key,
    fhir_claim_url,
    intake_key,
    resubmit_url,
    routed_claims,
)

CLAIM_RESPONSE_URL = "/fhir/ClaimResponse"
FHIR_JSON = "application/fhir+json"


@pytest.fixture
def headers(chain):
    return claims_key(chain.insurer_a)


def _resource(response) -> dict:
    assert response["Content-Type"].startswith(FHIR_JSON), response["Content-Type"]
    return json.loads(response.content)


def _outcome(response) -> OperationOutcome:
    return OperationOutcome.model_validate(_resource(response))


def claim_response(claim, *, outcome="complete", uzovi=None, errors=(), **extra) -> dict:
    body = {
        "resourceType": "ClaimResponse",
        "status": "active",
        "type": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/claim-type",
                    "code": "professional",
                }
            ]
        },
        "use": "claim",
        "patient": {
            "identifier": {"system": "http://fhir.nl/fhir/NamingSystem/bsn", "value": claim.bsn}
        },
        "created": "2026-05-13T09:40:12+02:00",
        "insurer": {"identifier": {"system": UZOVI_SYSTEM, "value": uzovi or claim.uzovi}},
        "request": {"reference": f"Claim/{claim.claim_number}"},
        "outcome": outcome,
    }
    if errors:
        body["error"] = [
            {"code": {"coding": [{"system": REJECTION_REASON_SYSTEM, "code": code}], "text": text}}
            for code, text in errors
        ]
    body.update(extra)
    return body


def _post(api, headers, body, content_type=FHIR_JSON):
    return api.generic(
        "POST", CLAIM_RESPONSE_URL, json.dumps(body), content_type=content_type, **headers
    )


# -- Claim out ----------------------------------------------------------------------------------
def test_claim_is_served_as_a_valid_fhir_r4_claim(api, chain, coach, prestaties, headers):
    claim = routed_claims(chain, coach)[0]
    response = api.get(fhir_claim_url(claim), **headers)
    assert response.status_code == 200
    resource = FhirClaim.model_validate(_resource(response))
    assert (resource.status, resource.use, resource.type.coding[0].code) == (
        "active",
        "claim",
        "professional",
    )
    assert resource.identifier[0].system == CLAIM_NUMBER_SYSTEM
    assert resource.identifier[0].value == claim.claim_number
    patient, coverage = resource.contained
    assert resource.patient.reference == f"#{patient.id}"
    assert patient.identifier[0].system == "http://fhir.nl/fhir/NamingSystem/bsn"
    assert patient.identifier[0].value == claim.bsn
    assert coverage.subscriberId == claim.policy_number
    assert resource.insurance[0].coverage.reference == f"#{coverage.id}"
    assert resource.insurer.identifier.system == UZOVI_SYSTEM
    assert resource.insurer.identifier.value == chain.insurer_a.uzovi
    assert resource.provider.identifier.system == "http://fhir.nl/fhir/NamingSystem/agb-z"
    assert resource.provider.identifier.value == chain.provider.agb
    item = resource.item[0]
    assert item.productOrService.coding[0].code == "SMR01"
    assert (str(item.servicedPeriod.start), str(item.servicedPeriod.end)) == (
        "2026-03-02",
        "2026-05-11",
    )
    assert (float(item.net.value), item.net.currency) == (268.0, "EUR")


def test_a_superseded_claim_is_cancelled_and_its_correction_points_back(
    api, chain, coach, planner, prestaties, headers
):
    claim = routed_claims(chain, coach)[0]
    api.post(
        ANSWERS_URL,
        {
            "answers": [
                {"claim_number": claim.claim_number, "outcome": "rejected", "reason_code": "8001"}
            ]
        },
        format="json",
        **headers,
    )
    api.force_login(planner)
    new_number = api.post(resubmit_url(claim), {}, format="json").data["claim_number"]
    api.logout()
    old = FhirClaim.model_validate(_resource(api.get(fhir_claim_url(claim), **headers)))
    assert old.status == "cancelled"
    new = FhirClaim.model_validate(_resource(api.get(f"/fhir/Claim/{new_number}", **headers)))
    assert new.status == "active"
    assert new.related[0].claim.identifier.value == claim.claim_number
    assert new.related[0].relationship.coding[0].code == "prior"


def test_another_insurers_claim_is_a_404_outcome(api, chain, prestaties, headers):
    theirs = claim_row(chain, prestaties["programme"], insurer=chain.insurer_b)
    response = api.get(fhir_claim_url(theirs), **headers)
    assert response.status_code == 404
    assert _outcome(response).issue[0].code == "not-found"


def test_an_intake_key_gets_403_and_no_key_401(api, chain, prestaties):
    claim = claim_row(chain, prestaties["programme"])
    assert api.get(fhir_claim_url(claim), **intake_key(chain.practice_a)).status_code == 403
    assert api.get(fhir_claim_url(claim)).status_code == 401
    assert _post(api, intake_key(chain.practice_a), claim_response(claim)).status_code == 403


def test_reading_a_fhir_claim_is_audited(api, chain, prestaties, headers):
    claim = claim_row(chain, prestaties["programme"])
    api.get(fhir_claim_url(claim), **headers)
    event = AuditEvent.objects.get(action="view", object_type="billing.claim")
    assert (event.patient_id, event.channel) == (claim.trajectory.patient_id, "fhir")


# -- ClaimResponse in ---------------------------------------------------------------------------
def test_a_complete_claim_response_accepts_the_claim(api, chain, prestaties, headers):
    claim = claim_row(chain, prestaties["programme"])
    response = _post(api, headers, claim_response(claim))
    assert response.status_code == 201, response.content
    echoed = ClaimResponse.model_validate(_resource(response))
    assert (echoed.outcome, echoed.request.reference) == ("complete", f"Claim/{claim.claim_number}")
    claim.refresh_from_db()
    assert claim.status == "accepted" and claim.answered_at is not None
    assert AuditEvent.objects.filter(action="change", channel="fhir").count() == 1


def test_an_error_claim_response_rejects_with_its_reason(api, chain, prestaties, headers):
    claim = claim_row(chain, prestaties["programme"])
    body = claim_response(claim, outcome="error", errors=[("8002", "Verzekerde onbekend")])
    response = _post(api, headers, body)
    assert response.status_code == 201, response.content
    echoed = ClaimResponse.model_validate(_resource(response))
    assert echoed.error[0].code.coding[0].code == "8002"
    claim.refresh_from_db()
    assert (claim.status, claim.rejection_code, claim.rejection_text) == (
        "rejected",
        "8002",
        "Verzekerde onbekend",
    )


def test_the_same_claim_response_twice_is_200_the_second_time(api, chain, prestaties, headers):
    claim = claim_row(chain, prestaties["programme"])
    assert _post(api, headers, claim_response(claim)).status_code == 201
    assert _post(api, headers, claim_response(claim)).status_code == 200


def test_a_conflicting_claim_response_is_a_409_outcome(api, chain, prestaties, headers):
    claim = claim_row(chain, prestaties["programme"])
    _post(api, headers, claim_response(claim))
    response = _post(
        api, headers, claim_response(claim, outcome="error", errors=[("8001", "Dubbel")])
    )
    assert response.status_code == 409
    outcome = _outcome(response)
    assert outcome.issue[0].code == "conflict"
    assert claim.claim_number in outcome.issue[0].diagnostics
    assert Claim.objects.get(pk=claim.pk).status == "accepted"


def test_rest_and_fhir_answers_are_one_and_the_same(api, chain, prestaties, headers):
    claim = claim_row(chain, prestaties["programme"])
    api.post(
        ANSWERS_URL,
        {"answers": [{"claim_number": claim.claim_number, "outcome": "accepted"}]},
        format="json",
        **headers,
    )
    assert _post(api, headers, claim_response(claim)).status_code == 200


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"outcome": "error"}, 422, "required"),  # a rejection without an error code
        ({"outcome": "queued"}, 422, "not-supported"),
        ({"errors": [("9999", "?")], "outcome": "error"}, 422, "code-invalid"),
        ({"request": {"reference": "Claim/SMR-99999999-SMR01-1"}}, 422, "not-found"),
        ({"request": {"display": "the claim"}}, 422, "required"),
        ({"uzovi": "0001"}, 422, "invalid"),
        ({"status": "cancelled"}, 422, "not-supported"),
        ({"use": "preauthorization"}, 422, "not-supported"),
        ({"created": "yesterday"}, 422, "value"),
        ({"resourceType": "Claim"}, 400, "invalid"),
        ({"insurer": None}, 422, "required"),
    ],
)
def test_bad_claim_responses_are_refused_with_an_operation_outcome(
    api, chain, prestaties, headers, change, status, code
):
    claim = claim_row(chain, prestaties["programme"])
    body = claim_response(
        claim,
        outcome=change.pop("outcome", "complete"),
        uzovi=change.pop("uzovi", None),
        errors=change.pop("errors", ()),
    )
    body.update(change)
    body = {key: value for key, value in body.items() if value is not None}
    response = _post(api, headers, body)
    assert response.status_code == status, response.content
    assert _outcome(response).issue[0].code == code
    assert Claim.objects.get(pk=claim.pk).status == "submitted"


def test_another_insurers_claim_cannot_be_answered_over_fhir(api, chain, prestaties, headers):
    theirs = claim_row(chain, prestaties["programme"], insurer=chain.insurer_b)
    response = _post(api, headers, claim_response(theirs, uzovi=chain.insurer_a.uzovi))
    assert response.status_code == 422
    assert _outcome(response).issue[0].code == "not-found"
    assert Claim.objects.get(pk=theirs.pk).status == "submitted"


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ("{not json", FHIR_JSON, 400),
        ("[]", FHIR_JSON, 400),
        ('"text"', FHIR_JSON, 400),
        ("{}", "text/plain", 415),
        ("[" * 5000 + "]" * 5000, FHIR_JSON, 400),
    ],
)
def test_garbage_is_a_4xx_outcome_never_a_500(
    api, chain, prestaties, headers, body, content_type, status
):
    response = api.generic("POST", CLAIM_RESPONSE_URL, body, content_type=content_type, **headers)
    assert response.status_code == status
    assert _outcome(response).issue


def test_a_trailing_slash_is_tolerated_and_other_paths_stay_with_the_referral_server(
    api, chain, prestaties, headers
):
    claim = claim_row(chain, prestaties["programme"])
    assert api.get(fhir_claim_url(claim) + "/", **headers).status_code == 200
    assert _post(api, headers, claim_response(claim)).status_code == 201
    assert api.get("/fhir/Claim/", **headers).status_code == 200  # the search
    response = api.get(f"{fhir_claim_url(claim)}/_history", **headers)
    assert response.status_code == 404
    assert _outcome(response).issue[0].code == "not-supported"
