"""The admin asks for the second factor as well, and resets it for a person who lost it (audited)."""

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from accounts.admin import VerifiedAdminSite
from audit.models import AuditEvent
from tests import factories
from tests.accounts.support import audit_rows
from tests.otp import confirmed_totp_device, recovery_codes, unverified_login, verified_login

CHANGELIST = reverse("admin:accounts_twofactoruser_changelist")


@pytest.fixture
def superuser(db):
    return factories.UserFactory(username="beheer", is_staff=True, is_superuser=True)


def test_the_admin_site_is_django_otps(db):
    assert isinstance(admin.site, VerifiedAdminSite)
    assert not admin.site.is_registered(TOTPDevice)
    assert not admin.site.is_registered(StaticDevice)


def test_admin_without_the_second_factor_is_sent_to_it(client, superuser):
    unverified_login(client, superuser)
    response = client.get(reverse("admin:index"))
    assert response["Location"].startswith(reverse("two-factor"))


def test_admin_site_refuses_an_unverified_staff_member_on_its_own(superuser):
    request = RequestFactory().get("/admin/")
    request.user = superuser
    superuser.is_verified = lambda: False
    assert not admin.site.has_permission(request)
    superuser.is_verified = lambda: True
    assert admin.site.has_permission(request)


def test_admin_after_the_second_factor_opens(client, superuser):
    verified_login(client, superuser)
    assert client.get(reverse("admin:index")).status_code == 200


def test_admin_login_page_is_our_login_page(client, db):
    response = client.get(reverse("admin:index"), follow=True)
    assert response.redirect_chain[-1][0].startswith(f"{reverse('login')}?next=/admin/")


def test_a_verified_person_without_staff_rights_gets_403_not_a_loop(client, poh):
    verified_login(client, poh)
    response = client.get(reverse("admin:index"), follow=True)
    assert response.status_code == 403


def test_admin_resets_the_second_factor_and_it_is_audited(client, superuser, coach):
    confirmed_totp_device(coach)
    recovery_codes(coach)
    coach_client = client_class_login(coach)
    assert coach_client.get(reverse("home")).status_code == 200

    verified_login(client, superuser)
    response = client.post(
        CHANGELIST, {"action": "reset_two_factor", "_selected_action": [coach.pk]}
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=coach).exists()
    assert not StaticDevice.objects.filter(user=coach).exists()
    (row,) = audit_rows(AuditEvent.Action.SECURITY)
    assert (row.user_id, row.username, row.channel) == (superuser.pk, "beheer", "admin")
    assert (row.object_type, row.object_id, row.patient_id) == (
        "carechain.user",
        str(coach.pk),
        None,
    )
    assert row.detail == f"two-factor authentication reset for {coach.username}"
    # The coach's session, verified with the removed app, must set up a new app first.
    response = coach_client.get(reverse("home"))
    assert response["Location"].startswith(reverse("two-factor"))


def test_the_reset_is_on_the_people_admin_as_well(client, superuser, coach):
    confirmed_totp_device(coach)
    verified_login(client, superuser)
    url = reverse("admin:carechain_user_changelist")
    actions = dict(client.get(url).context["action_form"].fields["action"].choices)
    assert "reset_two_factor" in actions
    client.post(url, {"action": "reset_two_factor", "_selected_action": [coach.pk]})
    assert not TOTPDevice.objects.filter(user=coach).exists()
    assert audit_rows(AuditEvent.Action.SECURITY)[0].object_id == str(coach.pk)


def test_the_two_factor_list_shows_who_has_an_app(client, superuser, coach, poh):
    confirmed_totp_device(coach)
    recovery_codes(coach)
    verified_login(client, superuser)
    response = client.get(CHANGELIST)
    rows = {u.username: u for u in response.context["cl"].result_list}
    assert rows[coach.username]._has_app and rows[coach.username]._codes_left == 10
    assert not rows[poh.username]._has_app and rows[poh.username]._codes_left == 0


def test_only_staff_may_reset(coach, poh):
    from django.core.exceptions import PermissionDenied

    from carechain.access import Actor

    with pytest.raises(PermissionDenied):
        services.two_factor_reset(user_id=poh.pk, by=Actor.for_user(coach))


def client_class_login(user):
    from django.test import Client

    other = Client()
    verified_login(other, user)
    return other
