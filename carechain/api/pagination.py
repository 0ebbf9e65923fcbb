import base64
import binascii
import hashlib
import hmac
import json
import re

import psycopg2.extensions
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import connection
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import NotFound
from rest_framework.pagination import Cursor, CursorPagination

from .renderers import RawJSON

# What DRF's encode_cursor makes (standard base64); an empty cursor is the first page.
# The claims pulls (REST and FHIR) take pages up to this size: docs/explain/claims_pull.md.
MAX_CLAIMS_PAGE_SIZE = 5000

_BASE64 = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")


def _round_key(index: int) -> bytes:
    return hashlib.sha256(f"cursor-position:{index}:{settings.SECRET_KEY}".encode()).digest()


def _feistel(value: int, rounds: range) -> int:
    """A keyed permutation of the 64-bit numbers (a balanced Feistel network, HMAC-SHA256 rounds).

    DRF's cursor holds the last row's ordering value in plain base64; for a list ordered by the
    primary key that is a database id, and the difference between two cursors tells an insurer
    how many claims went to others meanwhile. Encrypted, the cursor is a number that means nothing
    outside this server; decrypted, it is the same id, so the page query (and its plan,
    docs/explain/claims_pull.md) is unchanged.
    """
    left, right = value >> 32, value & 0xFFFFFFFF
    for index in rounds:
        mac = hmac.new(_round_key(index), right.to_bytes(4, "big"), hashlib.sha256).digest()
        left, right = right, left ^ int.from_bytes(mac[:4], "big")
    return (right << 32) | left


_ROUNDS = 8


def encrypt_position(value: int) -> int:
    return _feistel(value, range(_ROUNDS))


def decrypt_position(value: int) -> int:
    return _feistel(value, range(_ROUNDS - 1, -1, -1))


class _DocumentedCursor(CursorPagination):
    """The schema states what the cursor and the page size look like (for clients and fuzzers)."""

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
            if parameter["name"] == self.cursor_query_param:
                parameter["schema"] = {"type": "string", "pattern": _BASE64.pattern}
        return parameters


class StableCursorPagination(_DocumentedCursor):
    """Cursor pagination on the primary key: constant cost at any depth, stable under inserts.

    A ``page_size`` above ``max_page_size`` is capped; one that is not a whole number of 1 or more
    gives the default page (DRF's behaviour, kept: tests/billing/test_claims_api.py). A cursor whose
    position is not an id (forged or damaged) is a 404 like any other invalid cursor, instead of
    reaching the query as a non-number (a 500); so is a cursor with characters base64 does not use.
    The id in the cursor is encrypted (``encrypt_position``): no database id leaves the platform.
    Lists a client may page through without this class's id order use ``KeysetCursorPagination``.
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
        if position is None:
            return cursor
        if not (position.isascii() and position.isdigit() and len(position) <= 20):
            raise NotFound(self.invalid_cursor_message)
        value = int(position)
        plain = decrypt_position(value) if value < 2**64 else 2**63
        if plain >= 2**63:  # not a number this server encrypted: beyond any id
            raise NotFound(self.invalid_cursor_message)
        return Cursor(offset=cursor.offset, reverse=cursor.reverse, position=str(plain))

    def encode_cursor(self, cursor):
        if cursor.position is not None:
            cursor = Cursor(
                offset=cursor.offset,
                reverse=cursor.reverse,
                position=str(encrypt_position(int(cursor.position))),
            )
        return super().encode_cursor(cursor)

    def paginate_json(self, queryset, request, view=None, *, document, fields=()):
        """A page as one JSON array of documents made by PostgreSQL (``JsonPage``), in one query.

        ``document`` is an expression giving each row's JSON as text (``carechain.json_sql``);
        ``fields`` the values Python needs of each row besides its id (the audit log's patient).
        DRF's own cursor logic decides the page and its links, as for ``paginate_queryset``.
        PostgreSQL only.
        """
        ordering = self.ordering if isinstance(self.ordering, str) else self.ordering[0]
        if ordering.lstrip("-") != "id":
            raise ImproperlyConfigured("paginate_json pages by the primary key (ordering id).")
        fields = tuple(dict.fromkeys(("id", *fields)))  # DRF's cursor reads the first
        self._rows_are_tuples = True
        rows = self.paginate_queryset(
            _JsonRows(queryset, fields=fields, document=document), request, view
        )
        columns = {name: [row[index] for row in rows] for index, name in enumerate(fields)}
        documents = RawJSON("[", b",".join([row[-1] for row in rows]), "]")
        return JsonPage(columns, documents)

    _rows_are_tuples = False

    def _get_position_from_instance(self, instance, ordering):
        if self._rows_are_tuples:  # a row of paginate_json starts with its ordering value
            return str(instance[0])
        return super()._get_position_from_instance(instance, ordering)


class JsonPage:
    """A page fetched by ``StableCursorPagination.paginate_json``: ``columns`` the page's values
    of each field asked for (``{field: [value, ...]}``, ``id`` among them, in the page's order),
    ``documents`` its documents as one JSON array (``RawJSON``, the UTF-8 bytes PostgreSQL sent)."""

    __slots__ = ("columns", "documents")

    def __init__(self, columns: dict[str, list], documents: RawJSON):
        self.columns, self.documents = columns, documents


class _JsonRows:
    """What ``CursorPagination.paginate_queryset`` does to a queryset (order it, filter it from
    the cursor on, slice one page and one row more, list it), with rows that are tuples of the
    fields asked for (the ordering field first) and the row's document last, as UTF-8 bytes.

    The documents are not decoded: psycopg2's ``BYTES`` caster, on this query's cursor only, hands
    them over as PostgreSQL sent them, and the page joins them with one ``bytes.join``. That is
    cheaper than anything PostgreSQL can do with them: ``STRING_AGG`` of a page into one 3 MB
    value, wrapped in brackets, cost 35 ms where the same 5,001 rows as bytes cost 21-23
    (docs/explain/claims_pull.md, round 5).
    """

    def __init__(self, queryset, *, fields, document):
        self.queryset, self.fields, self.document = queryset, fields, document

    def _with(self, queryset) -> "_JsonRows":
        return _JsonRows(queryset, fields=self.fields, document=self.document)

    def order_by(self, *ordering):
        return self._with(self.queryset.order_by(*ordering))

    def filter(self, *args, **lookups):
        return self._with(self.queryset.filter(*args, **lookups))

    def __getitem__(self, window: slice):
        return self._with(self.queryset[window])

    def sql_with_params(self) -> tuple[str, list]:
        """The page's query (docs/explain/claims_pull.md shows its plan)."""
        rows = self.queryset.values_list(*self.fields, self.document)
        return rows.query.sql_with_params()

    def __iter__(self):
        with connection.cursor() as cursor:
            # This cursor's text values as UTF-8 bytes, not decoded (the documents only).
            psycopg2.extensions.register_type(psycopg2.extensions.BYTES, cursor.cursor)
            cursor.execute(*self.sql_with_params())
            return iter(cursor.fetchall())


class KeysetCursorPagination(_DocumentedCursor):
    """Pages by a keyset of fields the client sees anyway, never by the database id.

    ``ordering`` is two or more fields, all ascending or all descending, unique together (the last
    is the row's random ``public_id``), with an index on them (docs/explain/rest_pages.md). The
    cursor is base64 of the last (or, for ``previous``, the first) row's values of those fields:
    a moment and a public id the page itself shows, so it reveals nothing, and the next page is
    ``WHERE (a, b) < (x, y) ORDER BY a DESC, b DESC LIMIT n + 1``: one query whatever the depth.
    Rows inserted meanwhile land before the walk (newest-first lists) or after it; none is shown
    twice or skipped among those that were there. A forged or damaged cursor is a 404.
    """

    ordering = ("-created_at", "-public_id")
    page_size_query_param = "page_size"
    page_size_query_description = StableCursorPagination.page_size_query_description
    max_page_size = 200

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.page_size = self.get_page_size(request)
        if not self.page_size:
            return None
        self.base_url = request.build_absolute_uri()
        self.model = queryset.model
        descending = {field.startswith("-") for field in self.ordering}
        assert len(descending) == 1, "a keyset is ordered one way"
        reverse, position = self._read_cursor(request)
        ordering = self.ordering if not reverse else [_flip(f) for f in self.ordering]
        queryset = queryset.order_by(*ordering)
        if position is not None:
            queryset = queryset.filter(_beyond(ordering, position))
        rows = list(queryset[: self.page_size + 1])
        more = len(rows) > self.page_size
        rows = rows[: self.page_size]
        if reverse:
            rows.reverse()
        self.page = rows
        came_from_the_other_side = position is not None
        self.has_next = came_from_the_other_side if reverse else more
        self.has_previous = more if reverse else came_from_the_other_side
        # An empty page reached backwards or forwards still links back to where it was asked.
        self._first = self._values(rows[0]) if rows else position
        self._last = self._values(rows[-1]) if rows else position
        return rows

    def get_next_link(self):
        if not self.has_next or self._last is None:
            return None
        return self._link(reverse=False, position=self._last)

    def get_previous_link(self):
        if not self.has_previous or self._first is None:
            return None
        return self._link(reverse=True, position=self._first)

    # -- the cursor -------------------------------------------------------------------------------
    def _fields(self):
        return [self.model._meta.get_field(name.lstrip("-")) for name in self.ordering]

    def _values(self, row) -> list:
        return [getattr(row, field.attname) for field in self._fields()]

    def _link(self, *, reverse: bool, position: list) -> str:
        from rest_framework.utils.urls import replace_query_param

        text = json.dumps(
            {"r": int(reverse), "p": [_as_text(value) for value in position]},
            separators=(",", ":"),
        )
        token = base64.b64encode(text.encode()).decode("ascii")
        return replace_query_param(self.base_url, self.cursor_query_param, token)

    def _read_cursor(self, request) -> tuple[bool, list | None]:
        encoded = request.query_params.get(self.cursor_query_param)
        if not encoded:
            return False, None
        try:
            if not _BASE64.fullmatch(encoded):
                raise ValueError
            data = json.loads(base64.b64decode(encoded.encode("ascii"), validate=True))
            reverse, values = bool(data["r"]), data["p"]
            fields = self._fields()
            if not isinstance(values, list) or len(values) != len(fields):
                raise ValueError
            if not all(isinstance(value, str) for value in values):
                raise ValueError
            position = [field.to_python(value) for field, value in zip(fields, values, strict=True)]
            if any(value is None for value in position):
                raise ValueError
        except (ValueError, TypeError, KeyError, binascii.Error, ValidationError, OverflowError):
            raise NotFound(self.invalid_cursor_message) from None
        return reverse, position


def _flip(field: str) -> str:
    return field[1:] if field.startswith("-") else f"-{field}"


def _as_text(value) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _beyond(ordering, position) -> Q:
    """Rows after ``position`` in ``ordering``, written so PostgreSQL reads the index from there:
    ``a <= x AND (a < x OR (a = x AND b < y))`` (the first term is the index condition)."""
    names = [name.lstrip("-") for name in ordering]
    after = "lt" if ordering[0].startswith("-") else "gt"
    upto = "lte" if after == "lt" else "gte"
    strictly = Q()
    for index in range(len(names) - 1, -1, -1):
        tied = {names[i]: position[i] for i in range(index)}
        step = Q(**tied, **{f"{names[index]}__{after}": position[index]})
        strictly = step if index == len(names) - 1 else step | strictly
    return Q(**{f"{names[0]}__{upto}": position[0]}) & strictly
