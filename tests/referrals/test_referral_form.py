"""The browser referral form of a practice: find or enter the patient, refer, nothing half-saved."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from carechain.models import Patient
from referrals.models import Referral
from tests import factories

VALID = {
    "reason": "Wil stoppen in verband met COPD",
    "cigarettes_per_day": "20",
    "years_smoked": "30",
    "earlier_quit_attempts": "2",
    "motivation": "motivated",
    "ketenzorg_programme": "",
    "best_time_to_call": "morning",
    "call_note": "",
    "consent_data_exchange": "on",
}
NEW_PATIENT = {
    "patient-initials": "M.",
    "patient-first_name": "Marie",
    "patient-name_prefix": "de",
    "patient-last_name": "Vries",
    "patient-birth_date": "1965-03-02",
    "patient-gender": "female",
    "patient-phone": "06-11223344",
    "patient-email": "",
    "patient-address": "",
    "patient-postal_code": "",
    "patient-city": "",
}


def test_bsn_lookup_refuses_a_bsn_failing_the_11_proef(client, poh):
    client.force_login(poh)
    response = client.get(reverse("referral-create"), {"bsn": "123456781"})
    assert response.status_code == 200
    assert "11-proef" in response.content.decode()


def test_poh_refers_a_new_patient_with_pack_years_computed(client, poh, chain):
    client.force_login(poh)
    response = client.post(reverse("referral-create"), {"bsn": "123456782", **VALID, **NEW_PATIENT})
    referral = Referral.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("referral-detail", args=[referral.pk])
    assert referral.patient.practice == chain.practice_a
    assert referral.provider == chain.provider
    assert referral.channel == "web"
    assert referral.referred_by == poh
    assert str(referral.pack_years) == "30.0"
    assert referral.state == "received"
    assert referral.events.get().action == "received"


def test_existing_patient_of_own_practice_is_found_by_bsn(client, poh, chain):
    patient = factories.PatientFactory(practice=chain.practice_a, last_name="Bekend")
    client.force_login(poh)
    page = client.get(reverse("referral-create"), {"bsn": patient.bsn}).content.decode()
    assert "Bekend" in page
    assert AuditEvent.objects.filter(patient_id=patient.pk, action="list").exists()
    client.post(reverse("referral-create"), {"bsn": patient.bsn, **VALID})
    assert Referral.objects.get().patient == patient
    assert Patient.objects.count() == 1


def test_patient_of_another_practice_is_not_revealed_by_the_lookup(client, poh, chain):
    other = factories.PatientFactory(practice=chain.practice_b, last_name="Geheim")
    client.force_login(poh)
    page = client.get(reverse("referral-create"), {"bsn": other.bsn}).content.decode()
    assert "Geheim" not in page


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"consent_data_exchange": ""}, "toestemming"),
        ({"cigarettes_per_day": "-3"}, "cigarettes_per_day"),
        ({"motivation": "maybe"}, "motivation"),
        ({"patient-last_name": ""}, "patient-last_name"),
        ({"patient-phone": ""}, "telefoonnummer"),
    ],
)
def test_bad_referral_input_shows_errors_and_saves_nothing(client, poh, change, message):
    client.force_login(poh)
    data = {"bsn": "123456782", **VALID, **NEW_PATIENT, **change}
    response = client.post(reverse("referral-create"), data)
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body or 'class="fielderror"' in body
    assert 'role="alert"' in body
    assert not Referral.objects.exists()
    assert not Patient.objects.exists()


@pytest.mark.parametrize("persona", ["coach", "zorggroep_admin", "insurer_user"])
def test_only_practice_staff_can_refer(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("referral-create")).status_code == 403


def test_html_in_free_text_is_shown_escaped(client, poh):
    client.force_login(poh)
    client.post(
        reverse("referral-create"),
        {
            "bsn": "123456782",
            **VALID,
            **NEW_PATIENT,
            "reason": "<script>alert(1)</script>'; DROP TABLE x;--",
        },
    )
    referral = Referral.objects.get()
    body = client.get(reverse("referral-detail", args=[referral.pk])).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;" in body
