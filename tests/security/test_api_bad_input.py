"""Bad input over the API: a clear 4xx, never a 500, and nothing stored."""

import json

import pytest

from carechain.models import Patient
from referrals.models import Referral
from tests import factories

PAYLOADS = [
    "'; DROP TABLE carechain_patient; --",
    "<script>alert(1)</script>",
    '" OR 1=1 --',
    "%00\x00",
]


@pytest.fixture
def key(chain):
    return factories.api_key(chain.practice_a)


def post(api, url, body, key, **extra):
    return api.generic(
        "POST",
        url,
        body,
        content_type=extra.pop("content_type", "application/json"),
        HTTP_AUTHORIZATION=f"Api-Key {key}",
        **extra,
    )


@pytest.mark.parametrize("url", ["/api/patients/", "/api/referrals/"])
def test_oversized_body_is_413(api, key, url, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = post(api, url, json.dumps({"reason": "x" * 5000}), key)
    assert response.status_code == 413
    assert not Referral.objects.exists()


@pytest.mark.parametrize("url", ["/api/patients/", "/api/referrals/"])
def test_wrong_content_type_is_415(api, key, url):
    response = post(
        api, url, "bsn=123456782", key, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415


@pytest.mark.parametrize("url", ["/api/patients/", "/api/referrals/"])
def test_invalid_json_and_invalid_utf8_are_400(api, key, url):
    assert post(api, url, "{not json", key).status_code == 400
    assert post(api, url, b'{"last_name": "\xff\xfe"}', key).status_code == 400


@pytest.mark.parametrize("url", ["/api/patients/", "/api/referrals/"])
def test_huge_page_size_is_capped(api, key, url, chain):
    factories.PatientFactory.create_batch(3, practice=chain.practice_a)
    response = api.get(url, {"page_size": "10000000"}, HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert response.status_code == 200
    assert response.data["results"] is not None


@pytest.mark.parametrize("payload", PAYLOADS[:3])
def test_metacharacters_in_free_text_are_stored_verbatim_and_answered_as_data(
    api, key, chain, payload
):
    body = {
        "bsn": "123456782",
        "practice_agb": chain.practice_a.agb,
        "last_name": payload,
        "birth_date": "1960-01-01",
        "call_note": payload,
    }
    response = post(api, "/api/patients/", json.dumps(body), key)
    assert response.status_code == 201
    assert (response.json()["last_name"], response.json()["call_note"]) == (payload, payload)
    assert (Patient.objects.get().last_name, Patient.objects.get().call_note) == (payload, payload)


def test_a_null_character_in_free_text_is_a_400_naming_the_fields(api, key, chain):
    body = {
        "bsn": "123456782",
        "practice_agb": chain.practice_a.agb,
        "last_name": PAYLOADS[3],
        "birth_date": "1960-01-01",
        "call_note": PAYLOADS[3],
    }
    response = post(api, "/api/patients/", json.dumps(body), key)
    assert response.status_code == 400
    assert set(response.json()) == {"last_name", "call_note"}
    assert not Patient.objects.exists()


def test_requests_over_the_rate_get_429(api, key):
    from django.core.cache import cache

    from carechain.api.throttling import PerClientRateThrottle

    original = PerClientRateThrottle.THROTTLE_RATES
    cache.clear()
    PerClientRateThrottle.THROTTLE_RATES = {"client": "3/min"}
    try:
        responses = [
            api.get("/api/patients/", HTTP_AUTHORIZATION=f"Api-Key {key}") for _ in range(5)
        ]
    finally:
        PerClientRateThrottle.THROTTLE_RATES = original
        cache.clear()
    assert [r.status_code for r in responses] == [200, 200, 200, 429, 429]
    wait = int(responses[3]["Retry-After"])
    assert 0 < wait <= 60
    assert responses[3].json() == {
        "detail": f"Te veel verzoeken. Probeer het over {wait} seconden opnieuw."
    }


def _nested(depth: int, inner="[]") -> str:
    return "[" * depth + inner + "]" * depth


@pytest.mark.parametrize(
    ("url", "purpose"),
    [
        ("/api/patients/", "referral_intake"),
        ("/api/referrals/", "referral_intake"),
        ("/api/claims/answers/", "claims"),
    ],
)
@pytest.mark.parametrize(
    "body",
    [_nested(5000), _nested(40), '{"patient": ' * 50 + "{}" + "}" * 50],
    ids=["5000 lists deep", "40 lists deep", "50 objects deep"],
)
def test_absurdly_nested_json_is_400_not_a_crash(api, chain, url, purpose, body):
    owner = chain.practice_a if purpose == "referral_intake" else chain.insurer_a
    response = post(api, url, body, factories.api_key(owner, purpose))
    assert response.status_code == 400
    assert response.json() == {"detail": "De body is te diep genest."}
    assert not Patient.objects.exists()
