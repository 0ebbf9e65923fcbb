"""The first login: scan a QR code, confirm with the app's code, receive recovery codes once."""

import base64
import re

from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.services import RECOVERY_CODE_COUNT
from audit.models import AuditEvent
from tests.accounts.support import audit_rows, password_login
from tests.otp import current_code

SETUP = reverse("two-factor-setup")


def _setup_page(client, user):
    password_login(client, user.username)
    return client.get(SETUP)


def test_setup_page_shows_the_qr_code_as_an_inline_image_and_the_key(client, coach):
    response = _setup_page(client, coach)
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    html = response.content.decode()
    device = TOTPDevice.objects.get(user=coach, confirmed=False)
    qr = re.search(r'<img class="qr" src="data:image/svg\+xml;base64,([^"]+)"', html)
    assert qr and b"<svg" in base64.b64decode(qr.group(1))
    secret = base64.b32encode(device.bin_key).decode()
    assert secret[:4] + " " + secret[4:8] in html
    assert "<script" not in html


def test_reloading_the_setup_page_keeps_the_same_secret(client, coach):
    _setup_page(client, coach)
    client.get(SETUP)
    assert TOTPDevice.objects.filter(user=coach).count() == 1


def test_the_apps_code_confirms_and_the_recovery_codes_are_shown_once(client, coach):
    _setup_page(client, coach)
    device = TOTPDevice.objects.get(user=coach, confirmed=False)
    response = client.post(SETUP, {"code": current_code(device), "next": "/"})
    assert response.status_code == 200
    html = response.content.decode()
    shown = re.findall(r"<li><code>([a-z2-7]{4})-([a-z2-7]{4})</code></li>", html)
    assert len(shown) == RECOVERY_CODE_COUNT
    stored = set(StaticToken.objects.filter(device__user=coach).values_list("token", flat=True))
    assert {a + b for a, b in shown} == stored
    device.refresh_from_db()
    assert device.confirmed
    # The session passed the second factor; the codes are on no later page.
    home = client.get(reverse("home"))
    assert home.status_code == 200
    assert client.get(SETUP)["Location"] == "/"
    assert not any(a + b in home.content.decode() for a, b in shown)
    (security,) = audit_rows(AuditEvent.Action.SECURITY)
    assert security.user_id == coach.pk
    assert security.object_id == str(coach.pk) and security.patient_id is None
    assert "set up" in security.detail
    assert audit_rows(AuditEvent.Action.LOGIN)[-1].detail.startswith("second factor passed")


def test_a_wrong_code_does_not_confirm_the_app_and_is_audited(client, coach):
    _setup_page(client, coach)
    response = client.post(SETUP, {"code": "000000"})
    assert response.status_code == 200
    assert response.context["form"].errors["code"]
    assert not TOTPDevice.objects.filter(user=coach, confirmed=True).exists()
    assert not StaticToken.objects.exists()
    (failed,) = audit_rows(AuditEvent.Action.LOGIN_FAILED)
    assert (failed.user_id, failed.channel, failed.patient_id) == (coach.pk, "web", None)
    assert client.get(reverse("home"))["Location"].startswith(reverse("two-factor"))


def test_with_an_app_set_up_the_password_cannot_set_up_another(client, coach):
    _setup_page(client, coach)
    device = TOTPDevice.objects.get(user=coach, confirmed=False)
    client.post(SETUP, {"code": current_code(device)})
    client.post(reverse("logout"))
    # Someone who knows only the password gets the code step, never a new QR code.
    password_login(client, coach.username)
    response = client.get(SETUP)
    assert response["Location"] == f"{reverse('two-factor')}?next=%2F"
    assert TOTPDevice.objects.filter(user=coach).count() == 1
