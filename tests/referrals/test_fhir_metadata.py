"""The FHIR server describes itself to any integrator, without a key."""

from .fhir_samples import outcome_issue


def test_metadata_is_an_r4_capability_statement_without_authentication(api, db):
    response = api.get("/fhir/metadata")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    statement = response.json()
    assert statement["resourceType"] == "CapabilityStatement"
    assert (statement["fhirVersion"], statement["kind"], statement["status"]) == (
        "4.0.1",
        "instance",
        "active",
    )
    assert statement["implementation"]["url"].endswith("/fhir")


def test_metadata_names_every_supported_interaction_and_the_api_key(api, db):
    rest = api.get("/fhir/metadata").json()["rest"][0]

    interactions = {
        resource["type"]: {i["code"] for i in resource["interaction"]}
        for resource in rest["resource"]
    }
    assert interactions == {
        "Bundle": {"create", "read"},
        "Task": {"read", "search-type"},
        "ServiceRequest": {"read"},
        "Claim": {"read", "search-type"},
        "ClaimResponse": {"create"},
    }
    task = next(r for r in rest["resource"] if r["type"] == "Task")
    assert {p["name"] for p in task["searchParam"]} == {
        "_id",
        "focus",
        "identifier",
        "_lastUpdated",
        "_count",
    }
    assert [i["code"] for i in rest["interaction"]] == ["transaction"]
    assert "Api-Key" in rest["security"]["description"]


def test_metadata_answers_plain_json_when_asked(api, db):
    response = api.get("/fhir/metadata", HTTP_ACCEPT="application/json")

    assert response["Content-Type"].startswith("application/json")
    assert response.json()["resourceType"] == "CapabilityStatement"


def test_an_unsupported_resource_type_answers_with_an_operation_outcome(api, db):
    response = api.get("/fhir/Patient/1")

    assert response.status_code == 404
    assert outcome_issue(response)["code"] == "not-supported"
