"""Issue 13: no identifier the REST API sends outside is an internal database id.

A practice's API key walks every REST response it can get (lists page by page, every detail,
a new referral, a referral action) and no field named ``id`` or ending in ``_id`` holds an integer.
"""

import base64
import json
import uuid

import pytest

from carechain.access import Actor
from referrals import services
from referrals.models import Referral, ReferralDocument
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


# -- the cursors: what a next or previous link carries ---------------------------------------------


def _cursor_of(link: str, name: str = "cursor") -> str:
    from urllib.parse import parse_qs, urlsplit

    return parse_qs(urlsplit(link).query)[name][0]


def test_a_referral_list_cursor_holds_a_moment_and_a_public_id_never_a_database_id(api, chain):
    referrals = [referral_of(chain.practice_a) for _ in range(3)]
    headers = intake_key(chain.practice_a)

    first = api.get("/api/referrals/?page_size=1", **headers).json()
    position = json.loads(base64.b64decode(_cursor_of(first["next"])))

    newest = max(referrals, key=lambda r: (r.received_at, str(r.public_id)))
    assert position == {"r": 0, "p": [newest.received_at.isoformat(), str(newest.public_id)]}


def test_referral_pages_walk_forward_and_back_each_referral_once(api, chain):
    made = [referral_of(chain.practice_a) for _ in range(5)]
    same_moment = made[0].received_at
    Referral.objects.filter(pk__in=[r.pk for r in made[:3]]).update(received_at=same_moment)
    headers = intake_key(chain.practice_a)

    pages, url = [], "/api/referrals/?page_size=2"
    while url:
        pages.append(api.get(url, **headers).json())
        url = pages[-1]["next"]
    forward = [row["id"] for page in pages for row in page["results"]]
    back = api.get(pages[-1]["previous"], **headers).json()

    expected = sorted(made, key=lambda r: (r.received_at, str(r.public_id)), reverse=True)
    expected = [
        str(r.public_id)
        for r in Referral.objects.filter(pk__in=[r.pk for r in expected]).order_by(
            "-received_at", "-public_id"
        )
    ]
    assert forward == expected
    assert [row["id"] for row in back["results"]] == [row["id"] for row in pages[-2]["results"]]
    assert pages[0]["previous"] is None


def test_a_patient_list_cursor_holds_no_database_id(api, chain):
    patients = [factories.PatientFactory(practice=chain.practice_a) for _ in range(2)]
    first = api.get("/api/patients/?page_size=1", **intake_key(chain.practice_a)).json()
    position = json.loads(base64.b64decode(_cursor_of(first["next"])))
    assert position["p"][1] in {str(p.public_id) for p in patients}
    assert len(position["p"]) == 2 and all(isinstance(v, str) for v in position["p"])


@pytest.mark.parametrize(
    "cursor",
    [
        base64.b64encode(b'{"r":0,"p":["2026-01-01T00:00:00+00:00","not-a-uuid"]}').decode(),
        base64.b64encode(
            b'{"r":0,"p":["yesterday","' + str(uuid.uuid4()).encode() + b'"]}'
        ).decode(),
        base64.b64encode(b'{"r":0,"p":[1]}').decode(),
        base64.b64encode(b"p=12").decode(),
        "%00",
        "garbage!",
    ],
)
def test_a_forged_or_old_style_cursor_is_a_404_not_a_crash(api, chain, cursor):
    referral_of(chain.practice_a)
    for url in ("/api/referrals/", "/api/patients/"):
        response = api.get(f"{url}?cursor={cursor}", **intake_key(chain.practice_a))
        assert response.status_code == 404, (url, response.content)


# -- the schema: no response documents an integer id -----------------------------------------------


def _integer_id_properties(schema: dict) -> list[str]:
    """``Component.property`` for every property named id or *_id typed integer in the schema's
    components, and ``path method status`` for such a property in an inline response schema."""

    def walk(node, where) -> list[str]:
        found = []
        if isinstance(node, dict):
            for name, prop in (node.get("properties") or {}).items():
                typed = prop.get("type") if isinstance(prop, dict) else None
                integer = typed == "integer" or (isinstance(typed, list) and "integer" in typed)
                if (name == "id" or name.endswith("_id")) and integer:
                    found.append(f"{where}.{name}")
            for value in node.values():
                found += walk(value, where)
        elif isinstance(node, list):
            for item in node:
                found += walk(item, where)
        return found

    found = []
    for name, component in schema.get("components", {}).get("schemas", {}).items():
        found += walk(component, name)
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            for status, response in (operation.get("responses") or {}).items():
                found += walk(response, f"{path} {method} {status}")
    return sorted(set(found))


def test_no_response_in_the_api_schema_documents_an_integer_id(api, db):
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert len(schema["components"]["schemas"]) > 20  # the walk reads the real schema

    assert _integer_id_properties(schema) == []


def test_the_schema_walk_finds_an_integer_id():
    schema = {
        "components": {
            "schemas": {
                "Row": {"properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
                "Nested": {
                    "properties": {"coach": {"properties": {"user_id": {"type": "integer"}}}}
                },
                "Fine": {"properties": {"id": {"type": "string", "format": "uuid"}}},
            }
        },
        "paths": {
            "/x/": {
                "get": {
                    "responses": {
                        "200": {
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "properties": {"pk_id": {"type": ["integer", "null"]}}
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    }
    assert _integer_id_properties(schema) == ["/x/ get 200.pk_id", "Nested.user_id", "Row.id"]
