"""The FHIR Claim search's entries as JSON made by PostgreSQL, and the searchset Bundle of a page.

``billing.fhir.claim_resource`` stays the definition of a FHIR Claim (the read, and the search on any
database but PostgreSQL, through ``claim_search_entry``); ``claim_entry_json`` writes the same
elements with the same values in SQL, so a pull of 100,000 claims does not build and validate
100,000 fhir.resources models. tests/billing/test_claims_pull.py compares the two on PostgreSQL.
"""

from __future__ import annotations

import json

from django.db.models import Case, Expression, F, Q, TextField, Value, When
from django.db.models.functions import Cast, Concat

from carechain.api.renderers import RawJSON
from carechain.json_sql import (
    JsonRaw,
    JsonValue,
    LocalIsoDateTime,
    Optional,
    Slot,
    json_instant,
    json_template,
)
from referrals.fhir.bundle import AGB_SYSTEM, BSN_SYSTEM

from .fhir import (
    CARE_TEAM_ROLE_SYSTEM,
    CLAIM_NUMBER_SYSTEM,
    CLAIM_TYPE_SYSTEM,
    FHIR_ID,
    PRESTATIE_SYSTEM,
    PRIORITY_SYSTEM,
    RELATED_CLAIM_SYSTEM,
    UZOVI_SYSTEM,
)
from .models import Claim


def claim_entry_json(*, base_url: str) -> Expression:
    """``claim_search_entry`` in SQL, for a queryset from ``billing.claims.with_links``.

    The same elements and values as ``claim_resource`` (tests/billing/test_claims_pull.py compares
    them on PostgreSQL, and validates every entry with fhir.resources); what is the same for every
    claim is written once as constant JSON (``json_template``), the ~15 values of each claim are
    filled in by PostgreSQL. An element without a value is left out, as FHIR has no nulls.
    """
    money = {"value": Slot(JsonRaw(Cast("amount", TextField()))), "currency": "EUR"}
    period = {"start": Slot(JsonValue("start_date")), "end": Slot(JsonValue("end_date"))}
    insurer = {
        "type": "Organization",
        "identifier": {"system": UZOVI_SYSTEM, "value": Slot(JsonValue("uzovi"))},
    }
    has_id = Q(claim_number__regex=rf"^{FHIR_ID.pattern}$")
    resource = {
        "resourceType": "Claim",
        "id": Optional("id", JsonValue("claim_number"), when=has_id),
        "meta": {"lastUpdated": Slot(_instant_sql("updated_at"))},
        "contained": [
            {
                "resourceType": "Patient",
                "id": "patient",
                "identifier": [{"system": BSN_SYSTEM, "value": Slot(JsonValue("bsn"))}],
                "name": [{"text": Slot(JsonValue("patient_name"))}],
                "birthDate": Slot(JsonValue("birth_date")),
            },
            {
                "resourceType": "Coverage",
                "id": "coverage",
                "status": "active",
                "subscriberId": Slot(JsonValue("policy_number")),
                "beneficiary": {"reference": "#patient"},
                "payor": [insurer],
            },
        ],
        "identifier": [{"system": CLAIM_NUMBER_SYSTEM, "value": Slot(JsonValue("claim_number"))}],
        "status": Slot(
            Case(
                When(status=Claim.Status.SUPERSEDED, then=Value('"cancelled"')),
                default=Value('"active"'),
                output_field=TextField(),
            )
        ),
        "type": _coding(CLAIM_TYPE_SYSTEM, "professional"),
        "use": "claim",
        "patient": {"reference": "#patient"},
        "billablePeriod": period,
        "created": Slot(_instant_sql("created_at")),
        "insurer": insurer,
        "provider": {
            "type": "Organization",
            "identifier": {"system": AGB_SYSTEM, "value": Slot(JsonValue("provider_agb"))},
        },
        "priority": _coding(PRIORITY_SYSTEM, "normal"),
        "related": Optional(
            "related",
            json_template(
                [
                    {
                        "claim": {
                            "type": "Claim",
                            "identifier": {
                                "system": CLAIM_NUMBER_SYSTEM,
                                "value": Slot(JsonValue("replaces")),
                            },
                        },
                        "relationship": _coding(RELATED_CLAIM_SYSTEM, "prior"),
                    }
                ]
            ),
            when=Q(replaces__isnull=False),
        ),
        "careTeam": [
            {
                "sequence": 1,
                "provider": {
                    "type": "Practitioner",
                    "identifier": {"system": AGB_SYSTEM, "value": Slot(JsonValue("performer_agb"))},
                },
                "role": _coding(CARE_TEAM_ROLE_SYSTEM, "primary"),
            }
        ],
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"reference": "#coverage"}}],
        "item": [
            {
                "sequence": 1,
                "careTeamSequence": [1],
                "productOrService": {
                    "coding": [
                        {"system": PRESTATIE_SYSTEM, "code": Slot(JsonValue("prestatie_code"))}
                    ]
                },
                "servicedPeriod": period,
                "net": money,
            }
        ],
        "total": money,
    }
    return json_template(
        {
            "fullUrl": Optional(
                "fullUrl", JsonValue(Concat(Value(base_url), F("claim_number"))), when=has_id
            ),
            "resource": resource,
            "search": {"mode": "match"},
        }
    )


def claim_search_bundle(entries: RawJSON, *, self_url: str, next_url: str | None) -> RawJSON:
    """A searchset Bundle of one page, ``entries`` its entries as one JSON array; ``next`` pages
    on (no total: counting costs every page)."""
    links = [{"relation": "self", "url": self_url}]
    if next_url:
        links.append({"relation": "next", "url": next_url})
    head = json.dumps({"resourceType": "Bundle", "type": "searchset", "link": links})
    return RawJSON(head[:-1] + ',"entry":' + entries.text + "}")


def _coding(system: str, code: str) -> dict:
    return {"coding": [{"system": system, "code": code}]}


def _instant_sql(field: str) -> JsonRaw:
    return json_instant(LocalIsoDateTime(field, seconds_only=True))
