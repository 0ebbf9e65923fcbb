import math

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler


class Conflict(exceptions.APIException):
    """409: the request is well-formed, but the resource's current state does not allow it."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = _("This is not possible in the current state of this record.")
    default_code = "conflict"


_conflict_errors: list[type[DjangoValidationError]] = []


def register_conflict(error_class: type[DjangoValidationError]) -> None:
    """Let a higher room declare a 'wrong state' error of its services a 409 instead of a 400.

    Referrals registers ``TransitionRefused``; this module never imports the rooms above it.
    """
    if error_class not in _conflict_errors:
        _conflict_errors.append(error_class)


def _conflict(exc: DjangoValidationError) -> Conflict:
    code = getattr(exc, "code", None) or Conflict.default_code
    return Conflict(detail=" ".join(str(m) for m in exc.messages), code=code)


class BodyTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is larger than this server accepts.")
    default_code = "too_large"


class TooManyRequests(exceptions.Throttled):
    """DRF's 429 with the wait in words a translation can find (DRF formats the number into its
    message before looking it up, so the Dutch catalogue never matches)."""

    def __init__(self, wait: float | None):
        detail = str(_("Too many requests."))
        if wait is not None:
            wait = math.ceil(wait)
            detail += " " + ngettext(
                "Try again in %(wait)d second.", "Try again in %(wait)d seconds.", wait
            ) % {"wait": wait}
        super().__init__(detail=detail)
        self.wait = wait


def translated(exc: Exception) -> Exception:
    """The API's own wording of a DRF exception, where DRF's does not translate."""
    if isinstance(exc, exceptions.Throttled) and not isinstance(exc, TooManyRequests):
        return TooManyRequests(exc.wait)
    return exc


def exception_handler(exc, context):
    """Domain services raise Django's ValidationError; the API answers it as a 400 with field errors.

    A registered 'wrong state' error becomes a 409 Conflict. Django's PermissionDenied and Http404
    keep DRF's own handling (403 and 404).
    """
    exc = translated(exc)
    if isinstance(exc, RequestDataTooBig):
        exc = BodyTooLarge()
    elif isinstance(exc, tuple(_conflict_errors)):
        exc = _conflict(exc)
    elif isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = exceptions.ValidationError(detail=detail)
    return drf_exception_handler(exc, context)
