"""Logging in with a second factor, as NEN 7510 asks of everyone who can see patient data.

After the password the session is authenticated but not yet *verified* (django-otp's word);
``TwoFactorRequiredMiddleware`` then allows nothing but the second-factor steps. A person verifies
with a code from an authenticator app (django-otp's TOTP device) or with one of ten one-time
recovery codes (its static device). The first time, the person sets the app up (enrolment). Every
step, every failure and every reset is an audit row without a patient (``patient_id=None``).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import django_otp
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEvent
from audit.services import Who, audit_record
from carechain.access import Actor
from carechain.models import Membership, User

from .lockout import recent_failures

RECOVERY_CODE_COUNT = 10
APP_DEVICE_NAME = "authenticator app"
RECOVERY_DEVICE_NAME = "recovery codes"


@dataclass(frozen=True)
class LoginAttempt:
    """The audit's ``Who`` for a login that did not succeed: only the name typed is known."""

    audit_username: str
    audit_user_id: int | None = None
    ip: str | None = None
    channel: str = AuditEvent.Channel.WEB
    audit_api_key: str = ""
    audit_roles: str = ""
    audit_organisation: str = ""


@dataclass(frozen=True)
class CodeCheck:
    """The outcome of a typed second-factor code."""

    device: Device | None = None
    locked_until: datetime.datetime | None = None
    recovery_codes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.device is not None


# -- who must pass a second factor ------------------------------------------------------------------
def otp_required_for(user) -> bool:
    """Everyone who can see patient data (an active membership), and whoever can use the admin."""
    if not settings.OTP_REQUIRED or not user.is_authenticated:
        return False
    if user.is_superuser or user.is_staff:
        return True
    return Membership.objects.filter(user_id=user.pk, is_active=True).exists()


def is_verified(user) -> bool:
    """django-otp's ``user.is_verified()``; a user object fresh from ``login()`` has none yet."""
    check = getattr(user, "is_verified", None)
    return bool(check and check())


def second_factor_missing(user) -> bool:
    return user.is_authenticated and not is_verified(user) and otp_required_for(user)


def totp_device_for(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).order_by("pk").first()


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user_id=user.pk, device__confirmed=True).count()


def normalise_code(raw: str) -> str:
    """Codes are typed with spaces or dashes ("123 456", "abcd-efgh"); recovery codes in any case."""
    return "".join(ch for ch in raw.lower() if ch.isalnum())


def _throttled_until(device: Device) -> datetime.datetime | None:
    """django-otp doubles the wait after every wrong code (1, 2, 4, ... seconds) per device."""
    allowed, data = device.verify_is_allowed()
    if allowed:
        return None
    return (data or {}).get("locked_until") or timezone.now()


def _fail(who: Who, detail: str, locked_until=None) -> CodeCheck:
    audit_record(who=who, action=AuditEvent.Action.LOGIN_FAILED, patient_id=None, detail=detail)
    return CodeCheck(locked_until=locked_until)


# -- the login steps -------------------------------------------------------------------------------
def login_password_accepted(*, user, ip: str | None) -> None:
    who = Actor.for_user(user, channel=AuditEvent.Channel.WEB, ip=ip)
    detail = "password accepted; second factor next" if otp_required_for(user) else "logged in"
    audit_record(who=who, action=AuditEvent.Action.LOGIN, patient_id=None, detail=detail)


def two_factor_enrolment_start(*, user) -> TOTPDevice:
    """The unconfirmed device whose secret the set-up page shows: the same one on every reload."""
    device = TOTPDevice.objects.filter(user_id=user.pk, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)
    return device


@transaction.atomic
def two_factor_enrol(*, user, device_id: int, code: str, who: Who) -> CodeCheck:
    """Confirm the app with its first code; then ten new recovery codes, to be shown once."""
    device = (
        TOTPDevice.objects.select_for_update()
        .filter(pk=device_id, user_id=user.pk, confirmed=False)
        .first()
    )
    if device is None:
        return _fail(who, "two-factor set-up: the device was already confirmed or removed")
    locked_until = _throttled_until(device)
    if locked_until is not None:
        return _fail(who, "two-factor set-up: too many wrong codes, waiting", locked_until)
    if not device.verify_token(normalise_code(code)):
        return _fail(who, "two-factor set-up: wrong code")
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user_id=user.pk).exclude(pk=device.pk).delete()
    codes = _recovery_codes_replace(user)
    audit_record(
        who=who,
        action=AuditEvent.Action.SECURITY,
        patient_id=None,
        obj=user,
        detail=f"two-factor authentication set up: authenticator app and {len(codes)} recovery codes",
    )
    audit_record(
        who=who,
        action=AuditEvent.Action.LOGIN,
        patient_id=None,
        detail="second factor passed: authenticator app set up",
    )
    return CodeCheck(device=device, recovery_codes=codes)


def _recovery_codes_replace(user) -> tuple[str, ...]:
    StaticDevice.objects.filter(user_id=user.pk).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes: list[str] = []
    while len(codes) < RECOVERY_CODE_COUNT:
        token = StaticToken.random_token()
        if token not in codes:
            codes.append(token)
    StaticToken.objects.bulk_create(StaticToken(device=device, token=t) for t in codes)
    return tuple(codes)


def two_factor_verify(*, user, code: str, who: Who) -> CodeCheck:
    """A code from the app (digits only) or a recovery code (used up by this login)."""
    code = normalise_code(code)
    app = totp_device_for(user)
    if app is not None and code.isdigit() and len(code) == app.digits:
        device, kind = app, "authenticator app"
    else:
        device = StaticDevice.objects.filter(user_id=user.pk, confirmed=True).first()
        kind = "recovery code"
    if device is None or not code:
        return _fail(who, f"second factor refused: wrong {kind}")
    locked_until = _throttled_until(device)
    if locked_until is not None:
        return _fail(
            who, f"second factor refused: too many wrong codes ({kind}), waiting", locked_until
        )
    verified = django_otp.verify_token(user, device.persistent_id, code)
    if verified is None:
        return _fail(who, f"second factor refused: wrong {kind}")
    detail = f"second factor passed: {kind}"
    if isinstance(verified, StaticDevice):
        detail += f" ({verified.token_set.count()} left)"
    audit_record(who=who, action=AuditEvent.Action.LOGIN, patient_id=None, detail=detail)
    return CodeCheck(device=verified)


# -- the administrator -----------------------------------------------------------------------------
@transaction.atomic
def two_factor_reset(*, user_id: int, by: Actor) -> None:
    """Lost phone: remove the app and the recovery codes; the next login sets the app up again.

    A session verified with the removed device stops being verified at its next request.
    """
    if by.user is None or not by.user.is_staff:
        raise PermissionDenied
    user = User.objects.select_for_update().get(pk=user_id)
    TOTPDevice.objects.filter(user_id=user.pk).delete()
    StaticDevice.objects.filter(user_id=user.pk).delete()
    audit_record(
        who=by,
        action=AuditEvent.Action.SECURITY,
        patient_id=None,
        obj=user,
        detail=f"two-factor authentication reset for {user.username}",
    )


# -- django-axes and Django's login signals --------------------------------------------------------
def _attempt(username: str, ip: str | None) -> LoginAttempt:
    username = (username or "")[:150]
    user_id = User.objects.filter(username=username).values_list("pk", flat=True).first()
    return LoginAttempt(audit_username=username, audit_user_id=user_id, ip=ip or None)


def on_login_failed(sender, credentials=None, request=None, **kwargs) -> None:
    """Django's ``user_login_failed``: a wrong username or password typed on the login page."""
    if request is None:
        return
    # django-axes refused the attempt without checking the password (the account is locked): it
    # sends ``user_locked_out`` for that one, and ``on_locked_out`` writes its row.
    refused_while_locked = getattr(request, "axes_locked_out", False) and (
        getattr(request, "axes_failures_since_start", None) is None
    )
    if refused_while_locked:
        return
    who = _attempt((credentials or {}).get("username", ""), request.META.get("REMOTE_ADDR"))
    audit_record(
        who=who,
        action=AuditEvent.Action.LOGIN_FAILED,
        patient_id=None,
        detail="wrong username or password",
    )


def on_locked_out(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    """django-axes' ``user_locked_out``: the lock starts now, or a login was refused during it."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    starts_now = getattr(request, "axes_failures_since_start", None) is not None
    failures = recent_failures(request, {"username": username or ""})
    if failures.address_locked and not failures.account_locked:
        detail = (
            f"address locked for {minutes} minutes after {failures.by_address} failed logins "
            "from it"
            if starts_now
            else "login refused: address locked after repeated failed logins"
        )
    else:
        detail = (
            f"locked for {minutes} minutes after {failures.by_username} failed logins"
            if starts_now
            else "login refused: locked after repeated failed logins"
        )
    audit_record(
        who=_attempt(username or "", ip_address),
        action=AuditEvent.Action.LOCKOUT,
        patient_id=None,
        detail=detail,
    )
