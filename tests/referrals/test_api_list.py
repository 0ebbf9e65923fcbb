"""The referral list over the API: who sees which referrals, filters, pages, query count, audit."""

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from audit.models import AuditEvent
from referrals.models import ReferralState
from tests.referrals.api_support import (
    LIST_URL,
    claims_key,
    intake_key,
    referral_of,
    referral_pks,
)


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.data
    return set(referral_pks(response.data["results"]))


def test_poh_of_practice_a_sees_practice_a_referrals_never_practice_b(api, chain, poh):
    mine = {referral_of(chain.practice_a).pk for _ in range(2)}
    referral_of(chain.practice_b)
    api.force_login(poh)
    assert _ids(api.get(LIST_URL)) == mine


def test_poh_of_practice_b_does_not_see_practice_a_referrals(api, chain, other_poh):
    referral_of(chain.practice_a)
    api.force_login(other_poh)
    assert _ids(api.get(LIST_URL)) == set()


def test_practice_key_sees_only_its_practice_referrals(api, chain):
    mine = referral_of(chain.practice_a)
    referral_of(chain.practice_b)
    assert _ids(api.get(LIST_URL, **intake_key(chain.practice_a))) == {mine.pk}


def test_zorggroep_key_sees_its_practices_not_other_zorggroepen(api, chain):
    a = referral_of(chain.practice_a)
    b = referral_of(chain.practice_b)
    referral_of(chain.practice_other_zorggroep, provider=chain.provider)
    assert _ids(api.get(LIST_URL, **intake_key(chain.zorggroep))) == {a.pk, b.pk}


def test_coach_sees_the_referrals_to_their_provider(api, chain, coach):
    a = referral_of(chain.practice_a)
    b = referral_of(chain.practice_b)
    referral_of(chain.practice_a, provider=chain.other_provider)
    api.force_login(coach)
    assert _ids(api.get(LIST_URL)) == {a.pk, b.pk}


def test_coach_of_another_provider_sees_none(api, chain, other_coach):
    referral_of(chain.practice_a)
    api.force_login(other_coach)
    assert _ids(api.get(LIST_URL)) == set()


@pytest.mark.parametrize("persona", ["insurer_user", "zorggroep_admin"])
def test_insurers_and_zorggroep_admins_get_403_on_the_referral_list(api, chain, persona, request):
    referral_of(chain.practice_a)
    api.force_login(request.getfixturevalue(persona))
    assert api.get(LIST_URL).status_code == 403


def test_claims_key_gets_403_on_the_referral_list(api, chain):
    referral_of(chain.practice_a)
    assert api.get(LIST_URL, **claims_key(chain.insurer_a)).status_code == 403


def test_anonymous_caller_must_authenticate(api, db):
    assert api.get(LIST_URL).status_code == 401


def test_each_listed_referral_writes_a_list_audit_row_for_its_patient(api, chain, coach):
    referrals = [referral_of(chain.practice_a) for _ in range(3)]
    api.force_login(coach)
    api.get(LIST_URL)
    rows = AuditEvent.objects.filter(action=AuditEvent.Action.LIST)
    assert sorted((r.patient_id, r.object_id) for r in rows) == sorted(
        (r.patient_id, str(r.pk)) for r in referrals
    )
    assert {r.username for r in rows} == {coach.username}


def test_filter_by_state(api, chain, coach):
    received = referral_of(chain.practice_a)
    accepted = referral_of(chain.practice_a, state=ReferralState.ACCEPTED)
    declined = referral_of(chain.practice_a, state=ReferralState.DECLINED)
    api.force_login(coach)
    assert _ids(api.get(LIST_URL, {"state": "received"})) == {received.pk}
    assert _ids(api.get(LIST_URL, {"state": ["accepted", "declined"]})) == {
        accepted.pk,
        declined.pk,
    }
    assert api.get(LIST_URL, {"state": "sleeping"}).status_code == 400


def test_filter_by_channel_and_ketenzorg(api, chain, coach):
    web = referral_of(chain.practice_a)
    kis = referral_of(chain.practice_a, channel="kis", is_ketenzorg=True, external_id="K1")
    api.force_login(coach)
    assert _ids(api.get(LIST_URL, {"channel": "kis"})) == {kis.pk}
    assert _ids(api.get(LIST_URL, {"is_ketenzorg": "true"})) == {kis.pk}
    assert _ids(api.get(LIST_URL, {"is_ketenzorg": "false"})) == {web.pk}


def test_filter_by_received_period(api, chain, coach):
    now = timezone.now()
    old = referral_of(chain.practice_a, received_at=now - datetime.timedelta(days=40))
    recent = referral_of(chain.practice_a, received_at=now - datetime.timedelta(days=2))
    cutoff = (now - datetime.timedelta(days=10)).isoformat()
    api.force_login(coach)
    assert _ids(api.get(LIST_URL, {"received_after": cutoff})) == {recent.pk}
    assert _ids(api.get(LIST_URL, {"received_before": cutoff})) == {old.pk}
    day = (now - datetime.timedelta(days=40)).date().isoformat()
    assert _ids(api.get(LIST_URL, {"received_after": day, "received_before": cutoff})) == {old.pk}


def test_filter_by_patient_bsn(api, chain, coach):
    wanted = referral_of(chain.practice_a)
    referral_of(chain.practice_a)
    bsn = wanted.patient.bsn
    api.force_login(coach)
    assert _ids(api.get(LIST_URL, {"patient_bsn": bsn})) == {wanted.pk}
    assert _ids(api.get(LIST_URL, {"patient_bsn": f"{bsn[:4]}.{bsn[4:]}"})) == {wanted.pk}


def test_bsn_filter_does_not_reach_outside_the_callers_scope(api, chain, other_poh):
    hidden = referral_of(chain.practice_a)
    api.force_login(other_poh)
    assert _ids(api.get(LIST_URL, {"patient_bsn": hidden.patient.bsn})) == set()


def test_list_rows_identify_patient_and_status(api, chain, coach):
    referral = referral_of(chain.practice_a)
    api.force_login(coach)
    row = api.get(LIST_URL).json()["results"][0]
    assert row["patient"] == {
        "id": str(referral.patient.public_id),
        "bsn": referral.patient.bsn,
        "full_name": referral.patient.full_name,
        "birth_date": "1970-05-17",
    }
    assert (row["state"], row["bser_status_code"], row["bser_status_display"]) == (
        "received",
        "2.0",
        "Referral Created",
    )
    assert row["pack_years"] == 30.0
    assert row["practice"]["agb"] == chain.practice_a.agb
    assert row["provider"]["agb"] == chain.provider.agb


def test_cursor_pages_walk_all_referrals_once_newest_first(api, chain, coach):
    made = [referral_of(chain.practice_a).pk for _ in range(5)]
    api.force_login(coach)
    seen = []
    url = f"{LIST_URL}?page_size=2"
    while url:
        page = api.get(url).json()
        seen.extend(referral_pks(page["results"]))
        url = page["next"]
    assert seen == sorted(made, reverse=True)


def _expected_list_queries(authentication: list[str]) -> int:
    # authentication queries, then: the page of referrals (patient, practice, provider and coach
    # joined), then the audit rows: savepoint, (PostgreSQL only: chain lock), last hash,
    # one bulk insert, release savepoint
    audit = 5 if connection.vendor == "postgresql" else 4
    return len(authentication) + 1 + audit


def test_referral_list_runs_constant_queries_for_an_api_key(
    api, chain, coach, django_assert_num_queries
):
    headers = intake_key(chain.practice_a)
    for _ in range(2):
        referral_of(chain.practice_a, coach=coach)
    expected = _expected_list_queries(["api key with its organisation"])
    with django_assert_num_queries(expected):
        assert len(api.get(LIST_URL, **headers).data["results"]) == 2
    for _ in range(12):
        referral_of(chain.practice_a, coach=coach)
    with django_assert_num_queries(expected):
        assert len(api.get(LIST_URL, **headers).data["results"]) == 14


def test_referral_list_runs_constant_queries_for_a_coach(
    api, chain, coach, django_assert_num_queries
):
    api.force_login(coach)
    for _ in range(2):
        referral_of(chain.practice_a, coach=coach)
    # SESSION_SAVE_EVERY_REQUEST: the session is saved (savepoint, update, release) on every request
    session = [
        "session",
        "user",
        "otp device",
        "memberships",
        "savepoint",
        "session update",
        "release",
    ]
    expected = _expected_list_queries(session)
    with django_assert_num_queries(expected):
        assert len(api.get(LIST_URL).data["results"]) == 2
    for _ in range(12):
        referral_of(chain.practice_b, coach=coach)
    with django_assert_num_queries(expected):
        assert len(api.get(LIST_URL).data["results"]) == 14
