"""Insurers answer claims in bulk (all or nothing, idempotent); the provider corrects a rejection."""

import datetime
import functools
from decimal import Decimal

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from billing import claims as claim_services
from billing.models import Claim
from carechain.access import Actor
from carechain.models import OrganisationAPIKey, Role
from tests import factories
from tests.billing.claims_support import (
    ANSWERS_URL,
    LIST_URL,
    claim_row,
    claim_rows,
    claims_key,
    detail_url,
    intake_key,
    resubmit_url,
    routed_claims,
)
from tests.concurrency import at_once


def _accept(claim) -> dict:
    return {"claim_number": claim.claim_number, "outcome": "accepted"}


def _reject(claim, code="8001", text="") -> dict:
    return {
        "claim_number": claim.claim_number,
        "outcome": "rejected",
        "reason_code": code,
        "reason_text": text,
    }


def _answer(api, headers, *answers):
    return api.post(ANSWERS_URL, {"answers": list(answers)}, format="json", **headers)


def _snapshot():
    return list(
        Claim.objects.order_by("pk").values_list(
            "status", "rejection_code", "rejection_text", "answered_at", "updated_at"
        )
    )


@pytest.fixture
def headers(chain):
    return claims_key(chain.insurer_a)


# -- answering ----------------------------------------------------------------------------------
def test_insurer_accepts_one_claim_and_rejects_another(api, chain, coach, prestaties, headers):
    programme, nrt = routed_claims(chain, coach)
    before = timezone.now()
    response = _answer(api, headers, _accept(programme), _reject(nrt, text="Geen dekking"))
    assert response.status_code == 200, response.data
    assert [(r["claim_number"], r["status"], r["changed"]) for r in response.data["results"]] == [
        (programme.claim_number, "accepted", True),
        (nrt.claim_number, "rejected", True),
    ]
    programme.refresh_from_db()
    nrt.refresh_from_db()
    assert programme.status == "accepted" and programme.answered_at >= before
    assert programme.updated_at == programme.answered_at
    assert (nrt.status, nrt.rejection_code, nrt.rejection_text) == (
        "rejected",
        "8001",
        "Geen dekking",
    )


def test_rejection_text_defaults_to_the_reason_description(api, chain, prestaties, headers):
    claim = claim_row(chain, prestaties["programme"])
    assert _answer(api, headers, _reject(claim, code="8002")).status_code == 200
    claim.refresh_from_db()
    assert claim.rejection_text == "Reden 8002"


def test_the_same_answers_twice_change_nothing_the_second_time(api, chain, prestaties, headers):
    accepted, rejected = claim_rows(chain, prestaties["programme"], 2)
    answers = (_accept(accepted), _reject(rejected))
    assert _answer(api, headers, *answers).status_code == 200
    first = _snapshot()
    again = _answer(api, headers, *answers)
    assert again.status_code == 200
    assert [r["changed"] for r in again.data["results"]] == [False, False]
    assert _snapshot() == first


def test_accepted_then_rejected_is_a_409_naming_the_claim_and_nothing_changes(
    api, chain, prestaties, headers
):
    answered, fresh = claim_rows(chain, prestaties["programme"], 2)
    _answer(api, headers, _accept(answered))
    before = _snapshot()
    response = _answer(api, headers, _accept(fresh), _reject(answered))
    assert response.status_code == 409
    assert response.data["claim_numbers"] == [answered.claim_number]
    assert answered.claim_number in response.data["detail"]
    assert _snapshot() == before  # the fresh claim's acceptance was not applied either


def test_a_different_rejection_code_is_a_conflict(api, chain, prestaties, headers):
    claim = claim_row(chain, prestaties["programme"])
    _answer(api, headers, _reject(claim, code="8001"))
    response = _answer(api, headers, _reject(claim, code="8003"))
    assert response.status_code == 409
    assert response.data["claim_numbers"] == [claim.claim_number]


def test_an_unknown_claim_number_is_a_400_naming_it(api, chain, prestaties, headers):
    claim = claim_row(chain, prestaties["programme"])
    before = _snapshot()
    response = _answer(
        api,
        headers,
        _accept(claim),
        {"claim_number": "SMR-99999999-SMR01-1", "outcome": "accepted"},
    )
    assert response.status_code == 400
    assert response.data["answers"][0] == {}
    assert "SMR-99999999-SMR01-1" in str(response.data["answers"][1]["claim_number"])
    assert _snapshot() == before


def test_another_insurers_claim_is_unknown_to_you(api, chain, prestaties, headers):
    theirs = claim_row(chain, prestaties["programme"], insurer=chain.insurer_b)
    response = _answer(api, headers, _accept(theirs))
    assert response.status_code == 400
    assert theirs.claim_number in str(response.data["answers"][0]["claim_number"])
    theirs.refresh_from_db()
    assert theirs.status == "submitted"


@pytest.mark.parametrize(
    ("answer", "field"),
    [
        ({"outcome": "rejected", "reason_code": "9999"}, "reason_code"),
        ({"outcome": "rejected"}, "reason_code"),
        ({"outcome": "rejected", "reason_code": ""}, "reason_code"),
        ({"outcome": "accepted", "reason_code": "8001"}, "reason_code"),
        ({"outcome": "maybe"}, "outcome"),
    ],
)
def test_bad_or_missing_reason_code_is_a_400(api, chain, prestaties, headers, answer, field):
    claim = claim_row(chain, prestaties["programme"])
    response = _answer(api, headers, {"claim_number": claim.claim_number, **answer})
    assert response.status_code == 400
    assert field in response.data["answers"][0]
    claim.refresh_from_db()
    assert claim.status == "submitted"


def test_one_claim_twice_in_one_request_is_a_400(api, chain, prestaties, headers):
    claim = claim_row(chain, prestaties["programme"])
    response = _answer(api, headers, _accept(claim), _reject(claim))
    assert response.status_code == 400
    assert "claim_number" in response.data["answers"][1]


@pytest.mark.parametrize("body", [{}, {"answers": []}, {"answers": "all"}, [1, 2]])
def test_a_malformed_body_is_a_400(api, chain, prestaties, headers, body):
    assert api.post(ANSWERS_URL, body, format="json", **headers).status_code == 400


def test_more_than_500_answers_is_a_400(api, chain, prestaties, headers):
    answers = [{"claim_number": f"SMR-{n:08d}-SMR01-1", "outcome": "accepted"} for n in range(501)]
    response = api.post(ANSWERS_URL, {"answers": answers}, format="json", **headers)
    assert response.status_code == 400
    assert "answers" in response.data


def test_answering_is_audited(api, chain, coach, prestaties, headers):
    claim = routed_claims(chain, coach)[0]
    _answer(api, headers, _accept(claim))
    event = AuditEvent.objects.get(action="change", object_type="billing.claim")
    assert (event.patient_id, event.channel) == (claim.trajectory.patient_id, "api")


def test_only_an_insurers_claims_key_may_answer(api, chain, prestaties, planner):
    claim = claim_row(chain, prestaties["programme"])
    assert _answer(api, intake_key(chain.practice_a), _accept(claim)).status_code == 403
    api.force_login(planner)
    assert _answer(api, {}, _accept(claim)).status_code == 403
    claim.refresh_from_db()
    assert claim.status == "submitted"


def test_a_large_batch_is_answered_in_constant_queries(
    api, chain, prestaties, headers, django_assert_max_num_queries
):
    claims = claim_rows(chain, prestaties["programme"], 40)
    # key, organisation, savepoint, reasons, locked claims, bulk update, audit (4-5), release
    with django_assert_max_num_queries(14):
        response = _answer(api, headers, *[_reject(c) for c in claims])
    assert response.status_code == 200
    assert Claim.objects.filter(status="rejected").count() == 40


# -- correcting a rejection ---------------------------------------------------------------------
def _rejected_claim(api, chain, coach, headers):
    claim = routed_claims(chain, coach)[0]
    _answer(api, headers, _reject(claim, code="8001", text="Polisnummer onbekend"))
    claim.refresh_from_db()
    return claim


def test_planner_corrects_a_rejected_claim_and_the_insurer_sees_both_versions(
    api, chain, coach, planner, prestaties, headers
):
    rejected = _rejected_claim(api, chain, coach, headers)
    pulled_at = timezone.now()
    api.force_login(planner)
    response = api.post(
        resubmit_url(rejected), {"policy_number": "POL-777", "amount": "250.00"}, format="json"
    )
    assert response.status_code == 201, response.data
    new = response.data
    assert new["version"] == 2 and new["claim_number"] != rejected.claim_number
    assert new["claim_number"] == rejected.claim_number[:-1] + "2"
    assert (new["policy_number"], new["amount"], new["status"]) == (
        "POL-777",
        "250.00",
        "submitted",
    )
    assert (new["bsn"], new["prestatie_code"]) == (rejected.bsn, rejected.prestatie_code)
    assert new["replaces"] == rejected.claim_number and new["rejection_code"] == ""

    api.logout()
    changed = api.get(LIST_URL, {"changed_since": pulled_at.isoformat()}, **headers).json()
    by_number = {row["claim_number"]: row for row in changed["results"]}
    assert set(by_number) == {rejected.claim_number, new["claim_number"]}
    assert by_number[rejected.claim_number]["status"] == "superseded"
    assert by_number[rejected.claim_number]["replaced_by"] == new["claim_number"]

    superseded = Claim.objects.get(pk=rejected.pk)
    assert _answer(api, headers, _accept(superseded)).status_code == 409
    corrected = Claim.objects.get(claim_number=new["claim_number"])
    assert _answer(api, headers, _accept(corrected)).status_code == 200
    audit = AuditEvent.objects.filter(action="change", user_id=planner.pk).get()
    assert audit.patient_id == rejected.trajectory.patient_id


def test_only_a_rejected_claim_can_be_resubmitted(api, chain, planner, prestaties, headers):
    claim = claim_row(chain, prestaties["programme"])
    api.force_login(planner)
    response = api.post(resubmit_url(claim), {"policy_number": "X"}, format="json")
    assert response.status_code == 409
    assert response.data["claim_numbers"] == [claim.claim_number]
    assert Claim.objects.count() == 1


def test_a_superseded_claim_cannot_be_resubmitted_again(
    api, chain, coach, planner, prestaties, headers
):
    rejected = _rejected_claim(api, chain, coach, headers)
    api.force_login(planner)
    assert api.post(resubmit_url(rejected), {}, format="json").status_code == 201
    assert api.post(resubmit_url(rejected), {}, format="json").status_code == 409
    assert Claim.objects.filter(prestatie_code=rejected.prestatie_code).count() == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"bsn": "123456789"}, "bsn"),
        ({"amount": "-1.00"}, "amount"),
        ({"performer_agb": "123"}, "performer_agb"),
        ({"end_date": "2020-01-01"}, "end_date"),
        ({"policy_number": ""}, "policy_number"),
    ],
)
def test_a_bad_correction_is_a_400(api, chain, coach, planner, prestaties, headers, body, field):
    rejected = _rejected_claim(api, chain, coach, headers)
    api.force_login(planner)
    response = api.post(resubmit_url(rejected), body, format="json")
    assert response.status_code == 400
    assert field in response.data
    assert Claim.objects.get(pk=rejected.pk).status == "rejected"


@pytest.mark.parametrize("persona", ["coach", "poh", "zorggroep_admin", "insurer_user"])
def test_only_the_providers_planner_may_resubmit(
    api, chain, coach, prestaties, headers, persona, request
):
    rejected = _rejected_claim(api, chain, coach, headers)
    api.force_login(request.getfixturevalue(persona))
    assert api.post(resubmit_url(rejected), {}, format="json").status_code == 403


def test_a_planner_of_another_provider_gets_404(api, chain, coach, prestaties, headers):
    rejected = _rejected_claim(api, chain, coach, headers)
    api.force_login(factories.member(Role.PLANNER, chain.other_provider))
    assert api.post(resubmit_url(rejected), {}, format="json").status_code == 404


def test_an_insurer_key_cannot_resubmit(api, chain, coach, prestaties, headers):
    rejected = _rejected_claim(api, chain, coach, headers)
    assert api.post(resubmit_url(rejected), {}, format="json", **headers).status_code == 403
    assert api.get(detail_url(rejected), **headers).data["status"] == "rejected"


def test_the_service_refuses_someone_who_is_not_the_providers_planner(chain, coach, prestaties):
    from django.core.exceptions import PermissionDenied

    claim = claim_row(chain, prestaties["programme"], status="rejected", rejection_code="8001")
    with pytest.raises(PermissionDenied):
        claim_services.claim_resubmit(
            actor=Actor.for_user(coach), claim_id=claim.pk, amount=Decimal("1.00")
        )


# -- at the same moment -------------------------------------------------------------------------
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_conflicting_batches_at_once_one_wins_the_other_conflicts(
    postgresql_only, chain, prestaties
):
    claims = claim_rows(chain, prestaties["programme"], 20)
    key, _secret = OrganisationAPIKey.objects.create_key(
        name="batch", organisation=chain.insurer_a, purpose=OrganisationAPIKey.Purpose.CLAIMS
    )
    actor = Actor.for_api_key(key, channel="api", ip=None)
    batches = [
        [claim_services.ClaimAnswer(c.claim_number, "accepted") for c in claims],
        [claim_services.ClaimAnswer(c.claim_number, "rejected", "8001") for c in reversed(claims)],
    ]

    def run(answers):
        try:
            claim_services.claim_answer_many(actor=actor, answers=answers)
            return "applied"
        except claim_services.ClaimConflict as exc:
            return len(exc.claim_numbers)

    outcomes = at_once([functools.partial(run, batch) for batch in batches], timeout=30)
    assert sorted(outcomes, key=str) == sorted(["applied", 20], key=str)
    assert len(set(Claim.objects.values_list("status", flat=True))) == 1


def test_answered_at_is_kept_when_the_answer_repeats(api, chain, prestaties, headers):
    claim = claim_row(chain, prestaties["programme"])
    _answer(api, headers, _accept(claim))
    claim.refresh_from_db()
    first = claim.answered_at
    Claim.objects.filter(pk=claim.pk).update(updated_at=first - datetime.timedelta(days=1))
    _answer(api, headers, _accept(claim))
    claim.refresh_from_db()
    assert claim.answered_at == first


def test_claim_numbers_reveal_no_database_ids_and_corrections_keep_the_series(
    api, chain, coach, planner, prestaties, headers
):
    first, second = routed_claims(chain, coach)[0], routed_claims(chain, coach)[0]
    rejected = _rejected_claim(api, chain, coach, headers)
    api.force_login(planner)
    corrected = api.post(resubmit_url(rejected), {"policy_number": "POL-1"}, format="json").data

    for claim in (first, second, rejected):
        series = claim.claim_number.split("-")[1]
        assert series == claim.trajectory.referral.public_id.hex[:12].upper()
        assert f"{claim.trajectory_id:08d}" not in claim.claim_number
    assert first.claim_number.split("-")[1] != second.claim_number.split("-")[1]
    assert corrected["claim_number"].rsplit("-", 1)[0] == rejected.claim_number.rsplit("-", 1)[0]
