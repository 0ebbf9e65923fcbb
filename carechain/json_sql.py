"""JSON documents built by PostgreSQL, for lists too long to serialise row by row in Python.

A page of an API list can be one query whose rows already hold each item's JSON text: PostgreSQL's
``json_build_object`` writes it in C while reading the rows, and Python only joins the strings
(``carechain.api.renderers.RawJSON``). Each document built here has a Python twin (a DRF serializer,
a fhir.resources model) that stays the reference; tests compare the two on PostgreSQL.

PostgreSQL only: ``is_available()`` says whether the default database can do it.

A document can also be kept on its row by a trigger (``RowColumn``, ``inline_sql``: the same
expressions compiled against ``NEW``), so a page reads it instead of building it: moments in such a
document are written in ``settings.TIME_ZONE``, and ``is_stored_zone()`` says whether a request
writes them the same way (billing.claim_documents).
"""

from __future__ import annotations

import datetime
import json

from django.conf import settings
from django.db import connection
from django.db.models import Case, Expression, F, Func, Q, TextField, Value, When
from django.db.models.functions import Cast
from django.db.models.sql import Query
from django.utils import timezone


def is_available() -> bool:
    return connection.vendor == "postgresql"


def is_stored_zone() -> bool:
    """Whether this request writes moments as a trigger stored them: in ``settings.TIME_ZONE``."""
    return timezone.get_current_timezone_name() == settings.TIME_ZONE


class RowColumn(Expression):
    """A column of the row a trigger is writing (``NEW."column"``), in place of ``F(name)``."""

    def __init__(self, model, name: str):
        self.column = model._meta.get_field(name).column
        super().__init__(output_field=model._meta.get_field(name))

    def as_sql(self, compiler, connection):
        return f"NEW.{connection.ops.quote_name(self.column)}", []


def inline_sql(expression: Expression, model, conn=None) -> str:
    """``expression`` as SQL with its parameters written in as literals (by the driver's own
    quoting): for the body of a trigger function, which takes no parameters."""
    conn = conn or connection
    query = Query(model)
    sql, params = query.get_compiler(connection=conn).compile(expression.resolve_expression(query))
    return conn.ops.compose_sql(sql, params)


class JsonBuildObject(Func):
    """``json_build_object(key, value, ...)``: keys in the order given (``jsonb`` would sort them).

    ``json_strip_nulls`` leaves out every key whose value is null, at any depth (FHIR has no nulls).
    """

    function = "JSON_BUILD_OBJECT"
    output_field = TextField()

    def __init__(self, pairs: dict[str, Expression | str], *, strip_nulls: bool = False):
        expressions = []
        for key, value in pairs.items():
            expressions += [Value(key), F(value) if isinstance(value, str) else value]
        super().__init__(*expressions, output_field=TextField())
        if strip_nulls:
            self.template = "JSON_STRIP_NULLS(%(function)s(%(expressions)s))"


# What json_build_object writes between two pairs and between a key and its value: a key is
# appended to its text (``Unclosed``) with the same bytes as if the object had been built whole.
PAIR_SEPARATOR, KEY_SEPARATOR = ", ", " : "


class Unclosed(Func):
    """An object's JSON text without its closing brace, for keys appended after it."""

    template = "LEFT(%(expressions)s, -1)"
    output_field = TextField()


class JsonBuildArray(Func):
    function = "JSON_BUILD_ARRAY"
    output_field = TextField()


class JsonText(Func):
    """The document as text: psycopg2 would otherwise parse every ``json`` value into dicts."""

    template = "(%(expressions)s)::text"
    output_field = TextField()


class LocalIsoDateTime(Expression):
    """A moment as Python's ``timezone.localtime(value).isoformat()`` writes it, in SQL.

    In the current time zone (Europe/Amsterdam), with microseconds only when there are any; with
    ``seconds_only`` none at all (``isoformat(timespec="seconds")``); with ``utc_z`` an offset of
    +00:00 is written ``Z``, as DRF's DateTimeField does. Null stays null.
    """

    output_field = TextField()

    def __init__(self, expression: str | Expression, *, seconds_only=False, utc_z=False):
        super().__init__(output_field=TextField())
        self.expression = F(expression) if isinstance(expression, str) else expression
        self.seconds_only = seconds_only
        self.utc_z = utc_z

    def get_source_expressions(self):
        return [self.expression]

    def set_source_expressions(self, exprs):
        (self.expression,) = exprs

    def as_sql(self, compiler, connection, **extra):
        value, value_params = compiler.compile(self.expression)
        zone = timezone.get_current_timezone_name()
        local, local_params = f"(({value}) AT TIME ZONE %s)", [*value_params, zone]
        # Only the fraction has a dot: without microseconds it goes, as in isoformat().
        text = (
            f"TO_CHAR({local}, 'YYYY-MM-DD\"T\"HH24:MI:SS')"
            if self.seconds_only
            else f"REPLACE(TO_CHAR({local}, 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '')"
        )
        # The offset is computed once (a simple CASE evaluates its operand once) and compared with
        # the offsets the zone uses nowadays, written out here; any other (history, an odd zone)
        # is formatted in SQL. This was three quarters of the cost of a moment (json_sql profile in
        # docs/explain/claims_pull.md). Null in, null out: every part is null then.
        offset = f"({local} - (({value}) AT TIME ZONE 'UTC'))"
        offset_params = [*local_params, *value_params]
        whens, when_params = [], []
        for seconds in _usual_offsets(zone):
            whens.append("WHEN MAKE_INTERVAL(secs => %s) THEN %s")
            when_params += [seconds, _offset_text(seconds, utc_z=self.utc_z)]
        generic = (
            "CASE SIGN(EXTRACT(EPOCH FROM {o})) WHEN 0 THEN {zero} "
            "WHEN 1 THEN '+' || TO_CHAR({o}, 'HH24:MI') ELSE '-' || TO_CHAR(-{o}, 'HH24:MI') END"
        ).format(o=offset, zero="'Z'" if self.utc_z else "'+00:00'")
        sql = f"{text} || CASE {offset} {' '.join(whens)} ELSE {generic} END"
        return sql, [*local_params, *offset_params, *when_params, *offset_params * 3]


def _usual_offsets(zone: str) -> list[int]:
    """The UTC offsets (seconds) of ``zone`` in winter and summer of this year and the next."""
    import zoneinfo

    tz = zoneinfo.ZoneInfo(zone)
    year = datetime.date.today().year
    found = []
    for y in (year, year + 1):
        for month in (1, 7):
            offset = datetime.datetime(y, month, 1, 12, tzinfo=tz).utcoffset()
            seconds = int(offset.total_seconds())
            if seconds not in found and seconds % 60 == 0:
                found.append(seconds)
    return found


def _offset_text(seconds: int, *, utc_z: bool) -> str:
    if seconds == 0:
        return "Z" if utc_z else "+00:00"
    sign = "+" if seconds > 0 else "-"
    hours, minutes = divmod(abs(seconds) // 60, 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


def decimal_text(field: str | Expression) -> Cast:
    """A numeric column as its text (``268.00``): DRF writes decimals as strings."""
    return Cast(field, output_field=TextField())


# -- documents written from a template ------------------------------------------------------------
class JsonValue(Func):
    """A value as JSON text (``to_json``: strings quoted and escaped, dates ISO); null as ``null``."""

    template = "COALESCE(TO_JSON(%(expressions)s)::text, 'null')"
    output_field = TextField()


class JsonRaw(Func):
    """An expression whose text is already JSON (a number's text, a quoted ISO moment)."""

    template = "%(expressions)s"
    output_field = TextField()


class Appended(Func):
    """``a || b``: text after text, for pieces that are never null (cheaper than ``concat()``,
    whose arguments are of any type)."""

    template = "(%(expressions)s)"
    arg_joiner = " || "
    output_field = TextField()


class TextConcat(Func):
    """``concat()``: one call joins every piece (a null piece is empty)."""

    function = "CONCAT"
    output_field = TextField()


class Optional:
    """A key that is left out when ``when`` is false (FHIR has no nulls): ``{mark: Optional(...)}``
    in a template, where the key and its value are written only for the rows that have one."""

    def __init__(self, key: str, value: Expression, *, when: Q):
        self.key, self.value, self.when = key, value, when


class Slot:
    """Where a row's value goes in a ``json_template`` document."""

    def __init__(self, value: Expression):
        self.value = value


def json_template(document: dict) -> Expression:
    """The document as JSON text, written by PostgreSQL as one ``concat()`` of the constant JSON
    between the values and each row's values (``Slot``; ``Optional`` keys).

    ``json_build_object`` builds every nested object of every row anew, constant ones included: a
    FHIR Claim of ~50 objects cost about 110 µs a row (docs/explain/claims_pull.md). Here the
    constant parts are written once, in Python, and each row costs what its ~15 values cost. An
    ``Optional`` must not be the last key of its object (its comma comes after it).
    """
    pieces: dict[str, Expression] = {}

    def mark(node):
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if isinstance(value, Optional):
                    name = f"\x00{len(pieces)}\x00"
                    pieces[name] = value
                    out[name] = None
                else:
                    out[key] = mark(value)
            return out
        if isinstance(node, list):
            return [mark(item) for item in node]
        if isinstance(node, Slot):
            name = f"\x00{len(pieces)}\x00"
            pieces[name] = node.value
            return name
        return node

    text = json.dumps(mark(document), separators=(",", ":"), ensure_ascii=False)
    parts: list[Expression] = []
    rest = text
    while pieces:
        position, name, pattern = min(
            (rest.find(p), name, p)
            for name, piece in pieces.items()
            for p in [
                f"{json.dumps(name)}:null," if isinstance(piece, Optional) else json.dumps(name)
            ]
            if rest.find(p) >= 0
        )
        piece = pieces.pop(name)
        if rest[:position]:
            parts.append(Value(rest[:position]))
        if isinstance(piece, Optional):
            key = json.dumps(piece.key) + ":"
            parts.append(
                Case(
                    When(piece.when, then=TextConcat(Value(key), piece.value, Value(","))),
                    default=Value(""),
                    output_field=TextField(),
                )
            )
        else:
            parts.append(piece)
        rest = rest[position + len(pattern) :]
    if rest:
        parts.append(Value(rest))
    return TextConcat(*parts)


class _QuotedOrNull(Func):
    template = "COALESCE('\"' || %(expressions)s || '\"', 'null')"
    output_field = TextField()


def json_instant(expression: Expression) -> JsonRaw:
    """A moment (``LocalIsoDateTime``) as a JSON string (its text holds no character to escape),
    null as ``null``."""
    return JsonRaw(_QuotedOrNull(expression))
