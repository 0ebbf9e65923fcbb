"""Everyone who can see patient data passes a second factor before any page with patient data."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from carechain.models import Role
from tests import factories
from tests.accounts.support import audit_rows, password_login
from tests.otp import confirmed_totp_device, unverified_login, verified_login


@pytest.fixture
def patient(chain):
    return factories.PatientFactory(practice=chain.practice_a, last_name="Geheimhouder")


def test_password_alone_leads_to_the_second_factor_not_to_the_home_page(client, poh):
    confirmed_totp_device(poh)
    response = password_login(client, poh.username)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('two-factor')}?next=%2F"
    (row,) = audit_rows(AuditEvent.Action.LOGIN)
    assert (row.user_id, row.patient_id, row.channel) == (poh.pk, None, "web")
    assert row.detail == "password accepted; second factor next"


def test_first_login_leads_to_setting_up_the_app(client, poh):
    response = password_login(client, poh.username)
    assert response["Location"] == f"{reverse('two-factor')}?next=%2F"
    response = client.get(response["Location"])
    assert response["Location"] == f"{reverse('two-factor-setup')}?next=%2F"


def test_unverified_session_is_sent_to_the_second_factor_not_served_patient_pages(
    client, poh, patient
):
    unverified_login(client, poh)
    for url in (reverse("patient-list"), reverse("patient-detail", args=[patient.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(f"{reverse('two-factor')}?next=")
        assert "Geheimhouder" not in response.content.decode()
    assert not AuditEvent.objects.filter(patient_id=patient.pk).exists()


def test_unverified_session_keeps_the_next_page_for_after_the_code(client, poh, patient):
    unverified_login(client, poh)
    url = reverse("patient-detail", args=[patient.pk])
    response = client.get(url)
    assert response["Location"] == f"{reverse('two-factor')}?next=%2Fpatients%2F{patient.pk}%2F"


def test_unverified_session_cannot_use_the_rest_api(client, coach):
    unverified_login(client, coach)
    response = client.get("/api/referrals/")
    assert response.status_code == 403
    assert "results" not in response.json()


def test_unverified_session_may_log_out_and_switch_language(client, poh):
    unverified_login(client, poh)
    assert client.post(reverse("set_language"), {"language": "en"}).status_code == 302
    assert client.get(reverse("healthz")).status_code in (200, 503)
    response = client.post(reverse("logout"))
    assert response["Location"] == reverse("login")
    assert client.get(reverse("home"))["Location"].startswith(reverse("login"))


def test_verified_session_sees_the_patient(client, poh, patient):
    verified_login(client, poh)
    response = client.get(reverse("patient-detail", args=[patient.pk]))
    assert response.status_code == 200
    assert "Geheimhouder" in response.content.decode()


def test_superuser_without_membership_needs_the_second_factor_too(client, db):
    admin = factories.UserFactory(is_superuser=True, is_staff=True)
    unverified_login(client, admin)
    assert client.get(reverse("home"))["Location"].startswith(reverse("two-factor"))


def test_a_person_without_any_role_sees_no_patient_data_and_is_not_asked(client, db):
    nobody = factories.UserFactory()
    unverified_login(client, nobody)
    assert client.get(reverse("home")).status_code == 200


def test_an_inactive_membership_is_no_role(client, chain):
    former = factories.MembershipFactory(organisation=chain.practice_a, role=Role.POH_S).user
    former.memberships.update(is_active=False)
    unverified_login(client, former)
    assert client.get(reverse("home")).status_code == 200


def test_switched_off_on_a_development_machine_the_password_is_enough(client, poh, settings):
    settings.OTP_REQUIRED = False
    response = password_login(client, poh.username)
    assert response["Location"] == "/"
    assert client.get(reverse("patient-list")).status_code == 200
