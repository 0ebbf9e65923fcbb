"""Sessions end after 15 idle minutes and with the browser; production cookies are locked down."""

import ast
import datetime
import os
import subprocess
import sys
from pathlib import Path

import time_machine
from django.urls import reverse
from django.utils import timezone

from tests.otp import verified_login

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "k" * 30 + "Qz9!kLp2@#vB7&mN4^rT6*wY1"
PRODUCTION = {"DEBUG": "false", "SECRET_KEY": STRONG_KEY, "ALLOWED_HOSTS": "smr.example.nl"}


def test_a_session_ends_after_fifteen_minutes_without_activity(client, coach):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        verified_login(client, coach)
        assert client.get(reverse("home")).status_code == 200
        clock.shift(datetime.timedelta(minutes=14))
        assert client.get(reverse("home")).status_code == 200  # activity: 15 minutes from now
        clock.shift(datetime.timedelta(minutes=14))
        assert client.get(reverse("home")).status_code == 200
        clock.shift(datetime.timedelta(minutes=16))
        response = client.get(reverse("home"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_the_session_cookie_ends_with_the_browser(client, coach):
    verified_login(client, coach)
    cookie = client.get(reverse("home")).cookies["sessionid"]
    assert cookie["expires"] == "" and cookie["max-age"] == ""
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


def _production_settings(*names, **env):
    code = (
        "import django; django.setup(); from django.conf import settings; "
        f"print(repr([getattr(settings, n) for n in {list(names)!r}]))"
    )
    keep = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "DATABASE_URL"}}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**keep, "DJANGO_SETTINGS_MODULE": "smr.settings", **PRODUCTION, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return result


def test_production_cookies_are_secure_httponly_and_samesite_with_hsts_and_no_framing():
    names = [
        "SESSION_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "SESSION_COOKIE_SAMESITE",
        "CSRF_COOKIE_SECURE",
        "CSRF_COOKIE_SAMESITE",
        "LANGUAGE_COOKIE_SECURE",
        "LANGUAGE_COOKIE_HTTPONLY",
        "SECURE_HSTS_SECONDS",
        "X_FRAME_OPTIONS",
        "SESSION_COOKIE_AGE",
        "SESSION_EXPIRE_AT_BROWSER_CLOSE",
        "SESSION_SAVE_EVERY_REQUEST",
        "OTP_REQUIRED",
    ]
    result = _production_settings(*names)
    assert result.returncode == 0, result.stderr
    assert ast.literal_eval(result.stdout.strip()) == [
        True,
        True,
        "Lax",
        True,
        "Lax",
        True,
        True,
        31536000,
        "DENY",
        900,
        True,
        True,
        True,
    ]


def test_production_refuses_to_start_without_the_second_factor():
    result = _production_settings("OTP_REQUIRED", OTP_REQUIRED="false")
    assert result.returncode != 0
    assert "OTP_REQUIRED" in result.stderr
