"""The FHIR Claim search's entries as JSON made by PostgreSQL, and the searchset Bundle of a page.

``billing.fhir.claim_resource`` stays the definition of a FHIR Claim (the read, and the search on any
database but PostgreSQL, through ``claim_search_entry``); ``claim_entry_json`` writes the same
elements with the same values in SQL, so a pull of 100,000 claims does not build and validate
100,000 fhir.resources models. tests/billing/test_claims_pull.py compares the two on PostgreSQL.
"""

from __future__ import annotations

import json

from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Concat

from carechain.api.renderers import RawJSON
from carechain.json_sql import JsonBuildArray, JsonBuildObject, JsonText, LocalIsoDateTime
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


def claim_entry_json(*, base_url: str) -> JsonText:
    """``claim_search_entry`` in SQL, for a queryset from ``billing.claims.with_links``.

    The same elements and values as ``claim_resource`` (tests/billing/test_claims_pull.py compares
    them on PostgreSQL); nulls are left out, as FHIR has none.
    """
    money = JsonBuildObject({"value": F("amount"), "currency": Value("EUR")})
    period = JsonBuildObject({"start": F("start_date"), "end": F("end_date")})
    insurer = JsonBuildObject(
        {
            "type": Value("Organization"),
            "identifier": JsonBuildObject({"system": Value(UZOVI_SYSTEM), "value": F("uzovi")}),
        }
    )
    has_id = Q(claim_number__regex=rf"^{FHIR_ID.pattern}$")
    resource = JsonBuildObject(
        {
            "resourceType": Value("Claim"),
            "id": Case(When(has_id, then=F("claim_number")), default=None),
            "meta": JsonBuildObject({"lastUpdated": _instant_sql("updated_at")}),
            "contained": JsonBuildArray(
                JsonBuildObject(
                    {
                        "resourceType": Value("Patient"),
                        "id": Value("patient"),
                        "identifier": JsonBuildArray(
                            JsonBuildObject({"system": Value(BSN_SYSTEM), "value": F("bsn")})
                        ),
                        "name": JsonBuildArray(JsonBuildObject({"text": F("patient_name")})),
                        "birthDate": F("birth_date"),
                    }
                ),
                JsonBuildObject(
                    {
                        "resourceType": Value("Coverage"),
                        "id": Value("coverage"),
                        "status": Value("active"),
                        "subscriberId": F("policy_number"),
                        "beneficiary": JsonBuildObject({"reference": Value("#patient")}),
                        "payor": JsonBuildArray(insurer),
                    }
                ),
            ),
            "identifier": JsonBuildArray(
                JsonBuildObject({"system": Value(CLAIM_NUMBER_SYSTEM), "value": F("claim_number")})
            ),
            "status": Case(
                When(status=Claim.Status.SUPERSEDED, then=Value("cancelled")),
                default=Value("active"),
            ),
            "type": _coding_sql(CLAIM_TYPE_SYSTEM, "professional"),
            "use": Value("claim"),
            "patient": JsonBuildObject({"reference": Value("#patient")}),
            "billablePeriod": period,
            "created": _instant_sql("created_at"),
            "insurer": insurer,
            "provider": JsonBuildObject(
                {
                    "type": Value("Organization"),
                    "identifier": JsonBuildObject(
                        {"system": Value(AGB_SYSTEM), "value": F("provider_agb")}
                    ),
                }
            ),
            "priority": _coding_sql(PRIORITY_SYSTEM, "normal"),
            "related": Case(
                When(
                    replaces__isnull=False,
                    then=JsonBuildArray(
                        JsonBuildObject(
                            {
                                "claim": JsonBuildObject(
                                    {
                                        "type": Value("Claim"),
                                        "identifier": JsonBuildObject(
                                            {
                                                "system": Value(CLAIM_NUMBER_SYSTEM),
                                                "value": F("replaces"),
                                            }
                                        ),
                                    }
                                ),
                                "relationship": _coding_sql(RELATED_CLAIM_SYSTEM, "prior"),
                            }
                        )
                    ),
                ),
                default=None,
            ),
            "careTeam": JsonBuildArray(
                JsonBuildObject(
                    {
                        "sequence": Value(1),
                        "provider": JsonBuildObject(
                            {
                                "type": Value("Practitioner"),
                                "identifier": JsonBuildObject(
                                    {"system": Value(AGB_SYSTEM), "value": F("performer_agb")}
                                ),
                            }
                        ),
                        "role": _coding_sql(CARE_TEAM_ROLE_SYSTEM, "primary"),
                    }
                )
            ),
            "insurance": JsonBuildArray(
                JsonBuildObject(
                    {
                        "sequence": Value(1),
                        "focal": Value(True),
                        "coverage": JsonBuildObject({"reference": Value("#coverage")}),
                    }
                )
            ),
            "item": JsonBuildArray(
                JsonBuildObject(
                    {
                        "sequence": Value(1),
                        "careTeamSequence": JsonBuildArray(Value(1)),
                        "productOrService": JsonBuildObject(
                            {
                                "coding": JsonBuildArray(
                                    JsonBuildObject(
                                        {
                                            "system": Value(PRESTATIE_SYSTEM),
                                            "code": F("prestatie_code"),
                                        }
                                    )
                                )
                            }
                        ),
                        "servicedPeriod": period,
                        "net": money,
                    }
                )
            ),
            "total": money,
        }
    )
    return JsonText(
        JsonBuildObject(
            {
                "fullUrl": Case(
                    When(has_id, then=Concat(Value(base_url), F("claim_number"))), default=None
                ),
                "resource": resource,
                "search": JsonBuildObject({"mode": Value("match")}),
            },
            strip_nulls=True,
        )
    )


def claim_search_bundle(entries: RawJSON, *, self_url: str, next_url: str | None) -> RawJSON:
    """A searchset Bundle of one page, ``entries`` its entries as one JSON array; ``next`` pages
    on (no total: counting costs every page)."""
    links = [{"relation": "self", "url": self_url}]
    if next_url:
        links.append({"relation": "next", "url": next_url})
    head = json.dumps({"resourceType": "Bundle", "type": "searchset", "link": links})
    return RawJSON(head[:-1] + ',"entry":' + entries.text + "}")


def _coding_sql(system: str, code: str) -> JsonBuildObject:
    return JsonBuildObject(
        {"coding": JsonBuildArray(JsonBuildObject({"system": Value(system), "code": Value(code)}))}
    )


def _instant_sql(field: str) -> LocalIsoDateTime:
    return LocalIsoDateTime(field, seconds_only=True)
