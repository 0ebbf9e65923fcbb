"""A KIS polls what changed since its last call: _lastUpdated, keyset pages of constant cost."""

import datetime
from urllib.parse import urlsplit

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from carechain.access import Actor
from pathways import services as pathway_services
from referrals import services
from tests import factories

from .fhir_samples import auth, outcome_issue

START = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture
def key_a(chain):
    return factories.api_key(chain.practice_a)


def referrals_of(practice, n: int) -> list:
    """n referrals, each changed one minute after the previous one."""
    made = []
    for i in range(n):
        with time_machine.travel(START + datetime.timedelta(minutes=i), tick=False):
            made.append(
                factories.ReferralFactory(patient=factories.PatientFactory(practice=practice))
            )
    return made


def poll(api, key, query: str):
    return api.get(f"/fhir/Task?{query}", **auth(key))


def ids(response) -> list[str]:
    return [e["resource"]["id"] for e in response.json().get("entry", [])]


def next_link(response) -> str | None:
    links = {link["relation"]: link["url"] for link in response.json()["link"]}
    if "next" not in links:
        return None
    parts = urlsplit(links["next"])
    return f"{parts.path}?{parts.query}"


def test_polling_returns_only_what_changed_since_the_last_seen_moment(api, chain, coach, key_a):
    old, changed, untouched = referrals_of(chain.practice_a, 3)
    first = poll(api, key_a, "_lastUpdated=ge2026-03-02")
    last_seen = first.json()["entry"][-1]["resource"]["meta"]["lastUpdated"]

    with time_machine.travel(START + datetime.timedelta(hours=1), tick=False):
        services.referral_accept(actor=Actor.for_user(coach), referral_id=changed.pk)
    second = api.get("/fhir/Task", {"_lastUpdated": f"gt{last_seen}"}, **auth(key_a))

    assert ids(first) == [str(r.public_id) for r in (old, changed, untouched)]
    assert ids(second) == [str(changed.public_id)]


def test_new_feedback_makes_the_task_show_up_in_the_next_poll(api, chain, coach, key_a):
    with time_machine.travel(START, tick=False):
        trajectory = factories.trajectory_in(
            "counselling", coach=coach, referral__patient__practice=chain.practice_a
        )
    with time_machine.travel(START + datetime.timedelta(days=1), tick=False):
        pathway_services.trajectory_end_treatment(
            actor=Actor.for_user(coach),
            trajectory_id=trajectory.pk,
            end_date=timezone.localdate(),
            result="smoke_free",
        )

    response = poll(api, key_a, "_lastUpdated=gt2026-03-02T12:00:00%2B00:00")

    (entry,) = response.json()["entry"]
    assert entry["resource"]["id"] == str(trajectory.referral.public_id)
    outputs = [o["type"]["coding"][0]["code"] for o in entry["resource"]["output"]]
    assert "end_of_treatment" in outputs


def test_pages_follow_the_next_link_without_gaps_or_repeats(api, chain, key_a):
    made = referrals_of(chain.practice_a, 7)
    seen, url = [], "/fhir/Task?_lastUpdated=ge2026-03-01&_count=3"
    while url:
        response = api.get(url, **auth(key_a))
        assert response.status_code == 200
        seen += ids(response)
        url = next_link(response)

    assert seen == [str(r.public_id) for r in made]


def test_an_early_and_a_late_page_cost_the_same_queries(
    api, chain, key_a, django_assert_num_queries
):
    referrals_of(chain.practice_a, 9)
    first = poll(api, key_a, "_lastUpdated=ge2026-03-01&_count=2")
    url = next_link(first)
    for _ in range(2):
        url = next_link(api.get(url, **auth(key_a)))

    # the API key with its organisation; the page of referrals (practice, provider and patient
    # joined); their feedback letters; the audit rows: savepoint, (PostgreSQL only: chain lock),
    # last hash, one bulk insert, release savepoint
    expected = 3 + (5 if connection.vendor == "postgresql" else 4)
    with django_assert_num_queries(expected) as early:
        poll(api, key_a, "_lastUpdated=ge2026-03-01&_count=2")
    with django_assert_num_queries(expected) as late:
        late_page = api.get(url, **auth(key_a))

    assert len(early.captured_queries) == len(late.captured_queries)
    assert len(ids(late_page)) == 2


@pytest.mark.parametrize(
    "query, expected",
    [
        ("_lastUpdated=2026", ["march", "april"]),
        ("_lastUpdated=2026-03", ["march"]),
        ("_lastUpdated=gt2025", ["march", "april"]),
        ("_lastUpdated=ge2026-04", ["april"]),
        ("_lastUpdated=lt2026-03", ["december"]),
        ("_lastUpdated=le2026-03", ["december", "march"]),
        ("_lastUpdated=gt2026-03", ["april"]),
    ],
)
def test_a_year_or_a_month_is_the_whole_year_or_month(api, chain, key_a, query, expected):
    made = {}
    for name, moment in [
        ("december", datetime.datetime(2025, 12, 31, 12, 0, tzinfo=datetime.UTC)),
        ("march", START),
        ("april", datetime.datetime(2026, 4, 1, 9, 0, tzinfo=datetime.UTC)),
    ]:
        with time_machine.travel(moment, tick=False):
            patient = factories.PatientFactory(practice=chain.practice_a)
            made[name] = factories.ReferralFactory(patient=patient)

    response = poll(api, key_a, query)

    assert response.status_code == 200
    assert ids(response) == [str(made[name].public_id) for name in expected]


def test_polling_never_shows_another_practices_referrals(api, chain, key_a):
    referrals_of(chain.practice_b, 2)

    response = poll(api, key_a, "_lastUpdated=ge2026-03-01")

    assert response.status_code == 200
    assert ids(response) == []


@pytest.mark.parametrize(
    "query, expression",
    [
        ("_lastUpdated=gtyesterday", "Task?_lastUpdated"),
        ("_lastUpdated=gt2026-13-45", "Task?_lastUpdated"),
        ("_lastUpdated=xx2026-01-01", "Task?_lastUpdated"),
        ("_lastUpdated=2026-13", "Task?_lastUpdated"),
        ("_lastUpdated=gt20261", "Task?_lastUpdated"),
        ("_lastUpdated=gt０２０２６", "Task?_lastUpdated"),
        ("_lastUpdated=ge2026-01-01&_count=0", "Task?_count"),
        ("_lastUpdated=ge2026-01-01&_count=lots", "Task?_count"),
        ("_lastUpdated=ge2026-01-01&_page=forged", "Task?_page"),
        ("_lastUpdated=ge2026-01-01&subject=Patient/1", "Task?subject"),
    ],
)
def test_bad_polling_input_is_a_precise_operation_outcome(api, key_a, query, expression):
    response = poll(api, key_a, query)

    assert response.status_code == 400
    issue = outcome_issue(response)
    assert issue["expression"] == [expression]
    assert issue["code"] in {"value", "not-supported"}


def test_a_page_link_cannot_be_edited_to_start_elsewhere(api, chain, key_a):
    referrals_of(chain.practice_a, 3)
    url = next_link(poll(api, key_a, "_lastUpdated=ge2026-03-01&_count=1"))
    tampered = url.replace("_page=", "_page=x")

    response = api.get(tampered, **auth(key_a))

    assert response.status_code == 400
    assert outcome_issue(response)["expression"] == ["Task?_page"]
