"""Five wrong passwords lock the account for 15 minutes; thirty from one address lock the address.

All of it audited. The address has the higher limit because a GP practice logs in from one.
"""

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from tests.accounts.support import audit_rows, password_login


@pytest.fixture
def locked(client, poh):
    """Five wrong passwords for the POH-S from one address."""
    responses = [password_login(client, poh.username, "wrong-password") for _ in range(5)]
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 429]
    return poh


def test_five_wrong_passwords_then_the_right_one_is_refused_with_the_lockout_message(
    client, locked
):
    response = password_login(client, locked.username)
    assert response.status_code == 429
    html = response.content.decode()
    assert 'id="locked-out"' in html
    assert "15" in response.context["lockout_message"]
    assert not response.wsgi_request.user.is_authenticated
    assert client.get(reverse("home"))["Location"].startswith(reverse("login"))
    assert not audit_rows(AuditEvent.Action.LOGIN)


def test_failed_logins_and_the_lockout_are_audited(client, locked):
    password_login(client, locked.username)
    failed = audit_rows(AuditEvent.Action.LOGIN_FAILED)
    assert len(failed) == 5
    assert {(r.user_id, r.username, r.patient_id, r.channel) for r in failed} == {
        (locked.pk, locked.username, None, "web")
    }
    assert failed[0].detail == "wrong username or password"
    assert failed[0].ip == "127.0.0.1"
    lock, refused = audit_rows(AuditEvent.Action.LOCKOUT)
    assert lock.detail == "locked for 15 minutes after 5 failed logins"
    assert refused.detail == "login refused: locked after repeated failed logins"
    assert (refused.user_id, refused.patient_id, refused.channel) == (locked.pk, None, "web")


def test_another_address_does_not_unlock_the_username(client, locked):
    response = password_login(client, locked.username, REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 429


def test_one_persons_wrong_passwords_do_not_lock_out_colleagues_at_the_same_address(
    client, locked, gp
):
    response = password_login(client, gp.username)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two-factor"))


def test_many_failed_logins_from_one_address_lock_the_address(client, settings, gp):
    for n in range(settings.AXES_ADDRESS_FAILURE_LIMIT):
        password_login(client, f"guess{n}", "wrong-password")

    response = password_login(client, gp.username)

    assert response.status_code == 429
    assert "netwerkadres" in response.context["lockout_message"]
    assert not response.wsgi_request.user.is_authenticated
    assert password_login(client, gp.username, REMOTE_ADDR="10.1.2.3").status_code == 302
    lock, refused = audit_rows(AuditEvent.Action.LOCKOUT)
    assert lock.detail == (
        f"address locked for 15 minutes after {settings.AXES_ADDRESS_FAILURE_LIMIT} failed "
        "logins from it"
    )
    assert refused.detail == "login refused: address locked after repeated failed logins"
    assert refused.username == gp.username


def test_after_fifteen_minutes_the_right_password_works_again(client, locked):
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=14)):
        assert password_login(client, locked.username).status_code == 429
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=16)):
        response = password_login(client, locked.username)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("two-factor"))


def test_an_unknown_username_is_audited_without_a_user(client, db):
    password_login(client, "nobody.here", "whatever-password")
    (row,) = audit_rows(AuditEvent.Action.LOGIN_FAILED)
    assert (row.user_id, row.username) == (None, "nobody.here")
