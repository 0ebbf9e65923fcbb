"""The claim list's rows as JSON made by PostgreSQL: ``ClaimOutput``'s document, field for field.

``ClaimOutput`` stays the definition (and serves the detail, the corrections and any database but
PostgreSQL); this writes the same keys in the same order with the same values, so an insurer's pull
of 100,000 claims does not build 100,000 model instances and serializers.
tests/billing/test_claims_pull.py compares both on PostgreSQL for every kind of value.
"""

from django.core.exceptions import FieldDoesNotExist
from django.db import models

from carechain.json_sql import JsonBuildObject, JsonText, LocalIsoDateTime, decimal_text

from ..models import Claim
from .serializers import ClaimOutput


def _value(name: str):
    """How DRF writes the field: moments in local time, decimals as strings, the rest as is."""
    try:
        field = Claim._meta.get_field(name)
    except FieldDoesNotExist:
        return name  # an annotation of billing.claims.with_links (replaces, replaced_by)
    if isinstance(field, models.DateTimeField):
        return LocalIsoDateTime(name, utc_z=True)
    if isinstance(field, models.DecimalField):
        return decimal_text(name)
    return name


def claim_output_json() -> JsonText:
    """``ClaimOutput(claim).data`` as JSON text, for a queryset from ``billing.claims.with_links``."""
    return JsonText(JsonBuildObject({name: _value(name) for name in ClaimOutput.Meta.fields}))
