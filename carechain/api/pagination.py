import re

from django.db import connection
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination

# What DRF's encode_cursor makes (standard base64); an empty cursor is the first page.
# The claims pulls (REST and FHIR) take pages up to this size: docs/explain/claims_pull.md.
MAX_CLAIMS_PAGE_SIZE = 5000

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

    def paginate_json(self, queryset, request, view=None, *, document, fields=("id",)):
        """A page as one JSON array text made by PostgreSQL (``JsonPage``), in one query.

        ``document`` is an expression giving each row's JSON as text (``carechain.json_sql``);
        ``fields`` the values Python needs of each row besides (the audit log's ids). DRF's own
        cursor logic decides the page and its links, as for ``paginate_queryset``. PostgreSQL only.
        """
        found: list[str] = []
        rows = self.paginate_queryset(
            _JsonPageQuery(
                queryset,
                document=document,
                fields=tuple(dict.fromkeys(("id", *fields))),
                page_size=self.get_page_size(request),
                display=self.ordering if isinstance(self.ordering, str) else self.ordering[0],
                found=found,
            ),
            request,
            view,
        )
        return JsonPage(rows, found[0])

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
            if parameter["name"] == self.cursor_query_param:
                parameter["schema"] = {"type": "string", "pattern": _BASE64.pattern}
        return parameters


class JsonPage:
    """A page fetched by ``StableCursorPagination.paginate_json``: ``rows`` the page's
    ``{field: value}`` for the fields asked for (in the page's order), ``text`` its documents as
    one JSON array, made by PostgreSQL."""

    __slots__ = ("rows", "text")

    def __init__(self, rows: list[dict], text: str):
        self.rows, self.text = rows, text


class _JsonPageQuery:
    """What ``CursorPagination.paginate_queryset`` does to a queryset (order it, filter it from
    the cursor on, slice one page and one row more, list it), turned into one query that returns
    the page's ids and other fields as arrays and its documents as one JSON array text.

    The documents of the page proper (not of the extra row, which only says there is a next page)
    are joined by ``string_agg`` in the order the page is shown, so Python never sees one claim's
    document on its own. Listing this yields the rows DRF needs for its cursor (dicts) and keeps
    the text in ``found``.
    """

    def __init__(self, queryset, *, document, fields, page_size, display, found):
        self.queryset, self.document, self.fields = queryset, document, fields
        self.page_size, self.display, self.found = page_size, display, found

    def _with(self, queryset) -> "_JsonPageQuery":
        return _JsonPageQuery(
            queryset,
            document=self.document,
            fields=self.fields,
            page_size=self.page_size,
            display=self.display,
            found=self.found,
        )

    def order_by(self, *ordering):
        return self._with(self.queryset.order_by(*ordering))

    def filter(self, **lookups):
        return self._with(self.queryset.filter(**lookups))

    def __getitem__(self, window: slice):
        return self._with(self.queryset[window])

    def sql_with_params(self) -> tuple[str, list]:
        """The page's query (docs/explain/claims_pull.md shows its plan)."""
        (order,) = self.queryset.query.order_by  # one field: the primary key
        fetched_column = order.lstrip("-")
        shown_column = self.display.lstrip("-")
        inner = self.queryset.values(*self.fields, _document=self.document)
        sql, params = inner.query.sql_with_params()
        quote = connection.ops.quote_name
        arrays = ", ".join(f"ARRAY_AGG(p.{quote(f)} ORDER BY p._n)" for f in self.fields)
        fetched = f"{quote(fetched_column)} {'DESC' if order.startswith('-') else 'ASC'}"
        shown = f"p.{quote(shown_column)} {'DESC' if self.display.startswith('-') else 'ASC'}"
        # Identifiers come from the model's metadata (quoted); values are parameters.
        page_sql = (
            f"SELECT {arrays}, '[' || COALESCE(STRING_AGG(p._document, ',' ORDER BY {shown}) "  # noqa: S608
            f"FILTER (WHERE p._n <= %s), '') || ']' "
            f"FROM (SELECT i.*, ROW_NUMBER() OVER (ORDER BY i.{fetched}) AS _n FROM ({sql}) i) p"
        )
        return page_sql, [self.page_size, *params]

    def __iter__(self):
        with connection.cursor() as cursor:
            cursor.execute(*self.sql_with_params())
            *columns, text = cursor.fetchone()
        self.found.append(text)
        if columns[0] is None:  # no rows: ARRAY_AGG of nothing is null
            return iter(())
        return (
            dict(zip(self.fields, values, strict=True)) for values in zip(*columns, strict=True)
        )
