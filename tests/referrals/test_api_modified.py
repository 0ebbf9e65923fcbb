"""The REST referral list's modified_after: what changed since a KIS's last poll, in constant cost."""

import datetime

import time_machine
from django.db import connection

from carechain.access import Actor
from carechain.models import OrganisationAPIKey
from referrals import services
from tests import factories
from tests.referrals.api_support import LIST_URL, intake_key, key_header, referral_of, referral_pks

START = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def _at(minutes: int):
    return time_machine.travel(START + datetime.timedelta(minutes=minutes), tick=False)


def test_modified_after_lists_only_referrals_changed_since(api, chain, coach):
    with _at(0):
        quiet = referral_of(chain.practice_a)
        accepted = referral_of(chain.practice_a)
    with _at(30):
        services.referral_accept(actor=Actor.for_user(coach), referral_id=accepted.pk)
    headers = intake_key(chain.practice_a)

    response = api.get(LIST_URL, {"modified_after": "2026-03-02T09:10:00Z"}, **headers)

    assert response.status_code == 200
    rows = response.json()["results"]
    assert referral_pks(rows) == [accepted.pk]
    assert rows[0]["modified"].startswith("2026-03-02T")
    assert quiet.pk not in referral_pks(rows)


def test_a_feedback_key_polls_the_rest_list_but_may_not_refer(api, chain):
    with _at(0):
        mine = referral_of(chain.practice_a)
        referral_of(chain.practice_b)
    key = factories.api_key(chain.practice_a, OrganisationAPIKey.Purpose.FEEDBACK)

    listed = api.get(LIST_URL, {"modified_after": "2026-03-01T00:00:00Z"}, **key_header(key))
    refer = api.post(LIST_URL, {}, format="json", **key_header(key))

    assert referral_pks(listed.json()["results"]) == [mine.pk]
    assert refer.status_code == 403


def test_a_malformed_modified_after_is_a_field_error(api, chain):
    response = api.get(LIST_URL, {"modified_after": "yesterday"}, **intake_key(chain.practice_a))

    assert response.status_code == 400
    assert "modified_after" in response.json()


def test_modified_after_pages_cost_constant_queries(api, chain, django_assert_num_queries):
    with _at(0):
        for _ in range(7):
            referral_of(chain.practice_a)
    headers = intake_key(chain.practice_a)
    query = {"modified_after": "2026-03-01T00:00:00Z", "page_size": 2}
    # the API key; the page of referrals; the audit rows: savepoint, (PostgreSQL only: chain
    # lock), last hash, one bulk insert, release savepoint
    expected = 2 + (5 if connection.vendor == "postgresql" else 4)
    with django_assert_num_queries(expected):
        first = api.get(LIST_URL, query, **headers).json()
    later = api.get(first["next"], **headers).json()
    with django_assert_num_queries(expected):
        last = api.get(later["next"], **headers).json()

    assert len(first["results"]) == len(last["results"]) == 2
