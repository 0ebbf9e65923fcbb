from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework_api_key.permissions import KeyParser

from carechain.models import OrganisationAPIKey


class APIClient:
    """The ``request.user`` of a request authenticated by an organisation API key (not a person)."""

    is_authenticated = True
    is_active = True
    is_anonymous = False
    is_staff = False
    is_superuser = False

    def __init__(self, key: OrganisationAPIKey):
        self.api_key = key
        self.pk = self.id = f"key:{key.prefix}"
        self.username = ""

    def __str__(self) -> str:
        return f"API key {self.api_key.prefix}"


class OrganisationAPIKeyAuthentication(authentication.BaseAuthentication):
    """``Authorization: Api-Key <key>`` (or ``X-Api-Key``); revoked and expired keys are refused."""

    keyword = "Api-Key"
    parser = KeyParser()

    def authenticate(self, request):
        django_request = request._request
        key = self.parser.get_from_authorization(django_request) or self.parser.get_from_header(
            django_request, "HTTP_X_API_KEY"
        )
        if not key:
            return None
        # Revoked keys too: the holder of a revoked key is told so, not that it never existed.
        keys = OrganisationAPIKey.objects.select_related("organisation")
        api_key = keys.filter(prefix=key.partition(".")[0]).first()
        if api_key is None or not api_key.is_valid(key):
            raise exceptions.AuthenticationFailed(_("Unknown API key."))
        if not api_key.is_usable:
            raise exceptions.AuthenticationFailed(_("This API key is revoked or expired."))
        if not api_key.organisation.is_active:
            raise exceptions.AuthenticationFailed(
                _("The organisation of this API key is inactive.")
            )
        return APIClient(api_key), api_key

    def authenticate_header(self, request):
        return self.keyword


class OrganisationAPIKeyScheme(OpenApiAuthenticationExtension):
    target_class = OrganisationAPIKeyAuthentication
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`: an API key of your organisation, made in the admin.",
        }
