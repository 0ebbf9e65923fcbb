"""The one access policy: each role sees only what its organisation allows; denials show no data."""

import pytest
from django.urls import reverse

from carechain.access import Actor, patients_for
from tests import factories


@pytest.fixture
def patients(chain):
    return {
        "a": factories.PatientFactory(practice=chain.practice_a, last_name="Alfa"),
        "b": factories.PatientFactory(practice=chain.practice_b, last_name="Bravo"),
    }


def test_practice_staff_see_only_their_practice_patients(patients, poh, gp, poh_ggz):
    for person in (poh, gp, poh_ggz):
        assert list(patients_for(Actor.for_user(person))) == [patients["a"]]


@pytest.mark.parametrize("persona", ["zorggroep_admin", "insurer_user", "other_coach"])
def test_roles_without_a_care_relation_see_no_patients(request, patients, persona):
    user = request.getfixturevalue(persona)
    assert not patients_for(Actor.for_user(user)).exists()


def test_user_without_membership_sees_nothing(patients):
    assert not patients_for(Actor.for_user(factories.UserFactory())).exists()


def test_inactive_membership_grants_nothing(patients, chain):
    user = factories.member("poh_s", chain.practice_a, is_active=False)
    assert not patients_for(Actor.for_user(user)).exists()


def test_poh_of_another_practice_gets_404_on_the_patient_page(client, patients, other_poh):
    client.force_login(other_poh)
    response = client.get(reverse("patient-detail", args=[patients["a"].pk]))
    assert response.status_code == 404
    assert "Alfa" not in response.content.decode()


def test_poh_opens_own_patient(client, patients, poh):
    client.force_login(poh)
    response = client.get(reverse("patient-detail", args=[patients["a"].pk]))
    assert response.status_code == 200
    assert patients["a"].bsn in response.content.decode()


@pytest.mark.parametrize("persona", ["zorggroep_admin", "insurer_user"])
def test_patient_list_is_forbidden_for_non_care_roles(client, patients, request, persona):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(reverse("patient-list"))
    assert response.status_code == 403


def test_patient_search_by_bsn_finds_only_own_practice(client, patients, poh):
    client.force_login(poh)
    body = client.get(reverse("patient-list"), {"q": patients["b"].bsn}).content.decode()
    assert "Bravo" not in body
    body = client.get(reverse("patient-list"), {"q": patients["a"].bsn}).content.decode()
    assert "Alfa" in body


def test_anonymous_visitor_is_sent_to_login(client, patients):
    response = client.get(reverse("patient-detail", args=[patients["a"].pk]))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_anonymous_api_call_is_refused(api, patients):
    response = api.get("/api/patients/")
    assert response.status_code in (401, 403)
