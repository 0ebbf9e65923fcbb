"""A claim's REST document and FHIR search entry, kept on its row by PostgreSQL.

An insurer pulls every claim, 5,000 a page; building each row's JSON at read time cost 40-100 µs a
row whatever the SQL construct, most of a page and over ten times what COPY spends on the whole row
(docs/explain/claims_pull.md). A claim is written a few times in its life and read by every pull,
so the JSON of what the row itself holds is built when the row is written: a ``BEFORE INSERT OR
UPDATE`` trigger sets ``Claim.api_document`` (``billing.api.documents.claim_output_stored``) and
``Claim.fhir_entry`` (``billing.fhir_search.claim_entry_stored``) in the same statement, so every
write path (``create``, ``bulk_create``, ``bulk_update``, ``QuerySet.update``, raw SQL) keeps them
right in its own transaction. Not a cache: nothing expires or is invalidated; a value the trigger
did not write cannot stay (it overwrites whatever an UPDATE sets).

Where they are kept: the REST document (~560 bytes) in the row (``STORAGE MAIN``: not moved out,
not compressed while the row fits), the FHIR entry (~2 kB) out of line in the table's TOAST
(``STORAGE EXTERNAL``, uncompressed). Inline, the entry made the claims' heap nine times bigger
(23 to 215 MB for 110,000 claims, past shared_buffers) and slowed every scan of it, COPY's too;
read from TOAST it costs a FHIR page what decompressing it inline costs
(docs/explain/claims_pull.md).

The trigger's SQL is compiled from the expressions that build the documents at read time, with the
row's columns as ``NEW."column"`` (``carechain.json_sql.RowColumn``), in ``settings.TIME_ZONE``.
When a document changes (``ClaimOutput.Meta.fields``, a value's formatting, the FHIR mapping), a
new migration calls ``install`` again, which replaces the function and rewrites every row;
tests/billing/test_claim_documents.py fails until then (it compares the installed function with
``function_sql()``). PostgreSQL only: elsewhere the columns stay empty and pages build the JSON.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection as default_connection
from django.utils import timezone

from carechain.json_sql import RowColumn, inline_sql

from .api.documents import claim_output_stored
from .fhir_search import claim_entry_stored
from .models import Claim

FUNCTION = "billing_claim_documents"
TRIGGER = "billing_claim_documents"
_QUOTE = "$claim_documents$"


def _column(name: str) -> RowColumn:
    return RowColumn(Claim, name)


def function_sql(connection=None) -> str:
    """The body of the trigger function, as ``install`` writes it (and pg_proc.prosrc keeps it)."""
    connection = connection or default_connection
    with timezone.override(settings.TIME_ZONE):
        rest = inline_sql(claim_output_stored(_column), Claim, connection)
        fhir = inline_sql(claim_entry_stored(_column), Claim, connection)
    quote = connection.ops.quote_name
    return (
        "\nBEGIN\n"
        f"    NEW.{quote(Claim._meta.get_field('api_document').column)} := {rest};\n"
        f"    NEW.{quote(Claim._meta.get_field('fhir_entry').column)} := {fhir};\n"
        "    RETURN NEW;\n"
        "END;\n"
    )


def install(schema_editor) -> None:
    """Create or replace the function and the trigger, and write the documents of every row."""
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    body = function_sql(connection)
    if _QUOTE in body:
        raise ValueError(f"the trigger's SQL contains its own quote {_QUOTE}")
    table = connection.ops.quote_name(Claim._meta.db_table)
    schema_editor.execute(
        f"CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql "
        f"AS {_QUOTE}{body}{_QUOTE}",
        params=None,
    )
    schema_editor.execute(
        f"CREATE OR REPLACE TRIGGER {TRIGGER} BEFORE INSERT OR UPDATE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()",
        params=None,
    )
    quote = connection.ops.quote_name
    schema_editor.execute(
        f"ALTER TABLE {table} "
        f"ALTER COLUMN {quote(Claim._meta.get_field('api_document').column)} SET STORAGE MAIN, "
        f"ALTER COLUMN {quote(Claim._meta.get_field('fhir_entry').column)} SET STORAGE EXTERNAL",
        params=None,
    )
    # Every row through the trigger once (no column changes; updated_at stays as it is).
    pk = quote(Claim._meta.pk.column)
    schema_editor.execute(f"UPDATE {table} SET {pk} = {pk}", params=None)  # noqa: S608


def uninstall(schema_editor) -> None:
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    table = connection.ops.quote_name(Claim._meta.db_table)
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {table}", params=None)
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()", params=None)
