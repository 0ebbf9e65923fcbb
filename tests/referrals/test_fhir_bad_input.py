"""A delivery the platform refuses stores nothing and says, as an OperationOutcome, what is wrong."""

import json

import pytest

from carechain.models import OrganisationAPIKey
from tests import factories

from .fhir_samples import (
    appointment_request,
    auth,
    intake_key,
    outcome_issue,
    post_document,
    stored_counts,
)

NOTHING = (0, 0, 0)

# Entry positions in the sample appointment request.
PATIENT, PRACTICE, PROVIDER = 1, 4, 5
OBSERVATION = 8


@pytest.fixture
def bundle(chain):
    return appointment_request(practice_agb=chain.practice_a.agb, provider_agb=chain.provider.agb)


@pytest.fixture
def key(chain):
    return intake_key(chain.practice_a)


def resource(bundle, position):
    return bundle["entry"][position]["resource"]


def set_bsn(value):
    def change(bundle):
        resource(bundle, PATIENT)["identifier"][0]["value"] = value

    change.__name__ = f"bsn_{value}"
    return change


def set_agb(position, value):
    def change(bundle):
        resource(bundle, position)["identifier"][0]["value"] = value

    change.__name__ = f"{'practice' if position == PRACTICE else 'provider'}_agb_{value}"
    return change


def composition_type(code):
    def change(bundle):
        resource(bundle, 0)["type"]["coding"][0]["code"] = code

    change.__name__ = f"composition_type_{code}"
    return change


def swap_first_entries(bundle):
    bundle["entry"][0], bundle["entry"][1] = bundle["entry"][1], bundle["entry"][0]


def drop_bsn(bundle):
    resource(bundle, PATIENT)["identifier"] = []


def drop_bundle_id(bundle):
    del bundle["id"]


def drop_zd_number(bundle):
    del resource(bundle, 0)["identifier"]


def collection(bundle):
    bundle["type"] = "collection"


def dutch_birth_date(bundle):
    resource(bundle, PATIENT)["birthDate"] = "14-03-1968"


def year_of_birth_only(bundle):
    resource(bundle, PATIENT)["birthDate"] = "1968"


def negative_cigarettes(bundle):
    resource(bundle, OBSERVATION)["valueQuantity"]["value"] = -5


def implausible_cigarettes(bundle):
    resource(bundle, OBSERVATION)["valueQuantity"]["value"] = 500


@pytest.mark.parametrize(
    ("change", "status", "code", "expression", "words"),
    [
        (collection, 422, "invalid", "Bundle.type", "document"),
        (drop_bundle_id, 422, "required", "Bundle.id", "document id"),
        (swap_first_entries, 422, "structure", "Bundle.entry[0]", "Composition"),
        (
            composition_type("request-form"),
            422,
            "code-invalid",
            "Bundle.entry[0].resource.type",
            "request-form",
        ),
        (drop_zd_number, 422, "required", "Bundle.entry[0].resource.identifier", "ZD number"),
        (
            drop_bsn,
            422,
            "required",
            "Bundle.entry[1].resource.identifier.where(system='http://fhir.nl/fhir/NamingSystem/bsn')",
            "BSN",
        ),
        (
            set_bsn("123456789"),
            422,
            "value",
            "Bundle.entry[1].resource.identifier.where(system='http://fhir.nl/fhir/NamingSystem/bsn')",
            "11-proef",
        ),
        (set_bsn("1234567890"), 422, "value", None, "9 digits"),
        (
            set_agb(PRACTICE, "01999999"),
            422,
            "not-found",
            "Bundle.entry[4].resource.identifier",
            "01999999",
        ),
        (
            set_agb(PRACTICE, "0105-12"),
            422,
            "value",
            "Bundle.entry[4].resource.identifier",
            "8 digits",
        ),
        (
            set_agb(PROVIDER, "73739999"),
            422,
            "not-found",
            "Bundle.entry[5].resource.identifier",
            "73739999",
        ),
        (dutch_birth_date, 422, "value", "Bundle.entry[1].resource.birthDate", "Date"),
        (year_of_birth_only, 422, "required", "Bundle.entry[1].resource.birthDate", "birth"),
        (negative_cigarettes, 422, "value", "Bundle.entry[8].resource.value[x]", "zero or more"),
        (implausible_cigarettes, 422, "invariant", None, "cigarettes_per_day"),
    ],
    ids=lambda value: getattr(value, "__name__", None) if callable(value) else None,
)
def test_an_invalid_appointment_request_is_refused_and_stores_nothing(
    api, key, bundle, change, status, code, expression, words
):
    change(bundle)

    response = post_document(api, bundle, key=key)

    assert response.status_code == status, response.json()
    issue = outcome_issue(response)
    assert issue["code"] == code
    if expression:
        assert issue["expression"] == [expression]
    assert words.lower() in issue["diagnostics"].lower()
    assert stored_counts() == NOTHING


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ("{not json", 400, "structure"),
        ("", 400, "invalid"),
        ("[1, 2]", 400, "structure"),
        (json.dumps({"resourceType": "Patient", "id": "x"}), 400, "invalid"),
    ],
    ids=["invalid-json", "empty-body", "json-array", "not-a-bundle"],
)
def test_a_body_that_is_no_bundle_is_a_bad_request(api, key, body, status, code):
    response = post_document(api, body, key=key)

    assert response.status_code == status
    assert outcome_issue(response)["code"] == code
    assert stored_counts() == NOTHING


def test_a_bundle_nested_too_deeply_is_a_bad_request(api, key, bundle):
    levels = 300  # deep enough for the FHIR models, shallow enough for the JSON parser
    resource(bundle, PATIENT)["extension"] = "NESTED"
    nested = '{"url": "http://example.nl/x", "extension": [' * levels
    nested += '{"url": "http://example.nl/x", "valueString": "diep"}' + "]}" * levels
    deep_fhir = json.dumps(bundle).replace('"NESTED"', f"[{nested}]")

    deep_json_response = post_document(api, "[" * 100_000 + "]" * 100_000, key=key)
    deep_fhir_response = post_document(api, deep_fhir, key=key)

    assert deep_json_response.status_code == 400
    assert deep_fhir_response.status_code == 400
    assert outcome_issue(deep_fhir_response)["code"] == "structure"
    assert stored_counts() == NOTHING


def test_a_body_over_the_upload_limit_is_refused_as_too_large(api, key, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
    body = json.dumps(
        {"resourceType": "Bundle", "padding": "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE}
    )

    response = post_document(api, body, key=key)

    assert response.status_code == 413
    assert outcome_issue(response)["code"] == "too-costly"
    assert stored_counts() == NOTHING


@pytest.mark.parametrize("content_type", ["text/plain", "application/fhir+xml"])
def test_a_body_in_another_format_is_unsupported(api, key, bundle, content_type):
    response = post_document(api, bundle, key=key, content_type=content_type)

    assert response.status_code == 415
    assert outcome_issue(response)["code"] == "not-supported"
    assert stored_counts() == NOTHING


def test_without_an_api_key_the_integration_must_log_in(api, bundle):
    response = post_document(api, bundle, key=None)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Api-Key"
    assert outcome_issue(response)["code"] == "login"
    assert stored_counts() == NOTHING


def test_an_unknown_api_key_is_refused(api, bundle):
    response = post_document(api, bundle, key="abcdefgh.not-a-real-secret")

    assert response.status_code == 401
    assert outcome_issue(response)["code"] == "login"


def test_a_revoked_api_key_is_refused(api, chain, bundle):
    key = intake_key(chain.practice_a)
    OrganisationAPIKey.objects.update(revoked=True)

    response = post_document(api, bundle, key=key)

    assert response.status_code == 401
    assert stored_counts() == NOTHING


def test_practice_b_cannot_refer_on_behalf_of_practice_a(api, chain, bundle):
    response = post_document(api, bundle, key=intake_key(chain.practice_b))

    assert response.status_code == 403
    issue = outcome_issue(response)
    assert issue["code"] == "forbidden"
    assert chain.practice_a.agb in issue["diagnostics"]
    assert stored_counts() == NOTHING


def test_an_insurers_claims_key_cannot_refer(api, chain, bundle):
    key = factories.api_key(chain.insurer_a, purpose=OrganisationAPIKey.Purpose.CLAIMS)

    response = post_document(api, bundle, key=key)

    assert response.status_code == 403
    assert outcome_issue(response)["code"] == "forbidden"
    assert stored_counts() == NOTHING


def test_only_post_is_allowed_on_bundle(api, key):
    response = api.get("/fhir/Bundle", **auth(key))

    assert response.status_code == 405
    assert outcome_issue(response)["code"] == "not-supported"
