"""The FHIR Claim search's entries as JSON made by PostgreSQL, and the searchset Bundle of a page.

``billing.fhir.claim_resource`` stays the definition of a FHIR Claim (the read, and the search on any
database but PostgreSQL, through ``claim_search_entry``); ``claim_entry_json`` writes the same
elements with the same values in SQL, so a pull of 100,000 claims does not build and validate
100,000 fhir.resources models. tests/billing/test_claims_pull.py compares the two on PostgreSQL.

As the REST document (``billing.api.documents``), an entry is built once when its row is written, by
the trigger of ``billing.claim_documents`` (``claim_entry_stored``, kept in ``Claim.fhir_entry``),
from the same template as the entry built at read time (``_resource``); a page puts the request's
base URL in front of it.
"""

from __future__ import annotations

import json

from django.db.models import Case, Expression, F, Q, TextField, Value, When
from django.db.models.functions import Cast, Concat, Substr
from django.db.models.lookups import Exact, Regex

from carechain import json_sql
from carechain.api.renderers import RawJSON
from carechain.json_sql import (
    JsonRaw,
    JsonValue,
    LocalIsoDateTime,
    Optional,
    Slot,
    TextConcat,
    json_instant,
    json_template,
)
from referrals.fhir.bundle import AGB_SYSTEM, BSN_SYSTEM

from .claims import CAN_REPLACE
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


def _resource(column, *, identified, related: bool) -> dict:
    """The Claim resource's template; ``column`` names the row's columns (``F``, or ``RowColumn``
    in the trigger). ``identified``: when the claim number is the resource's id (``None``: always);
    ``related``: with the prior version it corrects (``with_versions``'s ``replaces``)."""
    money = {"value": Slot(JsonRaw(Cast(column("amount"), TextField()))), "currency": "EUR"}
    period = {
        "start": Slot(JsonValue(column("start_date"))),
        "end": Slot(JsonValue(column("end_date"))),
    }
    insurer = {
        "type": "Organization",
        "identifier": {"system": UZOVI_SYSTEM, "value": Slot(JsonValue(column("uzovi")))},
    }
    number = JsonValue(column("claim_number"))
    return {
        "resourceType": "Claim",
        "id": Slot(number) if identified is None else Optional("id", number, when=identified),
        "meta": {"lastUpdated": Slot(_instant_sql(column("updated_at")))},
        "contained": [
            {
                "resourceType": "Patient",
                "id": "patient",
                "identifier": [{"system": BSN_SYSTEM, "value": Slot(JsonValue(column("bsn")))}],
                "name": [{"text": Slot(JsonValue(column("patient_name")))}],
                "birthDate": Slot(JsonValue(column("birth_date"))),
            },
            {
                "resourceType": "Coverage",
                "id": "coverage",
                "status": "active",
                "subscriberId": Slot(JsonValue(column("policy_number"))),
                "beneficiary": {"reference": "#patient"},
                "payor": [insurer],
            },
        ],
        "identifier": [{"system": CLAIM_NUMBER_SYSTEM, "value": Slot(number)}],
        "status": Slot(
            Case(
                When(Exact(column("status"), Claim.Status.SUPERSEDED), then=Value('"cancelled"')),
                default=Value('"active"'),
                output_field=TextField(),
            )
        ),
        "type": _coding(CLAIM_TYPE_SYSTEM, "professional"),
        "use": "claim",
        "patient": {"reference": "#patient"},
        "billablePeriod": period,
        "created": Slot(_instant_sql(column("created_at"))),
        "insurer": insurer,
        "provider": {
            "type": "Organization",
            "identifier": {"system": AGB_SYSTEM, "value": Slot(JsonValue(column("provider_agb")))},
        },
        "priority": _coding(PRIORITY_SYSTEM, "normal"),
        **({"related": _related()} if related else {}),
        "careTeam": [
            {
                "sequence": 1,
                "provider": {
                    "type": "Practitioner",
                    "identifier": {
                        "system": AGB_SYSTEM,
                        "value": Slot(JsonValue(column("performer_agb"))),
                    },
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
                        {
                            "system": PRESTATIE_SYSTEM,
                            "code": Slot(JsonValue(column("prestatie_code"))),
                        }
                    ]
                },
                "servicedPeriod": period,
                "net": money,
            }
        ],
        "total": money,
    }


def _related() -> Optional:
    """The prior version a corrected claim replaces (``with_versions``'s ``replaces``), if any."""
    return Optional(
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
    )


def _has_id(column) -> Regex:
    return Regex(column("claim_number"), rf"^{FHIR_ID.pattern}$")


def claim_entry_json_built(*, base_url: str) -> Expression:
    """``claim_search_entry`` in SQL, built whole from the row at read time (for a queryset from
    ``billing.claims.with_versions``).

    The same elements and values as ``claim_resource`` (tests/billing/test_claims_pull.py compares
    them on PostgreSQL, and validates every entry with fhir.resources); what is the same for every
    claim is written once as constant JSON (``json_template``), the ~15 values of each claim are
    filled in by PostgreSQL. An element without a value is left out, as FHIR has no nulls.
    """
    has_id = _has_id(F)
    return json_template(
        {
            "fullUrl": Optional(
                "fullUrl", JsonValue(Concat(Value(base_url), F("claim_number"))), when=has_id
            ),
            "resource": _resource(F, identified=has_id, related=True),
            "search": {"mode": "match"},
        }
    )


_FULL_URL = '{"fullUrl":"'


def claim_entry_stored(column) -> Expression:
    """What ``Claim.fhir_entry`` holds: the entry after ``{"fullUrl":"<base URL>`` (the claim
    number, the resource, the search mode), for a claim number that is a FHIR id; else empty.

    Without ``related``: that names another row's claim number, so a corrected version's entry
    is built at read time (``claim_entry_json``). The base URL is the request's.
    """
    entry = json_template(
        {
            "fullUrl": Slot(JsonValue(column("claim_number"))),
            "resource": _resource(column, identified=None, related=False),
            "search": {"mode": "match"},
        }
    )
    return Case(
        When(_has_id(column), then=Substr(entry, len(_FULL_URL) + 1)),
        default=Value(""),
        output_field=TextField(),
    )


def claim_entry_json(*, base_url: str) -> Expression:
    """``claim_search_entry`` in SQL, for a queryset from ``billing.claims.with_versions``: the
    stored entry behind this request's base URL; the entry built whole for a later version (it may
    name the one it corrects), a claim number that is no FHIR id, or another time zone."""
    built = claim_entry_json_built(base_url=base_url)
    if not json_sql.is_stored_zone():
        return built
    head = _FULL_URL + json.dumps(base_url, ensure_ascii=False)[1:-1]
    return Case(
        When(CAN_REPLACE | Q(fhir_entry=""), then=built),
        default=TextConcat(Value(head), F("fhir_entry")),
        output_field=TextField(),
    )


def claim_search_bundle(entries: RawJSON, *, self_url: str, next_url: str | None) -> RawJSON:
    """A searchset Bundle of one page, ``entries`` its entries as one JSON array; ``next`` pages
    on (no total: counting costs every page)."""
    links = [{"relation": "self", "url": self_url}]
    if next_url:
        links.append({"relation": "next", "url": next_url})
    head = json.dumps({"resourceType": "Bundle", "type": "searchset", "link": links})
    return RawJSON(head[:-1] + ',"entry":', *entries.chunks, "}")  # joined once, by the renderer


def _coding(system: str, code: str) -> dict:
    return {"coding": [{"system": system, "code": code}]}


def _instant_sql(column: Expression) -> JsonRaw:
    return json_instant(LocalIsoDateTime(column, seconds_only=True))
