"""Passing the second factor in tests: in the test client, and typed into Chromium like a person.

``client.force_login`` already passes it (tests/otp_plugin.py); ``unverified_login`` does not, for
the tests of the second factor itself.
"""

import time

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import hotp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice


def confirmed_totp_device(user) -> TOTPDevice:
    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name="test app", confirmed=True)


def recovery_codes(user, count: int = 10) -> list[str]:
    """Recovery codes as the set-up hands them out (there: ten, shown once)."""
    device = StaticDevice.objects.create(user=user, name="test recovery codes", confirmed=True)
    codes = [f"code{n:04d}" for n in range(count)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def mark_verified(client: Client, user) -> TOTPDevice:
    """What django_otp.login() does after a good code: the session remembers the device."""
    device = confirmed_totp_device(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


def unverified_login(client: Client, user) -> None:
    """Password done, second factor not yet: Django's own force_login, without the plugin's step."""
    getattr(Client.force_login, "unverified", Client.force_login)(client, user)


def verified_login(client: Client, user) -> TOTPDevice:
    unverified_login(client, user)
    return mark_verified(client, user)


def current_code(device: TOTPDevice) -> str:
    """The code the person's app shows now, as the server will accept it.

    The server takes each time step once (``last_t``); logging in twice within 30 seconds needs the
    next step's code, which it still accepts (tolerance), or else a short wait for a new step.
    """
    while True:
        device.refresh_from_db()
        now_t = (int(time.time()) - device.t0) // device.step + device.drift
        t = max(now_t, device.last_t + 1)
        if t <= now_t + device.tolerance:
            return str(hotp(device.bin_key, t, digits=device.digits)).zfill(device.digits)
        time.sleep(device.step - time.time() % device.step + 0.1)


def complete_2fa(page, user) -> None:
    """In Chromium, after the password: set the app up the first time, else type its code.

    The set-up reads the secret the page showed from the database, as a phone would scan it.
    """
    page.wait_for_load_state()
    if "/login/two-factor/setup/" in page.url:
        device = TOTPDevice.objects.get(user=user, confirmed=False)
        page.fill("#id_code", current_code(device))
        page.click("#confirm-setup")
        page.wait_for_selector("#recovery-codes")
        page.click("#continue")
    elif "/login/two-factor/" in page.url:
        page.fill("#id_code", current_code(TOTPDevice.objects.get(user=user, confirmed=True)))
        page.click("#verify")
    page.wait_for_load_state()
