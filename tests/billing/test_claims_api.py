"""Insurers pull their claims over REST: only their own, only with a claims key, audited, paged."""

import datetime
import json

import pytest
from django.db import connection
from django.utils import timezone

from audit.models import AuditEvent
from billing.api.views import ClaimCursorPagination
from billing.models import Claim
from tests.billing.claims_support import (
    CLINICAL_SECRETS,
    LIST_URL,
    claim_row,
    claim_rows,
    claims_key,
    detail_url,
    fhir_claim_url,
    intake_key,
    many_claim_rows,
    routed_claims,
)


def _numbers(response) -> list[str]:
    assert response.status_code == 200, response.data
    return [row["claim_number"] for row in response.json()["results"]]


def _walk(api, headers, url) -> list[str]:
    seen = []
    while url:
        response = api.get(url, **headers)
        seen += _numbers(response)
        url = response.json()["next"]
    return seen


# -- who sees what ------------------------------------------------------------------------------
def test_insurer_lists_only_the_claims_addressed_to_it(api, chain, coach, prestaties):
    mine = routed_claims(chain, coach, insurer=chain.insurer_a)
    routed_claims(chain, coach, insurer=chain.insurer_b)
    assert _numbers(api.get(LIST_URL, **claims_key(chain.insurer_a))) == [
        c.claim_number for c in mine
    ]


def test_claim_of_another_insurer_is_not_found(api, chain, prestaties):
    theirs = claim_row(chain, prestaties["programme"], insurer=chain.insurer_b)
    mine = claim_row(chain, prestaties["programme"], insurer=chain.insurer_a)
    headers = claims_key(chain.insurer_a)
    assert api.get(detail_url(theirs), **headers).status_code == 404
    response = api.get(detail_url(mine), **headers)
    assert response.status_code == 200
    assert response.data["claim_number"] == mine.claim_number


def test_detail_shows_what_the_claim_holds(api, chain, coach, prestaties):
    claim = routed_claims(chain, coach)[0]
    data = api.get(detail_url(claim), **claims_key(chain.insurer_a)).data
    assert data["bsn"] == claim.bsn and data["uzovi"] == chain.insurer_a.uzovi
    assert data["provider_agb"] == chain.provider.agb
    assert (data["prestatie_code"], data["amount"], data["status"]) == (
        "SMR01",
        "268.00",
        "submitted",
    )
    assert (data["version"], data["replaces"], data["replaced_by"]) == (1, None, None)


def test_referral_intake_key_gets_403(api, chain, prestaties):
    claim_row(chain, prestaties["programme"])
    headers = intake_key(chain.practice_a)
    assert api.get(LIST_URL, **headers).status_code == 403
    assert api.get(detail_url(Claim.objects.get()), **headers).status_code == 403


@pytest.mark.parametrize("persona", ["coach", "planner", "insurer_user", "zorggroep_admin", "poh"])
def test_people_in_the_browser_get_403_whatever_their_role(
    api, chain, prestaties, persona, request
):
    """Insurers read claims with their organisation's claims key only, never in a session."""
    claim = claim_row(chain, prestaties["programme"])
    api.force_login(request.getfixturevalue(persona))
    assert api.get(LIST_URL).status_code == 403
    assert api.get(detail_url(claim)).status_code == 403


def test_without_a_key_the_answer_is_401(api, chain, prestaties):
    assert api.get(LIST_URL).status_code == 401


def test_revoked_claims_key_is_refused(api, chain, prestaties):
    headers = claims_key(chain.insurer_a)
    chain.insurer_a.api_keys.update(revoked=True)
    assert api.get(LIST_URL, **headers).status_code in (401, 403)


# -- paging -------------------------------------------------------------------------------------
def test_paging_walks_every_claim_once_in_order(api, chain, prestaties):
    mine = claim_rows(chain, prestaties["programme"], 17)
    claim_rows(chain, prestaties["programme"], 3, insurer=chain.insurer_b)
    seen = _walk(api, claims_key(chain.insurer_a), f"{LIST_URL}?page_size=5")
    assert seen == [c.claim_number for c in mine]  # no duplicates, no gaps, oldest first


def test_claims_made_while_paging_are_found_on_a_later_page(api, chain, prestaties):
    first = claim_rows(chain, prestaties["programme"], 3)
    headers = claims_key(chain.insurer_a)
    page = api.get(f"{LIST_URL}?page_size=2", **headers)
    later = claim_rows(chain, prestaties["programme"], 2)
    seen = _numbers(page) + _walk(api, headers, page.json()["next"])
    assert seen == [c.claim_number for c in first + later]


def test_page_size_is_capped_and_nonsense_falls_back(api, chain, prestaties, monkeypatch):
    many_claim_rows(chain, list(prestaties.values()), 205)
    headers = claims_key(chain.insurer_a)
    big = api.get(f"{LIST_URL}?page_size=5000", **headers)
    assert len(_numbers(big)) == 205 and big.json()["next"] is None
    assert ClaimCursorPagination.max_page_size == 5000
    monkeypatch.setattr(ClaimCursorPagination, "max_page_size", 200)  # capping, without 5,001 rows
    huge = api.get(f"{LIST_URL}?page_size=100000000000000000000000000000", **headers)
    assert len(_numbers(huge)) == 200 and huge.json()["next"]
    for nonsense in ("-5", "0", "abc", "1e9"):
        assert len(_numbers(api.get(f"{LIST_URL}?page_size={nonsense}", **headers))) == 50


@pytest.mark.parametrize(
    "cursor",
    ["garbage", "cD1hYmM=", "cD0xOyBEUk9QIFRBQkxF", "cD0xMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA%3D"],
)
def test_a_forged_cursor_is_a_404_not_a_crash(api, chain, prestaties, cursor):
    claim_row(chain, prestaties["programme"])
    assert api.get(f"{LIST_URL}?cursor={cursor}", **claims_key(chain.insurer_a)).status_code == 404


def _expected_list_queries() -> int:
    # api key with its organisation; the page (with the neighbouring versions as subqueries,
    # joined to the trajectory's patient id); audit: savepoint, [advisory lock on PostgreSQL],
    # newest hash, the page's row with its patients (one statement on PostgreSQL, two on
    # SQLite), release
    return 1 + 1 + 5


def _expected_detail_queries() -> int:
    # api key with its organisation; the claim; audit: savepoint, [advisory lock on PostgreSQL],
    # newest hash, one insert, release
    audit = 5 if connection.vendor == "postgresql" else 4
    return 1 + 1 + audit


def test_claim_list_runs_the_same_queries_for_any_page_size(
    api, chain, prestaties, django_assert_num_queries
):
    claim_rows(chain, prestaties["programme"], 30)
    headers = claims_key(chain.insurer_a)
    for size in (3, 30):
        with django_assert_num_queries(_expected_list_queries()):
            assert len(_numbers(api.get(f"{LIST_URL}?page_size={size}", **headers))) == size


def test_claim_detail_runs_constant_queries(api, chain, prestaties, django_assert_num_queries):
    claim = claim_row(chain, prestaties["programme"])
    headers = claims_key(chain.insurer_a)
    with django_assert_num_queries(_expected_detail_queries()):
        assert api.get(detail_url(claim), **headers).status_code == 200


# -- filters ------------------------------------------------------------------------------------
def test_changed_since_returns_only_claims_changed_at_or_after_it(api, chain, prestaties):
    old, new = claim_rows(chain, prestaties["programme"], 2)
    moment = timezone.now() - datetime.timedelta(hours=1)
    Claim.objects.filter(pk=old.pk).update(updated_at=moment - datetime.timedelta(days=2))
    Claim.objects.filter(pk=new.pk).update(updated_at=moment)
    headers = claims_key(chain.insurer_a)
    response = api.get(LIST_URL, {"changed_since": moment.isoformat()}, **headers)
    assert _numbers(response) == [new.claim_number]


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01T00:00:00", "2026-05-01T25:00"])
def test_a_bad_changed_since_is_a_400_naming_the_field(api, chain, prestaties, value):
    response = api.get(LIST_URL, {"changed_since": value}, **claims_key(chain.insurer_a))
    assert response.status_code == 400
    assert "changed_since" in response.data


def test_status_filter(api, chain, prestaties):
    submitted, rejected = claim_rows(chain, prestaties["programme"], 2)
    Claim.objects.filter(pk=rejected.pk).update(status="rejected", rejection_code="8001")
    headers = claims_key(chain.insurer_a)
    assert _numbers(api.get(LIST_URL, {"status": "rejected"}, **headers)) == [rejected.claim_number]
    assert api.get(LIST_URL, {"status": "paid"}, **headers).status_code == 400


# -- audit --------------------------------------------------------------------------------------
def test_every_pull_is_in_the_audit_log(api, chain, prestaties):
    claims = claim_rows(chain, prestaties["programme"], 3)
    headers = claims_key(chain.insurer_a)
    api.get(f"{LIST_URL}?page_size=2", **headers)
    listed = AuditEvent.objects.get(action="list", object_type="billing.claim")
    assert sorted(listed.patients.values_list("patient_id", flat=True)) == sorted(
        c.trajectory.patient_id for c in claims[:2]
    )
    assert listed.object_ids == f"{claims[0].pk},{claims[1].pk}"
    assert (listed.channel, listed.organisation) == ("api", chain.insurer_a.name)
    api.get(detail_url(claims[2]), **headers)
    viewed = AuditEvent.objects.get(action="view", object_type="billing.claim")
    assert (viewed.patient_id, viewed.object_id) == (
        claims[2].trajectory.patient_id,
        str(claims[2].pk),
    )
    assert viewed.api_key.endswith(")")  # "<prefix> (<key name>)"


# -- no clinical data ---------------------------------------------------------------------------
FORBIDDEN_KEYS = (
    "trajectory",
    "referral",
    "clinical",
    "smoking",
    "co_ppm",
    "ppm",
    "medication",
    "motivat",
    "escalat",
    "ggz",
    "intake",
    "quit",
    "cigarette",
    "coach",
    "note",
)
FORBIDDEN_VALUES = (
    *CLINICAL_SECRETS,
    "varenicline",
    "nrt_patch",
    "smoke_free",
    "lapse",
    "thoughts",
    "somberheid",
    "COPD",
)


def _walk_output(value, path="$"):
    """Every (path, key, value) of a JSON document."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield path, key, item
            yield from _walk_output(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk_output(item, f"{path}[{index}]")


def _assert_no_clinical_data(document) -> None:
    for path, key, value in _walk_output(document):
        assert not any(word in key.lower() for word in FORBIDDEN_KEYS), f"{path}.{key}"
        if isinstance(value, str):
            assert not any(word.lower() in value.lower() for word in FORBIDDEN_VALUES), (
                f"{path}.{key} = {value!r}"
            )


def test_claims_never_carry_trajectory_or_clinical_data(api, chain, coach, poh_ggz, prestaties):
    """The trajectory behind the claims had an intake note, CO, medication and an escalation."""
    claims = routed_claims(chain, coach, medication=("nrt_patch", "varenicline"), poh_ggz=poh_ggz)
    assert [c.prestatie_code for c in claims] == ["SMR01", "SMR02", "SMR03"]
    headers = claims_key(chain.insurer_a)
    listed = api.get(LIST_URL, **headers)
    detail = api.get(detail_url(claims[2]), **headers)
    fhir = api.get(fhir_claim_url(claims[2]), **headers)
    assert (listed.status_code, detail.status_code, fhir.status_code) == (200, 200, 200)
    for document in (listed.json(), detail.data, json.loads(fhir.content)):
        _assert_no_clinical_data(document)
    assert set(detail.data) == {
        "claim_number",
        "version",
        "status",
        "bsn",
        "patient_name",
        "birth_date",
        "uzovi",
        "policy_number",
        "provider_agb",
        "performer_agb",
        "prestatie_code",
        "start_date",
        "end_date",
        "amount",
        "rejection_code",
        "rejection_text",
        "answered_at",
        "created_at",
        "updated_at",
        "replaces",
        "replaced_by",
    }


def test_the_walker_would_catch_a_leak():
    with pytest.raises(AssertionError):
        _assert_no_clinical_data({"claims": [{"note": "x"}]})
    with pytest.raises(AssertionError):
        _assert_no_clinical_data({"text": CLINICAL_SECRETS[1]})


# -- schema -------------------------------------------------------------------------------------
def test_every_claims_endpoint_is_in_the_schema_with_examples_and_no_warnings():
    from django.urls import include, path
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    GENERATOR_STATS.reset()
    patterns = [
        path("api/", include(("billing.api.urls", "api"))),
        path("fhir/", include("billing.fhir_urls")),
    ]
    with GENERATOR_STATS.silence():
        schema = SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)
    problems = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    GENERATOR_STATS.reset()
    assert problems == []
    validate_schema(schema)
    # The REST operations also list the errors of the layers in front of every view
    # (carechain.api.schema): 401, 429; 404 for a bad cursor; 413 and 415 for a body.
    common, body = {"401", "429"}, {"413", "415"}
    operations = {
        ("/api/claims/", "get"): {"200", "400", "403", "404", *common},
        ("/api/claims/{claim_number}/", "get"): {"200", "403", "404", *common},
        ("/api/claims/answers/", "post"): {"200", "400", "403", "409", *common, *body},
        ("/api/claims/{claim_number}/resubmit/", "post"): {
            "201",
            "400",
            "403",
            "404",
            "409",
            *common,
            *body,
        },
        ("/fhir/Claim", "get"): {"200", "400", "401", "403", "404"},
        ("/fhir/Claim/{number}", "get"): {"200", "401", "403", "404"},
        ("/fhir/ClaimResponse", "post"): {
            "200",
            "201",
            "400",
            "401",
            "403",
            "404",
            "409",
            "415",
            "422",
        },
    }
    assert set(schema["paths"]) == {url for url, _method in operations}
    for (url, method), statuses in operations.items():
        operation = schema["paths"][url][method]
        assert operation["summary"] and set(operation["responses"]) == statuses
        documented = json.dumps(operation)
        assert '"examples"' in documented, url
    listing = schema["paths"]["/api/claims/"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {"status", "changed_since", "cursor"}
