"""Referring a patient through the REST API: the referral form's rules, for people and systems."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from carechain.models import Patient, Role
from referrals.models import Referral
from tests import factories
from tests.referrals.api_support import (
    LIST_URL,
    claims_key,
    intake_key,
    key_header,
    referral_body,
)


def test_list_url_has_the_agreed_name():
    assert reverse("api:referral-list") == LIST_URL


def test_poh_refers_a_new_patient_to_the_zorggroeps_provider(api, chain, poh):
    api.force_login(poh)
    response = api.post(LIST_URL, referral_body(chain.practice_a), format="json")
    assert response.status_code == 201, response.data
    referral = Referral.objects.get()
    assert response.data["id"] == str(referral.public_id)
    assert (referral.channel, referral.referred_by, referral.provider) == (
        "web",
        poh,
        chain.provider,
    )
    assert referral.patient.practice == chain.practice_a
    assert referral.patient.bsn == "123456782"
    assert response.data["state"] == "received"
    assert response.data["bser_status_code"] == "2.0"
    assert response.data["patient"]["full_name"] == "Marieke de Vries"
    assert [e["action"] for e in response.data["history"]] == ["received"]


def test_pack_years_are_computed_twenty_a_day_for_thirty_years_is_thirty(api, chain, poh):
    api.force_login(poh)
    response = api.post(LIST_URL, referral_body(chain.practice_a), format="json")
    assert response.json()["pack_years"] == 30.0
    assert str(Referral.objects.get().pack_years) == "30.0"


def test_practice_system_refers_with_its_api_key(api, chain):
    body = referral_body(
        chain.practice_a, referrer_name="dr. A. Jansen", referrer_agb="01012345", external_id="H-1"
    )
    response = api.post(LIST_URL, body, format="json", **intake_key(chain.practice_a))
    assert response.status_code == 201, response.data
    referral = Referral.objects.get()
    assert (referral.channel, referral.referred_by, referral.external_id) == ("api", None, "H-1")
    assert (referral.referrer_name, referral.referrer_agb) == ("dr. A. Jansen", "01012345")


def test_zorggroep_kis_refers_for_each_of_its_practices(api, chain):
    response = api.post(
        LIST_URL, referral_body(chain.practice_b), format="json", **intake_key(chain.zorggroep)
    )
    assert response.status_code == 201, response.data
    assert Referral.objects.get().practice == chain.practice_b


def test_ketenzorg_programme_makes_it_a_ketenzorg_referral(api, chain, poh):
    api.force_login(poh)
    response = api.post(
        LIST_URL, referral_body(chain.practice_a, ketenzorg_programme="copd"), format="json"
    )
    assert response.status_code == 201, response.data
    assert (response.data["is_ketenzorg"], response.data["ketenzorg_programme"]) == (True, "copd")


def test_regular_patient_has_no_ketenzorg_programme(api, chain, poh):
    api.force_login(poh)
    response = api.post(LIST_URL, referral_body(chain.practice_a), format="json")
    assert (response.data["is_ketenzorg"], response.data["ketenzorg_programme"]) == (False, None)


def test_referral_to_another_provider_when_its_agb_is_given(api, chain, poh):
    api.force_login(poh)
    body = referral_body(chain.practice_a, provider_agb=chain.other_provider.agb)
    response = api.post(LIST_URL, body, format="json")
    assert response.status_code == 201, response.data
    assert Referral.objects.get().provider == chain.other_provider


def test_without_a_contracted_provider_the_provider_agb_is_needed(api, chain):
    poh_elsewhere = factories.member(Role.POH_S, chain.practice_other_zorggroep)
    api.force_login(poh_elsewhere)
    response = api.post(LIST_URL, referral_body(chain.practice_other_zorggroep), format="json")
    assert response.status_code == 400
    assert "provider_agb" in response.data
    assert not Patient.objects.exists()


def test_a_known_bsn_is_referred_as_the_same_patient(api, chain, poh):
    known = factories.PatientFactory(practice=chain.practice_a, bsn="123456782")
    api.force_login(poh)
    response = api.post(LIST_URL, referral_body(chain.practice_a), format="json")
    assert response.status_code == 201, response.data
    assert Patient.objects.get() == known
    assert Referral.objects.get().patient == known


def test_creating_writes_audit_rows_for_patient_and_referral(api, chain, poh):
    api.force_login(poh)
    response = api.post(LIST_URL, referral_body(chain.practice_a), format="json")
    referral = Referral.objects.get(public_id=response.data["id"])
    created = AuditEvent.objects.filter(
        action=AuditEvent.Action.CREATE, patient_id=referral.patient_id
    )
    assert {e.object_type for e in created} == {"carechain.patient", "referrals.referral"}
    assert {e.username for e in created} == {poh.username}


def _without_consent(body):
    del body["consent_data_exchange"]


def _set(path, value):
    def change(body):
        target = body
        *parents, name = path.split(".")
        for parent in parents:
            target = target[parent]
        target[name] = value

    return change


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param(_set("patient.bsn", "123456781"), "patient", id="bsn fails the 11-proef"),
        pytest.param(_set("patient.bsn", "12345"), "patient", id="bsn too short"),
        pytest.param(
            _set("consent_data_exchange", False), "consent_data_exchange", id="no consent"
        ),
        pytest.param(_without_consent, "consent_data_exchange", id="consent missing"),
        pytest.param(_set("practice_agb", "99999999"), "practice_agb", id="unknown practice AGB"),
        pytest.param(_set("practice_agb", "0105"), "practice_agb", id="malformed practice AGB"),
        pytest.param(_set("provider_agb", "99999999"), "provider_agb", id="unknown provider AGB"),
        pytest.param(_set("motivation", "eager"), "motivation", id="motivation not in the list"),
        pytest.param(_set("cigarettes_per_day", -1), "cigarettes_per_day", id="negative a day"),
        pytest.param(_set("cigarettes_per_day", 500), "cigarettes_per_day", id="500 a day"),
        pytest.param(_set("years_smoked", -3), "years_smoked", id="negative years"),
        pytest.param(_set("reason", ""), "reason", id="no reason"),
        pytest.param(_set("ketenzorg_programme", "hiv"), "ketenzorg_programme", id="programme"),
        pytest.param(_set("patient.birth_date", "2999-01-01"), "patient", id="born in future"),
        pytest.param(_set("patient.phone", ""), "patient", id="neither phone nor e-mail"),
        pytest.param(_set("patient.last_name", ""), "patient", id="no last name"),
    ],
)
def test_bad_referral_input_gets_400_with_field_errors_and_saves_nothing(
    api, chain, poh, change, field
):
    body = referral_body(chain.practice_a)
    change(body)
    api.force_login(poh)
    response = api.post(LIST_URL, body, format="json")
    assert response.status_code == 400, response.data
    assert field in response.data
    assert not Patient.objects.exists()
    assert not Referral.objects.exists()


def test_bsn_error_is_reported_on_the_patients_bsn(api, chain, poh):
    body = referral_body(chain.practice_a)
    body["patient"]["bsn"] = "123456781"
    api.force_login(poh)
    response = api.post(LIST_URL, body, format="json")
    assert "bsn" in response.data["patient"]


def test_poh_cannot_refer_for_another_practice(api, chain, poh):
    api.force_login(poh)
    response = api.post(LIST_URL, referral_body(chain.practice_b), format="json")
    assert response.status_code == 403
    assert not Patient.objects.exists()
    assert not Referral.objects.exists()


def test_practice_key_cannot_refer_for_another_practice(api, chain):
    response = api.post(
        LIST_URL, referral_body(chain.practice_b), format="json", **intake_key(chain.practice_a)
    )
    assert response.status_code == 403
    assert not Patient.objects.exists()


def test_zorggroep_key_cannot_refer_for_a_practice_of_another_zorggroep(api, chain):
    body = referral_body(chain.practice_other_zorggroep, provider_agb=chain.provider.agb)
    response = api.post(LIST_URL, body, format="json", **intake_key(chain.zorggroep))
    assert response.status_code == 403
    assert not Referral.objects.exists()


def test_coach_cannot_refer(api, chain, coach):
    api.force_login(coach)
    response = api.post(LIST_URL, referral_body(chain.practice_a), format="json")
    assert response.status_code == 403
    assert not Referral.objects.exists()


@pytest.mark.parametrize("persona", ["insurer_user", "zorggroep_admin"])
def test_insurers_and_zorggroep_admins_cannot_refer(api, chain, persona, request):
    api.force_login(request.getfixturevalue(persona))
    response = api.post(LIST_URL, referral_body(chain.practice_a), format="json")
    assert response.status_code == 403
    assert not Referral.objects.exists()


def test_claims_key_cannot_refer(api, chain):
    response = api.post(
        LIST_URL, referral_body(chain.practice_a), format="json", **claims_key(chain.insurer_a)
    )
    assert response.status_code == 403
    assert not Referral.objects.exists()


def test_sending_the_same_external_id_again_answers_with_the_first_referral(api, chain):
    headers = intake_key(chain.practice_a)
    body = referral_body(chain.practice_a, external_id="HIS-2025-000187")
    first = api.post(LIST_URL, body, format="json", **headers)
    again = api.post(LIST_URL, body, format="json", **headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.data["id"] == first.data["id"]
    assert Referral.objects.count() == 1
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.VIEW, object_id=str(Referral.objects.get().pk)
    ).exists()


def test_external_id_of_a_referral_the_caller_cannot_see_is_a_conflict_and_reveals_nothing(
    api, chain
):
    body_a = referral_body(chain.practice_a, external_id="SHARED-1")
    assert api.post(
        LIST_URL, body_a, format="json", **intake_key(chain.practice_a)
    ).status_code == (201)
    body_b = referral_body(chain.practice_b, external_id="SHARED-1")
    body_b["patient"]["bsn"] = "111222333"
    response = api.post(LIST_URL, body_b, format="json", **intake_key(chain.practice_b))
    assert response.status_code == 409
    assert "patient" not in response.data
    assert Referral.objects.count() == 1


def test_anonymous_caller_must_authenticate(api, chain):
    response = api.post(LIST_URL, referral_body(chain.practice_a), format="json")
    assert response.status_code == 401


def test_a_revoked_key_cannot_refer(api, chain):
    key = factories.api_key(chain.practice_a, revoked=True)
    response = api.post(LIST_URL, referral_body(chain.practice_a), format="json", **key_header(key))
    assert response.status_code in (401, 403)
    assert not Referral.objects.exists()
