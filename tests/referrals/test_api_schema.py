"""Every referral endpoint is in the OpenAPI schema, documented, with examples and no warnings."""

from django.urls import include, path
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

ACTIONS = [
    "accept",
    "decline",
    "assign",
    "contact-attempts",
    "schedule-contact",
    "no-show",
    "contact-done",
    "close-unreachable",
    "request-cancellation",
    "confirm-cancellation",
]


def _referral_api_schema() -> dict:
    GENERATOR_STATS.reset()
    patterns = [path("api/", include(("referrals.api.urls", "api")))]
    with GENERATOR_STATS.silence():
        schema = SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)
    problems = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    GENERATOR_STATS.reset()
    assert problems == []
    validate_schema(schema)
    return schema


def test_referral_api_schema_is_valid_and_without_warnings():
    paths = _referral_api_schema()["paths"]
    assert set(paths["/api/referrals/"]) >= {"get", "post"}
    assert "get" in paths["/api/referrals/{id}/"]
    for name in ACTIONS:
        operation = paths[f"/api/referrals/{{id}}/{name}/"]["post"]
        assert operation["summary"]
        assert {"403", "404", "409"} <= set(operation["responses"])


def test_referral_create_is_documented_with_a_realistic_example():
    create = _referral_api_schema()["paths"]["/api/referrals/"]["post"]
    [example] = create["requestBody"]["content"]["application/json"]["examples"].values()
    assert example["value"]["patient"]["bsn"] == "123456782"
    # ... and the errors of the layers in front of every view (carechain.api.schema).
    assert set(create["responses"]) == {
        "200",
        "201",
        "400",
        "401",
        "403",
        "409",
        "413",
        "415",
        "429",
    }


def test_referral_list_documents_its_filters():
    listing = _referral_api_schema()["paths"]["/api/referrals/"]["get"]
    names = {parameter["name"] for parameter in listing["parameters"]}
    assert names >= {
        "state",
        "channel",
        "is_ketenzorg",
        "received_after",
        "received_before",
        "patient_bsn",
        "cursor",
    }
