"""The claim list's rows as JSON made by PostgreSQL: ``ClaimOutput``'s document, field for field.

``ClaimOutput`` stays the definition (and serves the detail, the corrections and any database but
PostgreSQL); this writes the same keys in the same order with the same values, so an insurer's pull
of 100,000 claims does not build 100,000 model instances and serializers.

Building the JSON of a row cost 40-100 µs whatever the construct, most of a page of 5,000: so the
row's own part is built once, when the row is written, by the trigger of ``billing.claim_documents``
(``claim_output_stored``, kept in ``Claim.api_document``), and a page only appends the two links
(``replaces``/``replaced_by``, which a later version changes without writing this row) and the
closing brace. Both are compiled from the same ``_value`` and ``ClaimOutput.Meta.fields``.
tests/billing/test_claims_pull.py and test_claim_documents.py compare them with ``ClaimOutput`` on
PostgreSQL, byte for byte with the document built whole at read time.
"""

import json

from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import models
from django.db.models import Case, Expression, F, TextField, Value, When

from carechain import json_sql
from carechain.json_sql import (
    KEY_SEPARATOR,
    PAIR_SEPARATOR,
    Appended,
    JsonBuildObject,
    JsonText,
    JsonValue,
    LocalIsoDateTime,
    TextConcat,
    Unclosed,
    decimal_text,
)

from ..claims import CAN_BE_REPLACED, CAN_REPLACE
from ..models import Claim
from .serializers import ClaimOutput


def _is_column(name: str) -> bool:
    try:
        Claim._meta.get_field(name)
    except FieldDoesNotExist:
        return False  # an annotation of billing.claims.with_versions (replaces, replaced_by)
    return True


def own_fields() -> list[str]:
    """The fields of ``ClaimOutput`` the row itself holds; the links come after all of them."""
    fields = list(ClaimOutput.Meta.fields)
    own = [name for name in fields if _is_column(name)]
    if fields[: len(own)] != own:
        raise ImproperlyConfigured(
            "ClaimOutput.Meta.fields: the links (replaces, replaced_by) must come last, after the "
            "claim's own fields (the stored document ends where they begin)."
        )
    return own


def link_fields() -> list[str]:
    return [name for name in ClaimOutput.Meta.fields if not _is_column(name)]


def _value(name: str, column=F) -> Expression:
    """How DRF writes the field: moments in local time, decimals as strings, the rest as is.
    ``column`` names the row's column (``F``, or ``RowColumn`` in the trigger)."""
    if not _is_column(name):
        return F(name)
    field = Claim._meta.get_field(name)
    if isinstance(field, models.DateTimeField):
        return LocalIsoDateTime(column(name), utc_z=True)
    if isinstance(field, models.DecimalField):
        return decimal_text(column(name))
    return column(name)


def claim_output_json_built() -> JsonText:
    """``ClaimOutput(claim).data`` as JSON text, built whole from the row at read time (for a
    queryset from ``billing.claims.with_versions``)."""
    return JsonText(JsonBuildObject({name: _value(name) for name in ClaimOutput.Meta.fields}))


def claim_output_stored(column) -> Expression:
    """What ``Claim.api_document`` holds: the document of the row's own fields, unclosed."""
    return Unclosed(
        JsonText(JsonBuildObject({name: _value(name, column) for name in own_fields()}))
    )


def claim_output_json() -> Expression:
    """``ClaimOutput(claim).data`` as JSON text, for a queryset from ``billing.claims.with_versions``:
    the stored part and the links to the neighbouring versions.

    A row that cannot have a neighbouring version (nearly all: first versions nobody corrected)
    gets both links as one constant null text, with no ``to_json`` per row. A request in another
    time zone than the one the moments were stored in builds the whole document.
    """
    if not json_sql.is_stored_zone():
        return claim_output_json_built()
    links = link_fields()

    def key(name: str) -> str:
        return f"{PAIR_SEPARATOR}{json.dumps(name)}{KEY_SEPARATOR}"

    linked: list[Expression] = [F("api_document")]
    for name in links:
        linked += [Value(key(name)), JsonValue(F(name))]
    unlinked = "".join(f"{key(name)}null" for name in links) + "}"
    return Case(
        When(
            ~(CAN_REPLACE | CAN_BE_REPLACED),  # where with_versions looks nothing up: both null
            then=Appended(F("api_document"), Value(unlinked)),
        ),
        default=TextConcat(*linked, Value("}")),
        output_field=TextField(),
    )
