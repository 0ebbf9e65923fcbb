"""The code step: the app's code, or a recovery code that works once; wrong codes are refused."""

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY

from accounts import services
from audit.models import AuditEvent
from tests.accounts.support import audit_rows, password_login
from tests.otp import confirmed_totp_device, current_code, recovery_codes

CODE_STEP = reverse("two-factor")


@pytest.fixture
def enrolled(coach):
    """The coach with an app and ten recovery codes, as after the set-up."""
    device = confirmed_totp_device(coach)
    codes = recovery_codes(coach)
    return device, codes


def test_the_apps_code_opens_the_page_asked_for(client, coach, enrolled):
    device, _ = enrolled
    password_login(client, coach.username)
    key_before = client.session.session_key
    response = client.post(CODE_STEP, {"code": current_code(device), "next": "/reminders/"})
    assert response["Location"] == "/reminders/"
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.session.session_key != key_before  # a new session key for the higher privilege
    assert client.get(reverse("home")).status_code == 200
    row = audit_rows(AuditEvent.Action.LOGIN)[-1]
    assert (row.user_id, row.channel, row.patient_id) == (coach.pk, "web", None)
    assert row.detail == "second factor passed: authenticator app"


def test_a_next_to_another_site_is_ignored(client, coach, enrolled):
    device, _ = enrolled
    password_login(client, coach.username)
    response = client.post(
        CODE_STEP, {"code": current_code(device), "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_the_same_app_code_is_not_accepted_twice(client, coach, enrolled):
    device, _ = enrolled
    code = current_code(device)
    password_login(client, coach.username)
    client.post(CODE_STEP, {"code": code})
    client.post(reverse("logout"))
    password_login(client, coach.username)
    response = client.post(CODE_STEP, {"code": code})
    assert response.status_code == 200
    assert response.context["form"].errors["code"]


def test_a_recovery_code_works_once(client, coach, enrolled):
    _, codes = enrolled
    password_login(client, coach.username)
    response = client.post(CODE_STEP, {"code": f"{codes[0][:4]}-{codes[0][4:]}".upper()})
    assert response["Location"] == "/"
    assert audit_rows(AuditEvent.Action.LOGIN)[-1].detail == (
        "second factor passed: recovery code (9 left)"
    )
    assert services.recovery_codes_left(coach) == 9
    client.post(reverse("logout"))

    password_login(client, coach.username)
    response = client.post(CODE_STEP, {"code": codes[0]})
    assert response.status_code == 200
    assert response.context["form"].errors["code"]
    assert client.get(reverse("home"))["Location"].startswith(CODE_STEP)
    failed = audit_rows(AuditEvent.Action.LOGIN_FAILED)[-1]
    assert failed.detail == "second factor refused: wrong recovery code"
    assert failed.user_id == coach.pk


def test_a_wrong_code_is_refused_audited_and_slows_the_next_try(client, coach, enrolled):
    device, _ = enrolled
    password_login(client, coach.username)
    response = client.post(CODE_STEP, {"code": "123456"})
    assert response.status_code == 200
    assert response.context["form"].errors["code"]
    (failed,) = audit_rows(AuditEvent.Action.LOGIN_FAILED)
    assert (failed.user_id, failed.patient_id, failed.channel) == (coach.pk, None, "web")
    assert failed.detail == "second factor refused: wrong authenticator app"
    # Straight after a wrong code even the right one waits (django-otp doubles the wait each time).
    response = client.post(CODE_STEP, {"code": current_code(device)})
    assert response.status_code == 200
    assert response.context["form"].errors["code"]
    assert audit_rows(AuditEvent.Action.LOGIN_FAILED)[-1].detail.startswith(
        "second factor refused: too many wrong codes"
    )
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=3)):
        response = client.post(CODE_STEP, {"code": current_code(device)})
        assert response["Location"] == "/"


def test_the_code_step_without_a_password_is_the_login_page(client, db):
    response = client.get(CODE_STEP)
    assert response["Location"].startswith(reverse("login"))
