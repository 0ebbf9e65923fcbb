"""JSON documents built by PostgreSQL, for lists too long to serialise row by row in Python.

A page of an API list can be one query whose rows already hold each item's JSON text: PostgreSQL's
``json_build_object`` writes it in C while reading the rows, and Python only joins the strings
(``carechain.api.renderers.RawJSON``). Each document built here has a Python twin (a DRF serializer,
a fhir.resources model) that stays the reference; tests compare the two on PostgreSQL.

PostgreSQL only: ``is_available()`` says whether the default database can do it.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Expression, F, Func, TextField, Value
from django.db.models.functions import Cast
from django.utils import timezone


def is_available() -> bool:
    return connection.vendor == "postgresql"


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
        offset = f"({local} - (({value}) AT TIME ZONE 'UTC'))"
        offset_params = local_params + value_params
        # Only the fraction has a dot: without microseconds it goes, as in isoformat().
        text = (
            f"TO_CHAR({local}, 'YYYY-MM-DD\"T\"HH24:MI:SS')"
            if self.seconds_only
            else f"REPLACE(TO_CHAR({local}, 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '')"
        )
        zero = "'Z'" if self.utc_z else "'+00:00'"
        # Null in, null out: every part is null then.
        sql = (
            f"{text} || CASE SIGN(EXTRACT(EPOCH FROM {offset})) WHEN 0 THEN {zero} "
            f"WHEN 1 THEN '+' || TO_CHAR({offset}, 'HH24:MI') "
            f"ELSE '-' || TO_CHAR(-{offset}, 'HH24:MI') END"
        )
        return sql, [*local_params, *offset_params * 3]


def decimal_text(field: str) -> Cast:
    """A numeric column as its text (``268.00``): DRF writes decimals as strings."""
    return Cast(field, output_field=TextField())
