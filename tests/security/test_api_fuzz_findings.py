"""What schemathesis found against /api/schema/ (scripts/fuzz_api.sh), each kept fixed here."""

import base64
import datetime

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

from carechain.validators import validate_agb, validate_uzovi
from referrals.models import Referral
from tests import factories
from tests.referrals.api_support import (
    action_url,
    intake_key,
    referral_body,
    referral_of,
    referral_pks,
)

REFERRALS = "/api/referrals/"
CLAIMS = "/api/claims/"


@pytest.fixture
def practice_headers(chain):
    return intake_key(chain.practice_a)


@pytest.fixture
def insurer_headers(chain):
    return {"HTTP_AUTHORIZATION": f"Api-Key {factories.api_key(chain.insurer_a, 'claims')}"}


# -- 500s -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        REFERRALS,
        "/api/referrals/00000000-0000-4000-8000-000000000001/accept/",
        "/api/patients/",
        CLAIMS,
    ],
)
def test_options_names_the_view_and_the_schema_instead_of_crashing(
    api, practice_headers, insurer_headers, url
):
    response = api.options(url, **(insurer_headers if url == CLAIMS else practice_headers))
    assert response.status_code == 200
    assert response.json()["schema"].endswith("/api/schema/")
    assert "actions" not in response.json()


@pytest.mark.parametrize(
    ("url", "name"),
    [
        (REFERRALS, "received_before"),
        (REFERRALS, "received_after"),
        (CLAIMS, "changed_since"),
    ],
)
def test_a_utc_offset_beyond_postgresqls_range_is_no_crash(
    api, chain, practice_headers, insurer_headers, url, name
):
    headers = insurer_headers if url == CLAIMS else practice_headers
    referral_of(chain.practice_a)
    # +23:12 is a valid offset for Python, out of range for PostgreSQL (which goes to 15:59).
    moment = "2020-03-08T05:52:22+23:12"
    assert api.get(url, {name: moment}, **headers).status_code == 200
    # A moment without a UTC equivalent is a clear 400.
    response = api.get(url, {name: "0001-01-01T00:00:00+05:00"}, **headers)
    assert response.status_code == 400 and name in response.json()


def test_the_offset_is_honoured_not_dropped(api, chain, practice_headers):
    referral = referral_of(chain.practice_a)
    received = referral.received_at.astimezone(datetime.timezone(datetime.timedelta(hours=-19)))
    just_after = (received + datetime.timedelta(seconds=1)).isoformat()
    just_before = (received - datetime.timedelta(seconds=1)).isoformat()

    def ids(params):
        response = api.get(REFERRALS, params, **practice_headers)
        return referral_pks(response.json()["results"])

    assert ids({"received_before": just_after}) == [referral.pk]
    assert ids({"received_before": just_before}) == []


@pytest.mark.parametrize("url", ["/api/patients/", REFERRALS])
@pytest.mark.parametrize("position", ["abc", "1; DROP TABLE", "9" * 40])
def test_a_forged_cursor_is_a_404_on_every_list(api, chain, practice_headers, url, position):
    cursor = base64.b64encode(f"p={position}".encode()).decode()
    response = api.get(url, {"cursor": cursor}, **practice_headers)
    assert response.status_code == 404 and response["Content-Type"] == "application/json"


@pytest.mark.parametrize("url", ["/api/patients/", REFERRALS])
def test_a_cursor_outside_base64_is_a_404_and_an_empty_one_the_first_page(
    api, practice_headers, url
):
    # base64 decoding skips what is not of its alphabet: "\x00" read as the first page.
    assert api.get(url, {"cursor": "\x00"}, **practice_headers).status_code == 404
    assert api.get(url, {"cursor": "cD0x\u00e9"}, **practice_headers).status_code == 404
    assert api.get(url, {"cursor": ""}, **practice_headers).status_code == 200


# -- answers the schema did not describe ----------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/referrals/abc/"),
        ("post", "/api/referrals/%F0%A9%8B%A9/close-unreachable/"),
        ("get", "/api/claims/x/y/z/"),
        ("delete", "/api/nothing-here"),
    ],
)
def test_a_url_that_names_nothing_is_a_json_404(api, practice_headers, method, url):
    response = getattr(api, method)(url, **practice_headers)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"]


def test_a_missing_trailing_slash_redirects_a_get_and_names_the_url_otherwise(
    api, chain, practice_headers
):
    response = api.get("/api/referrals?state=received", **practice_headers)
    assert response.status_code == 301 and response["Location"] == "/api/referrals/?state=received"
    response = api.post("/api/referrals", referral_body(chain.practice_a), **practice_headers)
    assert response.status_code == 404 and "/api/referrals/" in response.json()["detail"]
    assert not Referral.objects.exists()


@pytest.mark.parametrize("value", ["ja", "/L", "yes please"])
def test_a_boolean_filter_refuses_what_is_not_a_boolean(api, practice_headers, value):
    response = api.get(REFERRALS, {"is_ketenzorg": value}, **practice_headers)
    assert response.status_code == 400 and "is_ketenzorg" in response.json()


def test_a_boolean_filter_takes_true_false_one_zero_and_empty(api, chain, practice_headers):
    plain = referral_of(chain.practice_a, is_ketenzorg=False)
    chain_care = referral_of(chain.practice_a, is_ketenzorg=True, ketenzorg_programme="copd")

    def ids(value):
        response = api.get(REFERRALS, {"is_ketenzorg": value}, **practice_headers)
        assert response.status_code == 200
        return set(referral_pks(response.json()["results"]))

    assert ids("true") == ids("1") == ids("True") == {chain_care.pk}
    assert ids("false") == ids("0") == {plain.pk}
    assert ids("") == {plain.pk, chain_care.pk}


@pytest.mark.parametrize("code", ["０１０５１２３４", "٠١٠٥١٢٣٤"])
def test_identifiers_are_ascii_digits_only(code):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        validate_agb(code)
    with pytest.raises(ValidationError):
        validate_uzovi(code[:4])


# -- the schema -----------------------------------------------------------------------------------
def _api_schema() -> dict:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)
    return {url: ops for url, ops in schema["paths"].items() if url.startswith("/api/")}


def test_every_operation_documents_the_errors_in_front_of_every_view():
    paths = _api_schema()
    assert paths
    for url, operations in paths.items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"401", "403", "429"} <= codes, (method, url)
            if "requestBody" in operation:
                assert {"400", "413", "415"} <= codes, (method, url)
            names = {p["name"] for p in operation.get("parameters", [])}
            if "{" in url or "cursor" in names:
                assert "404" in codes, (method, url)
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query" and parameter["schema"].get("type") != "array":
                    assert parameter["allowEmptyValue"] is True, (url, parameter["name"])


def test_the_schema_states_shapes_the_api_enforces():
    paths = _api_schema()
    create = paths["/api/referrals/"]["post"]["requestBody"]["content"]["application/json"]
    assert create["schema"]["$ref"].endswith("ReferralCreateInputRequest")
    listing = {p["name"]: p for p in paths["/api/referrals/"]["get"]["parameters"]}
    assert listing["page_size"]["schema"] == {"type": "integer", "minimum": 1}
    assert "\\x00" in listing["patient_bsn"]["schema"]["pattern"]


def test_consent_false_is_still_refused_with_its_message(api, chain, practice_headers):
    body = referral_body(chain.practice_a, consent_data_exchange=False)
    response = api.post(REFERRALS, body, format="json", **practice_headers)
    assert response.status_code == 400 and "consent_data_exchange" in response.json()


# -- a number where the schema says string, a truthy value where it says true ---------------------
def test_a_number_as_the_cancellation_reason_is_a_400_and_changes_nothing(
    api, chain, practice_headers
):
    referral = referral_of(chain.practice_a)
    url = action_url(referral, "request-cancellation")
    response = api.post(url, {"reason": 0}, format="json", **practice_headers)
    assert response.status_code == 400
    assert "reason" in response.json()
    assert Referral.objects.get(pk=referral.pk).state == referral.state


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"reason": 12}, "reason"),
        ({"practice_agb": 1051234}, "practice_agb"),
        ({"consent_data_exchange": 1}, "consent_data_exchange"),
        ({"consent_data_exchange": "yes"}, "consent_data_exchange"),
    ],
)
def test_a_wrong_json_type_in_a_referral_is_a_400_and_creates_nothing(
    api, chain, practice_headers, overrides, field
):
    body = referral_body(chain.practice_a, **overrides)
    response = api.post(REFERRALS, body, format="json", **practice_headers)
    assert response.status_code == 400 and field in response.json()
    assert not Referral.objects.exists()


def test_a_number_as_the_patients_bsn_is_a_400(api, chain, practice_headers):
    body = referral_body(chain.practice_a)
    body["patient"]["bsn"] = 123456782
    response = api.post(REFERRALS, body, format="json", **practice_headers)
    assert response.status_code == 400
    assert "bsn" in response.json()["patient"]
    assert not Referral.objects.exists()
