"""A median aggregate computed in the database on both backends.

PostgreSQL has the ordered-set aggregate ``percentile_cont(0.5) WITHIN GROUP (ORDER BY x)``.
SQLite (the embedded default) has none, so a ``MEDIAN`` aggregate is registered on each new SQLite
connection; the query is the same ``GROUP BY`` either way, so a report's query count does not
change with the backend.
"""

from __future__ import annotations

import statistics

from django.db.backends.signals import connection_created
from django.db.models import Aggregate, FloatField, Func


class Median(Aggregate):
    function = "MEDIAN"
    name = "Median"
    output_field = FloatField()
    allow_distinct = False

    def as_postgresql(self, compiler, connection, **extra_context):
        # The template as an attribute: Aggregate.as_sql wraps it in FILTER (WHERE ...) itself.
        clone = self.copy()
        clone.template = "percentile_cont(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
        return super(Median, clone).as_sql(compiler, connection, **extra_context)


class SecondsBetween(Func):
    """Seconds from the first datetime to the second, as a float."""

    output_field = FloatField()
    arity = 2

    def __init__(self, earlier, later, **extra):
        # Stored as (later, earlier): both templates read "later minus earlier".
        super().__init__(later, earlier, **extra)

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler,
            connection,
            template="EXTRACT(EPOCH FROM (%(expressions)s))",
            arg_joiner=" - ",
            **extra_context,
        )

    def as_sql(self, compiler, connection, **extra_context):
        # SQLite (and the rest): julianday() of each, in days.
        extra_context.setdefault("template", "((julianday(%(expressions)s)) * 86400.0)")
        extra_context.setdefault("arg_joiner", ") - julianday(")
        return super().as_sql(compiler, connection, **extra_context)


class _MedianAggregate:
    def __init__(self):
        self.values: list[float] = []

    def step(self, value):
        if value is not None:
            self.values.append(value)

    def finalize(self):
        return statistics.median(self.values) if self.values else None


def _register(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate("MEDIAN", 1, _MedianAggregate)


def register_sqlite_median() -> None:
    connection_created.connect(_register, dispatch_uid="reports.median")
    # A connection opened before the app was ready (e.g. by a management command) gets it too.
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        if conn.vendor == "sqlite" and conn.connection is not None:
            _register(None, conn)
