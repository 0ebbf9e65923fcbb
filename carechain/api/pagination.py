import re

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination

# What DRF's encode_cursor makes (standard base64); an empty cursor is the first page.
_BASE64 = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")


class StableCursorPagination(CursorPagination):
    """Cursor pagination on the primary key: constant cost at any depth, stable under inserts.

    A ``page_size`` above ``max_page_size`` is capped; one that is not a whole number of 1 or more
    gives the default page (DRF's behaviour, kept: tests/billing/test_claims_api.py). A cursor whose
    position is not an id (forged or damaged) is a 404 like any other invalid cursor, instead of
    reaching the query as a non-number (a 500); so is a cursor with characters base64 does not use.
    """

    ordering = "-id"
    page_size_query_param = "page_size"
    page_size_query_description = _(
        "Number of results per page, 1 to 200 (more is capped at 200); default 50."
    )
    max_page_size = 200

    def decode_cursor(self, request):
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is not None and not _BASE64.fullmatch(encoded):
            # base64 decoding skips what is not of its alphabet: "%00" would be the first page.
            raise NotFound(self.invalid_cursor_message)
        cursor = super().decode_cursor(request)
        position = cursor.position if cursor is not None else None
        if position is not None and not (
            position.isascii() and position.isdigit() and len(position) <= 18
        ):
            raise NotFound(self.invalid_cursor_message)
        return cursor

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
            if parameter["name"] == self.cursor_query_param:
                parameter["schema"] = {"type": "string", "pattern": _BASE64.pattern}
        return parameters
