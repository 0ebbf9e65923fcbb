from django.http import JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from . import services
from .views import two_factor_url

# The login steps themselves, logging out, the language switch and the load balancer's check.
OPEN_URL_NAMES = frozenset(
    {"login", "logout", "two-factor", "two-factor-setup", "set_language", "healthz"}
)
# Machine endpoints answer in JSON; API keys never have a session, so they never land here.
MACHINE_PREFIXES = ("/api/", "/fhir")


class TwoFactorRequiredMiddleware:
    """After the password, nothing but the second-factor steps until the session is verified.

    Installed after django-otp's ``OTPMiddleware``, which gives ``request.user.is_verified()``.
    A browser session that passed only the password cannot use the REST API or FHIR either.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is not None and not match.namespace and match.url_name in OPEN_URL_NAMES:
            return None
        if not services.second_factor_missing(request.user):
            return None
        if request.path_info.startswith(MACHINE_PREFIXES):
            return JsonResponse(
                {"detail": _("Two-factor authentication required: finish logging in first.")},
                status=403,
            )
        return redirect(two_factor_url(request.get_full_path()))
