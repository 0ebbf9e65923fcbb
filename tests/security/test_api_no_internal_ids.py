"""Issue 13: no identifier the REST API sends outside is an internal database id.

A practice's API key walks every REST response it can get (lists page by page, every detail,
a new referral, a referral action) and no field named ``id`` or ending in ``_id`` holds an integer.
"""

import uuid

import pytest

from carechain.access import Actor
from referrals import services
from referrals.models import ReferralDocument
from tests import factories
from tests.referrals.api_support import intake_key, referral_body, referral_of


def _integer_ids(value, path="$") -> list[str]:
    """The paths of fields named id or *_id that hold an integer, anywhere in a JSON document."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}"
            if (key == "id" or key.endswith("_id")) and isinstance(item, int):
                found.append(here)
            found += _integer_ids(item, here)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _integer_ids(item, f"{path}[{index}]")
    return found


def _walk_list(api, url, headers) -> list[dict]:
    """Every page of a list (one row a page, so the cursor links are walked too)."""
    bodies, url = [], f"{url}?page_size=1"
    while url:
        response = api.get(url, **headers)
        assert response.status_code == 200, response.content
        bodies.append(response.json())
        url = response.json()["next"]
    return bodies


@pytest.fixture
def busy_referral(chain, coach):
    """A referral of practice A with everything a detail shows: coach, attempt, document."""
    referral = referral_of(chain.practice_a)
    actor = Actor.for_user(coach)
    services.referral_accept(actor=actor, referral_id=referral.pk)
    services.referral_record_attempt(
        actor=actor, referral_id=referral.pk, method="phone", result="no_answer", note="x"
    )
    ReferralDocument.objects.create(
        referral=referral,
        kind=ReferralDocument.Kind.REFERRAL_LETTER,
        source_id="bundle-ids",
        title="Verwijsbrief",
        payload={"resourceType": "Bundle"},
    )
    return referral


def test_no_rest_response_for_a_practice_key_holds_an_integer_id(api, chain, busy_referral):
    referral_of(chain.practice_a)
    factories.PatientFactory(practice=chain.practice_a)
    headers = intake_key(chain.practice_a)
    bodies = []

    for list_url in ("/api/referrals/", "/api/patients/"):
        pages = _walk_list(api, list_url, headers)
        bodies += pages
        for row in (row for page in pages for row in page["results"]):
            detail = api.get(f"{list_url}{row['id']}/", **headers)
            assert detail.status_code == 200, detail.content
            bodies.append(detail.json())
    created = api.post("/api/referrals/", referral_body(chain.practice_a), format="json", **headers)
    assert created.status_code == 201, created.content
    cancelled = api.post(
        f"/api/referrals/{busy_referral.public_id}/request-cancellation/",
        {"reason": "verhuisd"},
        format="json",
        **headers,
    )
    assert cancelled.status_code == 200, cancelled.content
    bodies += [created.json(), cancelled.json()]

    # The walk did reach the nested rows this test is about.
    detail = next(b for b in bodies if b.get("id") == str(busy_referral.public_id))
    assert detail["coach"] and detail["contact_attempts"] and detail["documents"]
    assert len([b for b in bodies if "results" in b]) >= 5  # three referral, two patient pages
    assert [path for body in bodies for path in _integer_ids(body)] == []
    for body in bodies:
        for row in body.get("results", [body]):
            uuid.UUID(row["id"])  # every id is a UUID
            if "patient" in row:
                uuid.UUID(row["patient"]["id"])


def test_the_id_checker_finds_integer_ids(api):
    assert _integer_ids({"id": 3, "a": [{"coach_id": 4, "b_id": "x"}]}) == [
        "$.id",
        "$.a[0].coach_id",
    ]


@pytest.mark.parametrize("kind", ["referrals", "patients"])
def test_a_database_id_an_unknown_uuid_and_another_practices_record_are_404s(api, chain, kind):
    theirs = referral_of(chain.practice_b)
    record = theirs if kind == "referrals" else theirs.patient
    headers = intake_key(chain.practice_a)

    answers = [
        api.get(f"/api/{kind}/{value}/", **headers)
        for value in (record.pk, uuid.uuid4(), record.public_id, "not-a-uuid")
    ]

    assert [a.status_code for a in answers] == [404, 404, 404, 404]
    # An unknown UUID and another practice's record answer alike: existence is not revealed.
    assert answers[1].content == answers[2].content
