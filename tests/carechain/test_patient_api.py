import pytest
from django.db import connection

from carechain.models import OrganisationAPIKey, Patient
from tests import factories

URL = "/api/patients/"


def _body(chain, **overrides):
    body = {
        "bsn": "123456782",
        "practice_agb": chain.practice_a.agb,
        "last_name": "Visser",
        "birth_date": "1960-01-01",
        "insurances": [
            {"uzovi": chain.insurer_a.uzovi, "policy_number": "P1", "valid_from": "2024-01-01"}
        ],
    }
    body.update(overrides)
    return body


@pytest.fixture
def practice_key(chain):
    return factories.api_key(chain.practice_a)


def test_practice_system_registers_a_patient(api, chain, practice_key):
    response = api.post(
        URL, _body(chain), format="json", HTTP_AUTHORIZATION=f"Api-Key {practice_key}"
    )
    assert response.status_code == 201, response.data
    assert response.data["insurances"][0]["uzovi"] == chain.insurer_a.uzovi


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"bsn": "123456781"}, "bsn"),
        ({"practice_agb": "0105123"}, "practice_agb"),
        (
            {"insurances": [{"uzovi": "71190", "policy_number": "1", "valid_from": "2024-01-01"}]},
            "insurances",
        ),
        (
            {
                "insurances": [
                    {"uzovi": "REPLACE", "policy_number": "1", "valid_from": "2024-01-01"},
                    {
                        "uzovi": "REPLACE",
                        "policy_number": "2",
                        "valid_from": "2024-05-01",
                        "valid_to": "2024-06-01",
                    },
                ]
            },
            "insurances",
        ),
        ({"birth_date": "not a date"}, "birth_date"),
    ],
)
def test_bad_patient_input_gets_400_with_field_errors_and_saves_nothing(
    api, chain, practice_key, overrides, field
):
    for insurance in overrides.get("insurances", []):
        if insurance["uzovi"] == "REPLACE":
            insurance["uzovi"] = chain.insurer_a.uzovi
    response = api.post(
        URL, _body(chain, **overrides), format="json", HTTP_AUTHORIZATION=f"Api-Key {practice_key}"
    )
    assert response.status_code == 400
    assert field in response.data
    assert not Patient.objects.exists()


def test_key_of_practice_a_cannot_register_for_practice_b(api, chain, practice_key):
    response = api.post(
        URL,
        _body(chain, practice_agb=chain.practice_b.agb),
        format="json",
        HTTP_AUTHORIZATION=f"Api-Key {practice_key}",
    )
    assert response.status_code == 404
    assert not Patient.objects.exists()


def test_revoked_key_is_refused(api, chain):
    key = factories.api_key(chain.practice_a)
    OrganisationAPIKey.objects.filter(organisation=chain.practice_a).update(revoked=True)
    response = api.get(URL, HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert response.status_code in (401, 403)


def test_unknown_key_is_refused(api, db):
    response = api.get(URL, HTTP_AUTHORIZATION="Api-Key nonsense.key")
    assert response.status_code in (401, 403)


def test_claims_key_of_an_insurer_sees_no_patient_records(api, chain):
    factories.PatientFactory(practice=chain.practice_a)
    key = factories.api_key(chain.insurer_a, OrganisationAPIKey.Purpose.CLAIMS)
    response = api.get(URL, HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert response.status_code == 403


def test_practice_lists_only_its_own_patients(
    api, chain, practice_key, django_assert_max_num_queries
):
    mine = factories.PatientFactory.create_batch(3, practice=chain.practice_a)
    factories.PatientFactory.create_batch(2, practice=chain.practice_b)
    response = api.get(URL, HTTP_AUTHORIZATION=f"Api-Key {practice_key}")
    assert response.status_code == 200
    assert sorted(r["id"] for r in response.data["results"]) == sorted(
        str(p.public_id) for p in mine
    )


def test_patient_list_runs_constant_queries(api, chain, practice_key, django_assert_num_queries):
    factories.PatientFactory.create_batch(5, practice=chain.practice_a)
    api.get(URL, HTTP_AUTHORIZATION=f"Api-Key {practice_key}")
    # key with its organisation, patients page, insurances prefetch, enrolments prefetch,
    # audit: savepoint, (PostgreSQL: chain lock), last hash, one bulk insert, release savepoint
    expected = 9 if connection.vendor == "postgresql" else 8
    with django_assert_num_queries(expected):
        api.get(URL, HTTP_AUTHORIZATION=f"Api-Key {practice_key}")
    factories.PatientFactory.create_batch(20, practice=chain.practice_a)
    with django_assert_num_queries(expected):
        api.get(URL, HTTP_AUTHORIZATION=f"Api-Key {practice_key}")
