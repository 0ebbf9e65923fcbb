"""The login steps: password, then the second factor (or setting it up the first time)."""

import base64
import io
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django_otp import login as otp_login

from audit.models import AuditEvent
from carechain.access import Actor

from . import services
from .forms import TwoFactorCodeForm, TwoFactorSetupForm
from .lockout import recent_failures


def _next_url(request) -> str:
    """Where to go after the login: a ``next`` on this site, else the home page."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    if not safe or candidate.startswith((reverse("login"), reverse("logout"))):
        return resolve_url(settings.LOGIN_REDIRECT_URL)
    return candidate


def two_factor_url(next_url: str, name: str = "two-factor") -> str:
    return f"{reverse(name)}?{urlencode({'next': next_url})}"


def _who(request) -> Actor:
    return Actor.for_user(
        request.user, channel=AuditEvent.Channel.WEB, ip=request.META.get("REMOTE_ADDR")
    )


def _refusal(check: services.CodeCheck) -> str:
    if check.locked_until is not None:
        seconds = max(1, int((check.locked_until - timezone.now()).total_seconds()) + 1)
        return _("Too many wrong codes. Wait %(seconds)s seconds and try again.") % {
            "seconds": seconds
        }
    return _("This code is not correct. Check the time on your phone and try the newest code.")


class LoginView(auth_views.LoginView):
    """Django's login page; a correct password leads on to the second factor."""

    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        services.login_password_accepted(
            user=form.get_user(), ip=self.request.META.get("REMOTE_ADDR")
        )
        return response

    def get_success_url(self):
        url = super().get_success_url()
        if services.second_factor_missing(self.request.user):
            return two_factor_url(url)
        return url


def locked_out(request, original_response=None, credentials=None):
    """django-axes' lockout page (AXES_LOCKOUT_CALLABLE): the login page, saying why and how long."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    failures = recent_failures(request, credentials)
    if failures.address_locked and not failures.account_locked:
        message = _(
            "Too many failed login attempts from this network address. For your safety logging in "
            "from here is blocked for %(minutes)s minutes. Try again later, or ask your "
            "administrator."
        ) % {"minutes": minutes}
    else:
        message = _(
            "Too many failed login attempts. For your safety this account is locked for "
            "%(minutes)s minutes. Try again later, or ask your administrator to unlock it."
        ) % {"minutes": minutes}
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    context = {
        "form": AuthenticationForm(request, initial={"username": username}),
        "lockout_message": message,
        "next": _next_url(request),
    }
    return render(request, "registration/login.html", context, status=429)


@never_cache
@login_required
def two_factor(request):
    """The second step: a code from the app, or a recovery code."""
    next_url = _next_url(request)
    if not services.second_factor_missing(request.user):
        return redirect(next_url)
    if services.totp_device_for(request.user) is None:
        return redirect(two_factor_url(next_url, "two-factor-setup"))
    form = TwoFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        check = services.two_factor_verify(
            user=request.user, code=form.cleaned_data["code"], who=_who(request)
        )
        if check.ok:
            otp_login(request, check.device)
            request.session.cycle_key()
            return redirect(next_url)
        form.add_error("code", _refusal(check))
    return render(request, "accounts/two_factor.html", {"form": form, "next": next_url})


def _qr_data_uri(text: str) -> str:
    """The QR code as an SVG data: image, made here: no script, no third party sees the secret."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathFillImage, box_size=12)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


@never_cache
@login_required
def two_factor_setup(request):
    """The first login: scan the QR code, type the app's code, get the recovery codes once."""
    next_url = _next_url(request)
    if not services.second_factor_missing(request.user):
        return redirect(next_url)
    if services.totp_device_for(request.user) is not None:
        # Set up already: only the app (or a recovery code) gets past here, never a new app.
        return redirect(two_factor_url(next_url))
    device = services.two_factor_enrolment_start(user=request.user)
    form = TwoFactorSetupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        check = services.two_factor_enrol(
            user=request.user,
            device_id=device.pk,
            code=form.cleaned_data["code"],
            who=_who(request),
        )
        if check.ok:
            otp_login(request, check.device)
            request.session.cycle_key()
            # Rendered, not redirected to: the codes are in no session and no later page.
            return render(
                request,
                "accounts/recovery_codes.html",
                {"codes": [f"{c[:4]}-{c[4:]}" for c in check.recovery_codes], "next": next_url},
            )
        form.add_error("code", _refusal(check))
    secret = base64.b32encode(device.bin_key).decode("ascii")
    context = {
        "form": form,
        "next": next_url,
        "qr": _qr_data_uri(device.config_url),
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
    }
    return render(request, "accounts/two_factor_setup.html", context)
