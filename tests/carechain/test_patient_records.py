"""Patients and their insurance and ketenzorg periods: bad input is refused and nothing is saved."""

import datetime

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.urls import reverse

from carechain.access import Actor
from carechain.models import Insurance, Patient
from carechain.services import insurance_add, patient_register
from tests import factories

D = datetime.date


def test_overlapping_insurance_periods_are_refused(chain, poh):
    patient = factories.PatientFactory(practice=chain.practice_a)
    factories.InsuranceFactory(
        patient=patient, insurer=chain.insurer_a, valid_from=D(2024, 1, 1), valid_to=D(2024, 12, 31)
    )
    with pytest.raises(ValidationError) as exc:
        insurance_add(
            actor=Actor.for_user(poh),
            patient_id=patient.pk,
            data={
                "insurer": chain.insurer_b,
                "policy_number": "X1",
                "valid_from": D(2024, 12, 31),
                "valid_to": None,
            },
        )
    assert [e.code for e in exc.value.error_dict[NON_FIELD_ERRORS]] == ["overlap"]
    assert patient.insurances.count() == 1


def test_insurer_change_on_1_january_is_accepted(chain, poh):
    patient = factories.PatientFactory(practice=chain.practice_a)
    factories.InsuranceFactory(
        patient=patient, insurer=chain.insurer_a, valid_from=D(2024, 1, 1), valid_to=D(2024, 12, 31)
    )
    insurance_add(
        actor=Actor.for_user(poh),
        patient_id=patient.pk,
        data={"insurer": chain.insurer_b, "policy_number": "X1", "valid_from": D(2025, 1, 1)},
    )
    assert patient.insurance_on(D(2025, 1, 1)).insurer == chain.insurer_b
    assert patient.insurance_on(D(2024, 12, 31)).insurer == chain.insurer_a


def test_register_patient_with_two_overlapping_insurances_saves_nothing(chain, poh):
    with pytest.raises(ValidationError):
        patient_register(
            actor=Actor.for_user(poh),
            practice=chain.practice_a,
            fields={"bsn": "123456782", "last_name": "Visser", "birth_date": D(1960, 1, 1)},
            insurances=[
                {"insurer": chain.insurer_a, "policy_number": "1", "valid_from": D(2024, 1, 1)},
                {"insurer": chain.insurer_b, "policy_number": "2", "valid_from": D(2025, 1, 1)},
            ],
        )
    assert not Patient.objects.exists()
    assert not Insurance.objects.exists()


def test_poh_cannot_register_a_patient_for_another_practice(chain, poh):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        patient_register(
            actor=Actor.for_user(poh),
            practice=chain.practice_b,
            fields={"bsn": "123456782", "last_name": "Visser", "birth_date": D(1960, 1, 1)},
        )


def _patient_form(**overrides):
    data = {
        "bsn": "123456782",
        "last_name": "Visser",
        "birth_date": "1960-01-01",
        "gender": "female",
        "best_time_to_call": "morning",
        "ins-TOTAL_FORMS": "2",
        "ins-INITIAL_FORMS": "0",
        "enr-TOTAL_FORMS": "0",
        "enr-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


def test_patient_form_shows_the_11_proef_error_and_saves_nothing(client, poh):
    client.force_login(poh)
    response = client.post(reverse("patient-create"), _patient_form(bsn="123456781"))
    assert response.status_code == 200
    assert "11-proef" in response.content.decode()
    assert not Patient.objects.exists()


def test_patient_form_refuses_overlapping_insurances_in_one_submission(client, poh, chain):
    client.force_login(poh)
    response = client.post(
        reverse("patient-create"),
        _patient_form(
            **{
                "ins-0-insurer": chain.insurer_a.pk,
                "ins-0-policy_number": "1",
                "ins-0-valid_from": "2024-01-01",
                "ins-1-insurer": chain.insurer_b.pk,
                "ins-1-policy_number": "2",
                "ins-1-valid_from": "2024-06-01",
            }
        ),
    )
    assert response.status_code == 200
    assert "overlap" in response.content.decode()
    assert not Patient.objects.exists()


def test_patient_form_registers_patient_in_own_practice(client, poh, chain):
    client.force_login(poh)
    response = client.post(
        reverse("patient-create"),
        _patient_form(
            **{
                "ins-0-insurer": chain.insurer_a.pk,
                "ins-0-policy_number": "1",
                "ins-0-valid_from": "2024-01-01",
            }
        ),
    )
    patient = Patient.objects.get()
    assert response.status_code == 302
    assert patient.practice == chain.practice_a
    assert patient.insurance_on(D(2025, 3, 1)).insurer == chain.insurer_a


def test_admin_refuses_overlapping_insurance_rows(admin_client, chain):
    patient = factories.PatientFactory(practice=chain.practice_a)
    url = reverse("admin:carechain_patient_change", args=[patient.pk])
    data = {
        "bsn": patient.bsn,
        "initials": "",
        "first_name": "",
        "name_prefix": "",
        "last_name": patient.last_name,
        "birth_date": "1970-05-17",
        "gender": "unknown",
        "phone": "",
        "email": "",
        "address": "",
        "postal_code": "",
        "city": "",
        "best_time_to_call": "any",
        "call_note": "",
        "practice": chain.practice_a.pk,
        "insurances-TOTAL_FORMS": "2",
        "insurances-INITIAL_FORMS": "0",
        "insurances-0-insurer": chain.insurer_a.pk,
        "insurances-0-policy_number": "1",
        "insurances-0-valid_from": "2024-01-01",
        "insurances-1-insurer": chain.insurer_b.pk,
        "insurances-1-policy_number": "2",
        "insurances-1-valid_from": "2024-03-01",
        "insurances-1-valid_to": "2024-04-01",
        "ketenzorg_enrolments-TOTAL_FORMS": "0",
        "ketenzorg_enrolments-INITIAL_FORMS": "0",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "overlap" in response.content.decode()
    assert not Insurance.objects.exists()


def test_admin_refuses_a_seven_digit_agb(admin_client, chain):
    response = admin_client.post(
        reverse("admin:carechain_practice_add"),
        {
            "name": "Nieuwe praktijk",
            "agb": "0105123",
            "zorggroep": chain.zorggroep.pk,
            "secure_email": "x@zorgmail.example.nl",
            "channel": "kis",
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert "8" in response.content.decode()
    assert not chain.zorggroep.practices.filter(name="Nieuwe praktijk").exists()


def test_admin_refuses_a_five_digit_uzovi(admin_client):
    from carechain.models import Insurer

    response = admin_client.post(
        reverse("admin:carechain_insurer_add"),
        {"name": "Vijf", "uzovi": "71190", "is_active": "on"},
    )
    assert response.status_code == 200
    assert not Insurer.objects.filter(name="Vijf").exists()
