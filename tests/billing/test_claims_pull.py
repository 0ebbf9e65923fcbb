"""An insurer pulls every claim page by page: over REST and as a FHIR Claim search.

On PostgreSQL each page's JSON is built by the database (``billing.api.documents``,
``billing.fhir_search.claim_entry_json``); these tests hold it to the Python definitions (``ClaimOutput``,
``billing.fhir.claim_resource``) value for value, and hold every page to the same queries and the
same audit rows at any depth.
"""

import base64
import datetime
import json
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from rest_framework.renderers import JSONRenderer

from audit.models import AuditEvent
from audit.services import audit_verify_chain
from billing import claims as claims_service
from billing import fhir
from billing.api.serializers import ClaimOutput
from billing.models import Claim
from tests.billing.claims_support import (
    LIST_URL,
    claim_row,
    claim_rows,
    claims_key,
    intake_key,
    routed_claims,
)
from tests.billing.test_claims_api import _assert_no_clinical_data

SEARCH_URL = "/fhir/Claim"
AMSTERDAM = datetime.timezone(datetime.timedelta(hours=2))


def _entries(response) -> list[dict]:
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("application/fhir+json")
    return json.loads(response.content).get("entry", [])


def _next(bundle: dict) -> str | None:
    return next((link["url"] for link in bundle["link"] if link["relation"] == "next"), None)


def _search_walk(api, headers, url) -> list[str]:
    numbers = []
    while url:
        response = api.get(url, **headers)
        numbers += [e["resource"]["identifier"][0]["value"] for e in _entries(response)]
        url = _next(json.loads(response.content))
    return numbers


def _varied_claims(chain, prestaties) -> list[Claim]:
    """Every kind of value a claim holds: answered in winter and summer time, with and without
    microseconds, rejected with a text, corrected (replaces / replaced_by), odd characters."""
    winter = claim_row(chain, prestaties["programme"], amount=Decimal("0.50"))
    summer = claim_row(
        chain,
        prestaties["nrt"],
        patient_name='Zoë "de" O\'Brien-\\van\u00a0Dijk ü 🚭',
        amount=Decimal("1234567.89"),
    )
    rejected = claim_row(chain, prestaties["medication"])
    Claim.objects.filter(pk=winter.pk).update(
        status="accepted",
        answered_at=datetime.datetime(2026, 1, 15, 9, 30, 0, tzinfo=datetime.UTC),
        created_at=datetime.datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=datetime.UTC),
    )
    Claim.objects.filter(pk=summer.pk).update(
        status="accepted",
        answered_at=datetime.datetime(2026, 7, 1, 22, 15, 3, 120000, tzinfo=datetime.UTC),
        updated_at=datetime.datetime(2026, 3, 29, 1, 0, 0, tzinfo=datetime.UTC),  # DST starts
    )
    Claim.objects.filter(pk=rejected.pk).update(
        status="rejected",
        rejection_code="8001",
        rejection_text="Polis niet geldig </script> & 'zo'",
        answered_at=datetime.datetime(2026, 10, 25, 1, 30, 0, tzinfo=datetime.UTC),  # DST ends
    )
    corrected = claim_row(
        chain,
        prestaties["medication"],
        trajectory=rejected.trajectory,
        version=2,
        policy_number="POL-CORRECTED",
    )
    Claim.objects.filter(pk=rejected.pk).update(status="superseded")
    return [winter, summer, rejected, corrected]


def _reference_outputs(insurer) -> list[dict]:
    listed = claims_service.with_links(Claim.objects.filter(insurer=insurer)).order_by("pk")
    return json.loads(JSONRenderer().render(ClaimOutput(listed, many=True).data))


# -- the database's JSON is the serializer's -----------------------------------------------------
@pytest.mark.postgres
def test_rest_pages_built_by_postgresql_equal_the_serializer(
    api, chain, prestaties, postgresql_only
):
    _varied_claims(chain, prestaties)
    response = api.get(LIST_URL, **claims_key(chain.insurer_a))
    rows = response.json()["results"]
    assert response.data["results"] == rows and len(response.data["results"]) == 4  # still readable
    expected = _reference_outputs(chain.insurer_a)
    assert len(rows) == 4 and any(row["replaces"] for row in rows)
    assert rows == expected
    assert [list(row) for row in rows] == [list(ClaimOutput.Meta.fields)] * 4  # the same key order


@pytest.mark.postgres
@pytest.mark.parametrize(
    "zone", ["Europe/Amsterdam", "UTC", "America/Sao_Paulo", "Asia/Kolkata", "America/St_Johns"]
)
def test_moments_are_written_as_drf_writes_them_in_any_time_zone(
    api, chain, prestaties, postgresql_only, zone
):
    """UTC gives DRF's ``Z``; zones west of Greenwich negative offsets, some with half hours."""
    _varied_claims(chain, prestaties)
    with timezone.override(zone):
        rows = api.get(LIST_URL, **claims_key(chain.insurer_a)).json()["results"]
        assert rows == _reference_outputs(chain.insurer_a)
    assert any(row["answered_at"] and "." in row["answered_at"] for row in rows)


@pytest.mark.postgres
def test_fhir_search_entries_built_by_postgresql_equal_the_fhir_claims(
    api, chain, prestaties, postgresql_only
):
    _varied_claims(chain, prestaties)
    Claim.objects.filter(insurer=chain.insurer_a).update(updated_at=timezone.now())
    response = api.get(SEARCH_URL, **claims_key(chain.insurer_a))
    bundle = json.loads(response.content)
    Bundle.model_validate(bundle)  # a valid R4 searchset, every Claim inside it too
    listed = claims_service.with_links(Claim.objects.filter(insurer=chain.insurer_a)).order_by("pk")
    base = "http://testserver/fhir/Claim/"
    assert bundle["entry"] == [
        json.loads(fhir.claim_search_entry(claim, base_url=base)) for claim in listed
    ]
    assert [e["resource"]["status"] for e in bundle["entry"]] == [
        "active",
        "active",
        "cancelled",
        "active",
    ]
    assert "related" in bundle["entry"][3]["resource"]


# -- the FHIR Claim search ---------------------------------------------------------------------------
def test_fhir_search_pages_through_every_claim_of_the_insurer_once_in_order(api, chain, prestaties):
    mine = claim_rows(chain, prestaties["programme"], 7)
    claim_rows(chain, prestaties["programme"], 3, insurer=chain.insurer_b)
    seen = _search_walk(api, claims_key(chain.insurer_a), f"{SEARCH_URL}?_count=3")
    assert seen == [c.claim_number for c in mine]


def test_fhir_search_is_a_valid_searchset_with_fhir_claims(api, chain, coach, prestaties):
    claims = routed_claims(chain, coach)
    assert len(claims) == 2
    response = api.get(f"{SEARCH_URL}?_count=1", **claims_key(chain.insurer_a))
    bundle = Bundle.model_validate(json.loads(response.content))
    assert (bundle.type, len(bundle.entry)) == ("searchset", 1)
    assert [e.fullUrl for e in bundle.entry] == [
        f"http://testserver/fhir/Claim/{claims[0].claim_number}"
    ]
    assert [e.search.mode for e in bundle.entry] == ["match"]
    assert {link.relation for link in bundle.link} == {"self", "next"}
    read = json.loads(api.get(bundle.entry[0].fullUrl, **claims_key(chain.insurer_a)).content)
    assert json.loads(bundle.entry[0].resource.model_dump_json()) == read


def test_fhir_search_never_carries_clinical_data(api, chain, coach, poh_ggz, prestaties):
    routed_claims(chain, coach, medication=("nrt_patch", "varenicline"), poh_ggz=poh_ggz)
    _assert_no_clinical_data(_entries(api.get(SEARCH_URL, **claims_key(chain.insurer_a))))


def test_fhir_search_is_only_for_an_insurers_claims_key(api, chain, prestaties, planner):
    claim_row(chain, prestaties["programme"])
    assert api.get(SEARCH_URL).status_code == 401
    assert api.get(SEARCH_URL, **intake_key(chain.practice_a)).status_code == 403
    api.force_authenticate(planner)
    assert api.get(SEARCH_URL).status_code in (401, 403)
    api.force_authenticate(None)
    assert _entries(api.get(SEARCH_URL, **claims_key(chain.insurer_b))) == []


@pytest.mark.parametrize("cursor", ["garbage", "cD1hYmM=", "%00"])
def test_a_forged_fhir_cursor_is_an_operation_outcome_not_a_crash(api, chain, prestaties, cursor):
    claim_row(chain, prestaties["programme"])
    response = api.get(f"{SEARCH_URL}?_cursor={cursor}", **claims_key(chain.insurer_a))
    assert response.status_code == 404
    OperationOutcome.model_validate(json.loads(response.content))


def test_fhir_search_count_is_capped(api, chain, prestaties):
    claim_rows(chain, prestaties["programme"], 3)
    headers = claims_key(chain.insurer_a)
    assert len(_entries(api.get(f"{SEARCH_URL}?_count=1", **headers))) == 1
    assert len(_entries(api.get(f"{SEARCH_URL}?_count=100000", **headers))) == 3


@pytest.mark.parametrize("count", ["abc", "0", "-1", "null", "1.5", "٣"])
def test_a_fhir_search_count_that_is_no_page_size_is_an_operation_outcome(
    api, chain, prestaties, count
):
    claim_rows(chain, prestaties["programme"], 3)
    response = api.get(SEARCH_URL, {"_count": count}, **claims_key(chain.insurer_a))
    assert response.status_code == 400
    outcome = OperationOutcome.model_validate(json.loads(response.content))
    assert outcome.issue[0].expression == ["_count"]


def test_every_claim_of_a_fhir_search_page_is_audited(api, chain, prestaties):
    """One audit row for the page, naming every patient and every claim on it."""
    claims = claim_rows(chain, prestaties["programme"], 3)
    api.get(f"{SEARCH_URL}?_count=2", **claims_key(chain.insurer_a))
    [page] = AuditEvent.objects.filter(detail="FHIR Claim search")
    assert (page.channel, page.action, page.object_type) == ("fhir", "list", "billing.claim")
    assert page.object_ids == ",".join(str(c.pk) for c in claims[:2])
    assert sorted(page.patients.values_list("patient_id", flat=True)) == sorted(
        c.trajectory.patient_id for c in claims[:2]
    )
    assert page.patient_count == 2
    assert audit_verify_chain() == []


# -- constant cost at any depth ----------------------------------------------------------------------
def _page_queries() -> int:
    # the API key with its organisation; the page, each claim with its patient id; audit:
    # savepoint, [advisory lock on PostgreSQL], newest hash, the page's row and its patients (one
    # statement on PostgreSQL, two on SQLite), release
    return 1 + 1 + 5


@pytest.mark.parametrize(
    ("first_url", "next_of"),
    [
        (f"{LIST_URL}?page_size=3", lambda data: data["next"]),
        (f"{SEARCH_URL}?_count=3", _next),
    ],
    ids=["rest", "fhir"],
)
def test_an_early_and_a_late_page_run_the_same_queries(
    api, chain, prestaties, django_assert_num_queries, first_url, next_of
):
    claim_rows(chain, prestaties["programme"], 30)
    headers = claims_key(chain.insurer_a)
    url, pages = first_url, []
    while url:
        pages.append(url)
        url = next_of(json.loads(api.get(url, **headers).content))
    assert len(pages) == 10
    for url in (pages[1], pages[-1]):
        with django_assert_num_queries(_page_queries()):
            assert api.get(url, **headers).status_code == 200


# -- the audit rows of a page ---------------------------------------------------------------------
@time_machine.travel(datetime.datetime(2026, 5, 4, 10, 0, tzinfo=AMSTERDAM), tick=False)
def test_a_page_row_is_hashed_with_its_patients_and_chained_to_the_row_before(
    api, chain, prestaties
):
    claims = claim_rows(chain, prestaties["programme"], 5)
    headers = claims_key(chain.insurer_a)
    first = api.get(f"{LIST_URL}?page_size=3", **headers).json()
    api.get(first["next"], **headers)
    rows = list(AuditEvent.objects.filter(detail="api claim list").order_by("id"))
    assert [r.object_ids for r in rows] == [
        ",".join(str(c.pk) for c in claims[:3]),
        ",".join(str(c.pk) for c in claims[3:]),
    ]
    for row in rows:
        patients = sorted(row.patients.values_list("patient_id", flat=True))
        assert row.hash == row.compute_hash(patients)
        assert row.hash != row.compute_hash(patients[1:])  # the list is part of the hash
    if rows[0].chain == rows[1].chain:
        assert rows[1].prev_hash == rows[0].hash
    assert audit_verify_chain() == []


def test_chain_hashes_fall_back_when_a_value_looks_like_a_placeholder():
    constant = {
        "at": timezone.now(),
        "action": "list",
        "channel": "api",
        "user_id": None,
        "username": "",
        "api_key": "",
        "roles": "",
        "organisation": "\x00patient\x00",
        "object_type": "billing.claim",
        "detail": "x",
        "ip": None,
    }
    hashes = AuditEvent.chain_hashes(constant, [(1, "7"), (None, "8")], prev="0" * 64)
    first = AuditEvent(**constant, prev_hash="0" * 64, patient_id=1, object_id="7")
    second = AuditEvent(**constant, prev_hash=hashes[0], patient_id=None, object_id="8")
    assert hashes == [first.compute_hash(), second.compute_hash()]


# -- the page as one JSON array made by PostgreSQL --------------------------------------------------
def _numbers_of(response) -> list[str]:
    assert response.status_code == 200, response.content[:500]
    return [row["claim_number"] for row in response.json()["results"]]


def test_previous_pages_come_back_oldest_first_with_their_audit_rows(api, chain, prestaties):
    """A ``previous`` cursor fetches newest first; the page is still shown oldest first."""
    claims = claim_rows(chain, prestaties["programme"], 7)
    headers = claims_key(chain.insurer_a)
    numbers = [c.claim_number for c in claims]
    pages, url = [], f"{LIST_URL}?page_size=3"
    while url:
        response = api.get(url, **headers)
        pages.append(response.json())
        url = response.json()["next"]
    assert [[r["claim_number"] for r in p["results"]] for p in pages] == [
        numbers[:3],
        numbers[3:6],
        numbers[6:],
    ]
    before = AuditEvent.objects.count()
    back = api.get(pages[-1]["previous"], **headers)
    assert _numbers_of(back) == numbers[3:6]
    assert _numbers_of(api.get(back.json()["previous"], **headers)) == numbers[:3]
    listed = AuditEvent.objects.order_by("id")[before:]
    assert [e.object_ids for e in listed] == [
        ",".join(str(c.pk) for c in claims[3:6]),
        ",".join(str(c.pk) for c in claims[:3]),
    ]
    assert audit_verify_chain() == []


@pytest.mark.parametrize(
    ("url", "rows_of"),
    [
        (LIST_URL, lambda data: data["results"]),
        (SEARCH_URL, lambda data: data.get("entry", [])),
    ],
    ids=["rest", "fhir"],
)
def test_an_insurer_without_claims_gets_an_empty_page_and_no_audit_rows(
    api, chain, prestaties, url, rows_of
):
    claim_rows(chain, prestaties["programme"], 2, insurer=chain.insurer_b)
    response = api.get(url, **claims_key(chain.insurer_a))
    assert response.status_code == 200
    assert rows_of(json.loads(response.content)) == []
    assert not AuditEvent.objects.filter(
        detail__in=["api claim list", "FHIR Claim search"]
    ).exists()


@pytest.mark.parametrize(
    ("first_url", "rows_of", "next_of"),
    [
        (f"{LIST_URL}?page_size=5000", lambda data: data["results"], lambda data: data["next"]),
        (f"{SEARCH_URL}?_count=5000", lambda data: data.get("entry", []), _next),
    ],
    ids=["rest", "fhir"],
)
def test_a_page_of_5000_is_taken_and_runs_the_queries_of_any_page(
    api, chain, prestaties, django_assert_num_queries, first_url, rows_of, next_of
):
    claim_rows(chain, prestaties["programme"], 12)
    headers = claims_key(chain.insurer_a)
    with django_assert_num_queries(_page_queries()):
        response = api.get(first_url, **headers)
    data = json.loads(response.content)
    assert len(rows_of(data)) == 12 and next_of(data) is None
    [page] = AuditEvent.objects.filter(action="list")
    assert page.object_count == 12


def test_chain_hashes_equal_compute_hash_for_every_kind_of_value():
    constant = {
        "at": timezone.now(),
        "action": "list",
        "channel": "api",
        "user_id": 3,
        "username": "zilveren kruis",
        "api_key": "abc.def",
        "roles": "insurer",
        "organisation": "Zorgverzekeraar \u00e9\u00e9n",
        "object_type": "billing.claim",
        "detail": "api claim list",
        "ip": "127.0.0.1",
    }
    rows = [(1, "7"), (None, "SMR-1-x"), (2**40, "caf\u00e9"), (5, 'a"b\\c'), (0, "")]
    hashes = AuditEvent.chain_hashes(constant, rows, prev="")
    expected, prev = [], ""
    for patient_id, object_id in rows:
        prev = AuditEvent(
            **constant, prev_hash=prev, patient_id=patient_id, object_id=object_id
        ).compute_hash()
        expected.append(prev)
    assert hashes == expected


def test_a_claims_cursor_does_not_show_the_claims_database_id(api, chain, prestaties):
    """Issue 13: the REST and FHIR cursors' position is the id encrypted, not the id: an insurer
    cannot read the claim ids, nor count the claims sent to others between two of its pages."""
    from urllib.parse import parse_qs, urlsplit

    from carechain.api.pagination import decrypt_position, encrypt_position

    made = [claim_row(chain, prestaties["programme"]) for _ in range(3)]
    headers = claims_key(chain.insurer_a)
    rest = api.get(f"{LIST_URL}?page_size=1", **headers).json()
    fhir_page = api.get(f"{SEARCH_URL}?_count=1", **headers).json()
    fhir_next = next(link["url"] for link in fhir_page["link"] if link["relation"] == "next")

    for link, name in ((rest["next"], "cursor"), (fhir_next, "_cursor")):
        text = base64.b64decode(parse_qs(urlsplit(link).query)[name][0]).decode()
        position = int(parse_qs(text)["p"][0])
        assert position != made[0].pk and decrypt_position(position) == made[0].pk
    # No small id comes out as a small number (checked per value: isdisjoint(range(1, 10**9))
    # walked the whole range, 20 s of the suite).
    assert all(not 1 <= encrypt_position(n) < 10**9 for n in range(1, 1000))
    second = api.get(rest["next"], **headers).json()
    assert [row["claim_number"] for row in second["results"]] == [made[1].claim_number]
