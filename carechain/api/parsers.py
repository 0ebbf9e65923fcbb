"""The REST API's one body format: JSON, with a 400 instead of a crash for absurd nesting."""

from django.utils.translation import gettext as _
from rest_framework import exceptions, parsers

# Deeper than any body of this API (a referral with its patient is three levels), far below the
# depth at which Python's own JSON parser or any later walk over the data gives up.
MAX_DEPTH = 32


def _depth(data) -> int:
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            value = value.values()
        elif not isinstance(value, list):
            continue
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            break
        stack.extend((item, depth + 1) for item in value)
    return deepest


def _too_deep() -> exceptions.ParseError:
    return exceptions.ParseError(_("The body is nested too deeply."))


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise _too_deep() from None
        if _depth(data) > MAX_DEPTH:
            raise _too_deep()
        return data
