"""Realistic examples for the claims API's schema (fictitious insured, public test BSN)."""

from drf_spectacular.utils import OpenApiExample

CLAIM = {
    "claim_number": "SMR-00000187-SMR01-1",
    "version": 1,
    "status": "submitted",
    "bsn": "123456782",
    "patient_name": "Marieke de Vries",
    "birth_date": "1968-03-14",
    "uzovi": "3332",
    "policy_number": "POL-20931177",
    "provider_agb": "73730001",
    "performer_agb": "90123456",
    "prestatie_code": "SMR01",
    "start_date": "2026-03-02",
    "end_date": "2026-05-11",
    "amount": "268.00",
    "rejection_code": "",
    "rejection_text": "",
    "answered_at": None,
    "created_at": "2026-05-11T02:15:03+02:00",
    "updated_at": "2026-05-11T02:15:03+02:00",
    "replaces": None,
    "replaced_by": None,
}

REJECTED = {
    **CLAIM,
    "status": "rejected",
    "rejection_code": "8001",
    "rejection_text": "Verzekerde niet gevonden op peildatum",
    "answered_at": "2026-05-13T09:40:12+02:00",
    "updated_at": "2026-05-13T09:40:12+02:00",
}

CORRECTED = {
    **CLAIM,
    "claim_number": "SMR-00000187-SMR01-2",
    "version": 2,
    "policy_number": "POL-20931178",
    "created_at": "2026-05-14T10:02:55+02:00",
    "updated_at": "2026-05-14T10:02:55+02:00",
    "replaces": "SMR-00000187-SMR01-1",
}

LIST_RESPONSE = OpenApiExample("A submitted claim", response_only=True, value=CLAIM)
DETAIL_RESPONSE = OpenApiExample("A submitted claim", response_only=True, value=CLAIM)
REJECTED_RESPONSE = OpenApiExample("A rejected claim", response_only=True, value=REJECTED)

ANSWERS_REQUEST = OpenApiExample(
    "Accept one claim, reject another",
    request_only=True,
    value={
        "answers": [
            {"claim_number": "SMR-00000187-SMR01-1", "outcome": "accepted"},
            {
                "claim_number": "SMR-00000187-SMR02-1",
                "outcome": "rejected",
                "reason_code": "8001",
                "reason_text": "Verzekerde niet gevonden op peildatum",
            },
        ]
    },
)

ANSWERS_RESPONSE = OpenApiExample(
    "Both answers applied",
    response_only=True,
    status_codes=["200"],
    value={
        "results": [
            {
                "claim_number": "SMR-00000187-SMR01-1",
                "status": "accepted",
                "rejection_code": "",
                "rejection_text": "",
                "answered_at": "2026-05-13T09:40:12+02:00",
                "changed": True,
            },
            {
                "claim_number": "SMR-00000187-SMR02-1",
                "status": "rejected",
                "rejection_code": "8001",
                "rejection_text": "Verzekerde niet gevonden op peildatum",
                "answered_at": "2026-05-13T09:40:12+02:00",
                "changed": True,
            },
        ]
    },
)

ANSWERS_BAD_REQUEST = OpenApiExample(
    "An unknown claim number",
    response_only=True,
    status_codes=["400"],
    value={
        "answers": [
            {},
            {"claim_number": ["No claim SMR-00000999-SMR01-1 is addressed to you."]},
        ]
    },
)

ANSWERS_CONFLICT = OpenApiExample(
    "Already answered differently",
    response_only=True,
    status_codes=["409"],
    value={
        "detail": "These claims were already answered differently or have been superseded by a "
        "corrected version; nothing was saved: SMR-00000187-SMR01-1",
        "claim_numbers": ["SMR-00000187-SMR01-1"],
    },
)

RESUBMIT_REQUEST = OpenApiExample(
    "Correct the policy number",
    request_only=True,
    value={"policy_number": "POL-20931178"},
)

RESUBMIT_RESPONSE = OpenApiExample(
    "The corrected version",
    response_only=True,
    status_codes=["201"],
    value=CORRECTED,
)

RESUBMIT_CONFLICT = OpenApiExample(
    "Not rejected",
    response_only=True,
    status_codes=["409"],
    value={
        "detail": "Only a rejected claim can be corrected and resubmitted; "
        "SMR-00000187-SMR01-1 is accepted.",
        "claim_numbers": ["SMR-00000187-SMR01-1"],
    },
)


# -- FHIR ----------------------------------------------------------------------------------------
_BSN = "http://fhir.nl/fhir/NamingSystem/bsn"
_AGB = "http://fhir.nl/fhir/NamingSystem/agb-z"
_UZOVI = "http://fhir.nl/fhir/NamingSystem/uzovi"
_CLAIM_NUMBER = "https://smr-ketenzorg.nl/fhir/NamingSystem/claim-number"
_REASON = "https://smr-ketenzorg.nl/fhir/CodeSystem/rejection-reason"
_PROFESSIONAL = {
    "coding": [
        {"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "professional"}
    ]
}

FHIR_CLAIM = OpenApiExample(
    "A submitted claim",
    response_only=True,
    value={
        "resourceType": "Claim",
        "id": "SMR-00000187-SMR01-1",
        "meta": {"lastUpdated": "2026-05-11T02:15:03+02:00"},
        "contained": [
            {
                "resourceType": "Patient",
                "id": "patient",
                "identifier": [{"system": _BSN, "value": "123456782"}],
                "name": [{"text": "Marieke de Vries"}],
                "birthDate": "1968-03-14",
            },
            {
                "resourceType": "Coverage",
                "id": "coverage",
                "status": "active",
                "subscriberId": "POL-20931177",
                "beneficiary": {"reference": "#patient"},
                "payor": [
                    {"type": "Organization", "identifier": {"system": _UZOVI, "value": "3332"}}
                ],
            },
        ],
        "identifier": [{"system": _CLAIM_NUMBER, "value": "SMR-00000187-SMR01-1"}],
        "status": "active",
        "type": _PROFESSIONAL,
        "use": "claim",
        "patient": {"reference": "#patient"},
        "billablePeriod": {"start": "2026-03-02", "end": "2026-05-11"},
        "created": "2026-05-11T02:15:03+02:00",
        "insurer": {"type": "Organization", "identifier": {"system": _UZOVI, "value": "3332"}},
        "provider": {"type": "Organization", "identifier": {"system": _AGB, "value": "73730001"}},
        "priority": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/processpriority",
                    "code": "normal",
                }
            ]
        },
        "careTeam": [
            {
                "sequence": 1,
                "provider": {
                    "type": "Practitioner",
                    "identifier": {"system": _AGB, "value": "90123456"},
                },
                "role": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/claimcareteamrole",
                            "code": "primary",
                        }
                    ]
                },
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
                            "system": "https://smr-ketenzorg.nl/fhir/CodeSystem/nza-prestatie",
                            "code": "SMR01",
                        }
                    ]
                },
                "servicedPeriod": {"start": "2026-03-02", "end": "2026-05-11"},
                "net": {"value": 268.0, "currency": "EUR"},
            }
        ],
        "total": {"value": 268.0, "currency": "EUR"},
    },
)

FHIR_CLAIM_SEARCH = OpenApiExample(
    "A page of claims",
    response_only=True,
    value={
        "resourceType": "Bundle",
        "type": "searchset",
        "link": [
            {"relation": "self", "url": "https://smr.example.nl/fhir/Claim?_count=2"},
            {
                "relation": "next",
                "url": "https://smr.example.nl/fhir/Claim?_count=2&_cursor=cD0xODc%3D",
            },
        ],
        "entry": [
            {
                "fullUrl": "https://smr.example.nl/fhir/Claim/SMR-00000187-SMR01-1",
                "resource": FHIR_CLAIM.value,
                "search": {"mode": "match"},
            }
        ],
    },
)

_CLAIM_RESPONSE = {
    "resourceType": "ClaimResponse",
    "status": "active",
    "type": _PROFESSIONAL,
    "use": "claim",
    "patient": {"type": "Patient", "identifier": {"system": _BSN, "value": "123456782"}},
    "created": "2026-05-13T09:40:12+02:00",
    "insurer": {"type": "Organization", "identifier": {"system": _UZOVI, "value": "3332"}},
    "request": {"reference": "Claim/SMR-00000187-SMR01-1"},
    "outcome": "error",
    "disposition": "Verzekerde niet gevonden op peildatum",
    "error": [
        {
            "code": {
                "coding": [{"system": _REASON, "code": "8001"}],
                "text": "Verzekerde niet gevonden op peildatum",
            }
        }
    ],
}

FHIR_CLAIM_RESPONSE_REQUEST = OpenApiExample(
    "Reject with reason 8001", request_only=True, value=_CLAIM_RESPONSE
)
FHIR_CLAIM_RESPONSE_ACCEPT = OpenApiExample(
    "Accept",
    request_only=True,
    value={
        key: value for key, value in _CLAIM_RESPONSE.items() if key not in {"error", "disposition"}
    }
    | {"outcome": "complete"},
)
FHIR_CLAIM_RESPONSE_STORED = OpenApiExample(
    "The answer as stored",
    response_only=True,
    status_codes=["201", "200"],
    value={
        **_CLAIM_RESPONSE,
        "requestor": {"type": "Organization", "identifier": {"system": _AGB, "value": "73730001"}},
        "request": {
            "reference": "Claim/SMR-00000187-SMR01-1",
            "identifier": {"system": _CLAIM_NUMBER, "value": "SMR-00000187-SMR01-1"},
        },
    },
)
FHIR_NOT_FOUND = OpenApiExample(
    "Not addressed to you",
    response_only=True,
    status_codes=["404"],
    value={
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": "not-found",
                "diagnostics": "No claim SMR-00000999-SMR01-1 is addressed to your organisation.",
            }
        ],
    },
)
FHIR_CONFLICT = OpenApiExample(
    "Already answered differently",
    response_only=True,
    status_codes=["409"],
    value={
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": "conflict",
                "diagnostics": "These claims were already answered differently or have been "
                "superseded by a corrected version; nothing was saved: SMR-00000187-SMR01-1",
                "expression": ["ClaimResponse.request"],
            }
        ],
    },
)
FHIR_UNPROCESSABLE = OpenApiExample(
    "Unknown rejection reason",
    response_only=True,
    status_codes=["422"],
    value={
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": "code-invalid",
                "diagnostics": "Unknown rejection reason 9999.",
                "expression": ["ClaimResponse.error[0].code.coding[0].code"],
            }
        ],
    },
)
