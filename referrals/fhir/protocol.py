"""FHIR over HTTP: JSON in and out as application/fhir+json, every failure as an OperationOutcome.

DRF does the authentication, throttling and content negotiation; this module replaces its parsers,
renderers and error bodies with FHIR ones. An integration never sees an HTML error page or a 500
for bad input: it sees which element is wrong.
"""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions
from rest_framework.parsers import BaseParser
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.renderers import BaseRenderer
from rest_framework.response import Response
from rest_framework.views import set_rollback

from carechain.api.exceptions import translated
from carechain.api.renderers import RawJSON
from carechain.models import OrganisationAPIKey

from ..services import TransitionRefused
from .errors import FhirError, Issue
from .fhir_out import operation_outcome

FHIR_JSON = "application/fhir+json"

logger = logging.getLogger(__name__)


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = gettext_lazy("The body is larger than this server accepts.")
    default_code = "too_large"


class FhirJsonParser(BaseParser):
    """JSON with Django's upload limit, which DRF's own parsers do not apply to a raw body."""

    media_type = FHIR_JSON

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if limit is not None and declared and declared.isdigit() and int(declared) > limit:
            raise _too_large(limit)
        raw = stream.read(limit + 1) if limit is not None else stream.read()
        if limit is not None and len(raw) > limit:
            raise _too_large(limit)
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise exceptions.ParseError(
                _("The body is not valid JSON: %(error)s") % {"error": exc}
            ) from None
        except RecursionError:
            raise exceptions.ParseError(_("The body is nested too deeply.")) from None


class JsonParser(FhirJsonParser):
    media_type = "application/json"


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(_("The body is larger than %(limit)s bytes.") % {"limit": limit})


class FhirJsonRenderer(BaseRenderer):
    media_type = FHIR_JSON
    format = "fhir"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        if isinstance(data, RawJSON):
            return data.encoded()
        if hasattr(data, "model_dump_json"):
            return data.model_dump_json().encode()
        return json.dumps(data, ensure_ascii=False).encode()


class JsonRenderer(FhirJsonRenderer):
    media_type = "application/json"
    format = "json"


class ReferrerKeyRequired(BasePermission):
    """A practice's or zorggroep's key: referral intake for everything, a feedback key only to read
    (Task, ServiceRequest, feedback Bundles); an insurer's claims key is refused."""

    message = gettext_lazy("This API key is not for referral intake.")

    def has_permission(self, request, view) -> bool:
        key = request.auth
        if not isinstance(key, OrganisationAPIKey):
            return False
        if key.purpose == OrganisationAPIKey.Purpose.REFERRAL_INTAKE:
            return True
        return key.purpose == OrganisationAPIKey.Purpose.FEEDBACK and request.method in SAFE_METHODS


def fhir_body(request) -> object:
    """The parsed body, refusing a missing or foreign content type before reading it."""
    media_type = (request.content_type or "").split(";")[0].strip().lower()
    if media_type not in {parser.media_type for parser in request.parsers}:
        raise exceptions.UnsupportedMediaType(media_type or "-")
    return request.data


def fhir_exception_handler(exc, context):
    """DRF exception handler answering with an OperationOutcome; unknown errors stay 500s."""
    headers = {}
    exc = translated(exc)
    if isinstance(exc, FhirError):
        status, issues = exc.status, exc.issues
    elif isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        status = exc.status_code
        issues = [
            Issue(
                "login",
                _("%(detail)s Send 'Authorization: Api-Key <key>'.") % {"detail": exc.detail},
            )
        ]
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
    elif isinstance(exc, exceptions.PermissionDenied | DjangoPermissionDenied):
        status = 403
        detail = getattr(exc, "detail", None) or _("Your organisation may not do this.")
        issues = [Issue("forbidden", str(detail))]
    elif isinstance(exc, Http404 | exceptions.NotFound):
        status = 404
        issues = [Issue("not-found", _("No such resource is visible to your organisation."))]
    elif isinstance(exc, exceptions.UnsupportedMediaType):
        status = 415
        issues = [
            Issue(
                "not-supported",
                _("%(detail)s Send the body as application/fhir+json.") % {"detail": exc.detail},
            )
        ]
    elif isinstance(exc, exceptions.ParseError):
        status, issues = 400, [Issue("structure", str(exc.detail))]
    elif isinstance(exc, PayloadTooLarge | RequestDataTooBig):
        status = 413
        issues = [Issue("too-costly", str(getattr(exc, "detail", exc)))]
    elif isinstance(exc, exceptions.Throttled):
        status, issues = 429, [Issue("throttled", str(exc.detail))]
        if exc.wait:
            headers["Retry-After"] = str(int(exc.wait))
    elif isinstance(exc, DjangoValidationError):
        status, issues = 422, _validation_issues(exc)
    elif isinstance(exc, OperationalError | InterfaceError):
        # The database connection dropped or a lock timed out: the transaction was rolled back
        # whole, so the same delivery can simply be sent again (intake is idempotent).
        logger.warning("FHIR request failed on the database, answered 503: %s", exc)
        status = 503
        issues = [Issue("transient", _("Temporarily unavailable; send the same request again."))]
        headers["Retry-After"] = "1"
    elif isinstance(exc, exceptions.APIException):
        status = exc.status_code
        code = "not-supported" if status in (405, 406) else "processing"
        issues = [Issue(code, str(exc.detail))]
    else:
        return None
    set_rollback()
    return Response(operation_outcome(issues), status=status, headers=headers)


def _validation_issues(exc: DjangoValidationError) -> list[Issue]:
    code = "business-rule" if isinstance(exc, TransitionRefused) else "invariant"
    if hasattr(exc, "error_dict"):
        return [
            Issue(code, message if field == "__all__" else f"{field}: {message}")
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    return [Issue(code, message) for message in exc.messages]
