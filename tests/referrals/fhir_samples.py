"""Sample FHIR R4 Bundles as ZorgDomein and a zorggroep's KIS send them, and ways to post them.

Each builder returns a fresh dict, so a test can break one element (``del bundle["id"]``) and
show the rule it protects. Identifiers are fictional; BSN 123456782 passes the 11-proef.
"""

from __future__ import annotations

import json
import uuid

from referrals.models import Referral, ReferralDocument
from tests import factories

BSN = "123456782"
OTHER_BSN = "111222333"
ZD_NUMBER = "ZD123456789"
KIS_IDENTIFIER = "VIP-2025-000123"
REFERRER_AGB = "01012345"

BSN_SYSTEM = "http://fhir.nl/fhir/NamingSystem/bsn"
AGB_SYSTEM = "http://fhir.nl/fhir/NamingSystem/agb-z"
ZD_TYPE_SYSTEM = "http://zorgdomein.nl/terminology/code-system/document-type"
ZD_NUMBER_SYSTEM = "http://zorgdomein.nl/terminology/code-system/zd-number"
KIS_SYSTEM = "https://viplive.zorggroep-west.example.nl/fhir/NamingSystem/verwijzing"
PROFILE_SYSTEM = "https://smr-ketenzorg.nl/fhir/CodeSystem/smoking-profile"
XHTML = 'xmlns="http://www.w3.org/1999/xhtml"'

ZD_TITLES = {
    "appointment-request": "Afspraakbericht stoppen met roken",
    "referral-letter": "Verwijsbrief stoppen met roken",
    "supplement": "Nazending: longfunctie",
    "cancellation": "Annulering verwijzing",
}


def urn() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def narrative(*paragraphs: str) -> dict:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return {"status": "generated", "div": f"<div {XHTML}>{body}</div>"}


def patient(bsn: str = BSN) -> dict:
    return {
        "resourceType": "Patient",
        "identifier": [{"system": BSN_SYSTEM, "value": bsn}],
        "name": [
            {
                "use": "official",
                "family": "de Vries",
                "_family": {
                    "extension": [
                        {
                            "url": "http://hl7.org/fhir/StructureDefinition/humanname-own-prefix",
                            "valueString": "de",
                        },
                        {
                            "url": "http://hl7.org/fhir/StructureDefinition/humanname-own-name",
                            "valueString": "Vries",
                        },
                    ]
                },
                "given": ["Marieke", "M.J."],
                "_given": [
                    {"extension": [_qualifier("CL")]},
                    {"extension": [_qualifier("IN")]},
                ],
            }
        ],
        "telecom": [
            {"system": "phone", "value": "0165-123456", "use": "home"},
            {"system": "phone", "value": "06-12345678", "use": "mobile"},
            {"system": "email", "value": "m.devries@example.nl"},
        ],
        "gender": "female",
        "birthDate": "1968-03-14",
        "address": [{"line": ["Kerkstraat 12"], "postalCode": "4701AB", "city": "Roosendaal"}],
    }


def _qualifier(code: str) -> dict:
    return {
        "url": "http://hl7.org/fhir/StructureDefinition/iso21090-EN-qualifier",
        "valueCode": code,
    }


def practitioner() -> dict:
    return {
        "resourceType": "Practitioner",
        "identifier": [{"system": AGB_SYSTEM, "value": REFERRER_AGB}],
        "name": [{"text": "P. Jansen", "family": "Jansen", "given": ["Pieter"]}],
    }


def organisation(agb: str, name: str) -> dict:
    return {
        "resourceType": "Organization",
        "identifier": [{"system": AGB_SYSTEM, "value": agb}],
        "name": name,
    }


def smoking_observations(subject: str) -> list[dict]:
    def observation(system, code, display, **value):
        return {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": system, "code": code, "display": display}]},
            "subject": {"reference": subject},
            **value,
        }

    return [
        observation(
            "http://loinc.org",
            "72166-2",
            "Tobacco smoking status",
            valueCodeableConcept={"text": "Rookt dagelijks"},
        ),
        observation(
            "http://loinc.org",
            "63640-6",
            "Cigarettes smoked per day",
            valueQuantity={"value": 20, "unit": "sigaretten per dag", "code": "/d"},
        ),
        observation(PROFILE_SYSTEM, "years-smoked", "Jaren gerookt", valueInteger=30),
        observation(
            PROFILE_SYSTEM, "earlier-quit-attempts", "Eerdere stoppogingen", valueInteger=2
        ),
        observation(
            PROFILE_SYSTEM,
            "motivation",
            "Motivatie",
            valueCodeableConcept={"coding": [{"system": PROFILE_SYSTEM, "code": "motivated"}]},
        ),
    ]


def _entries(resources: dict[str, dict]) -> list[dict]:
    return [{"fullUrl": url, "resource": resource} for url, resource in resources.items()]


def appointment_request(
    *,
    practice_agb: str,
    provider_agb: str,
    bsn: str = BSN,
    zd_number: str = ZD_NUMBER,
    document_id: str | None = None,
) -> dict:
    """ZorgDomein's first document of a referral: who, from whom, to whom, and the request."""
    ids = {name: urn() for name in ("patient", "gp", "role", "practice", "provider", "request")}
    composition = _composition(
        "appointment-request",
        zd_number,
        subject=ids["patient"],
        author=ids["role"],
        sections=[
            {
                "title": "Verwijzing",
                "text": narrative(
                    "Aanmelding voor begeleiding bij stoppen met roken.",
                    "Gekozen zorgproduct: Stoppen met roken (individueel).",
                ),
                "entry": [{"reference": ids["request"]}],
            }
        ],
    )
    composition["custodian"] = {"reference": ids["practice"]}
    resources = {
        urn(): composition,
        ids["patient"]: patient(bsn),
        ids["gp"]: practitioner(),
        ids["role"]: {
            "resourceType": "PractitionerRole",
            "practitioner": {"reference": ids["gp"]},
            "organization": {"reference": ids["practice"]},
        },
        ids["practice"]: organisation(practice_agb, "Huisartsenpraktijk De Linde"),
        ids["provider"]: organisation(provider_agb, "Stoppen BV"),
        ids["request"]: {
            "resourceType": "ServiceRequest",
            "status": "active",
            "intent": "order",
            "code": {"text": "Stoppen met roken begeleiding"},
            "subject": {"reference": ids["patient"]},
            "requester": {"reference": ids["role"]},
            "performer": [{"reference": ids["provider"]}],
            "reasonCode": [
                {"text": "Rookt sinds haar 18e, wil stoppen na een longontsteking in maart."}
            ],
            "note": [{"text": "Liefst 's ochtends bellen, niet op woensdag."}],
        },
    }
    for observation in smoking_observations(ids["patient"]):
        resources[urn()] = observation
    return _document(document_id, resources)


def zorgdomein_document(
    kind: str,
    *,
    zd_number: str = ZD_NUMBER,
    document_id: str | None = None,
    bsn: str | None = BSN,
    paragraphs: tuple[str, ...] = (),
) -> dict:
    """A later ZorgDomein document: referral-letter, supplement or cancellation."""
    subject = urn()
    paragraphs = paragraphs or {
        "referral-letter": ("Anamnese: 30 jaar roker, 20 sigaretten per dag.", "COPD GOLD 2."),
        "supplement": ("Spirometrie 12-05: FEV1 68% van voorspeld.",),
        "cancellation": ("Patiënte is zelf gestopt met roken en ziet af van begeleiding.",),
    }.get(kind, ("Tekst.",))
    section_title = "Reden annulering" if kind == "cancellation" else "Inhoud"
    resources = {
        urn(): _composition(
            kind,
            zd_number,
            subject=subject,
            sections=[{"title": section_title, "text": narrative(*paragraphs)}],
        )
    }
    if bsn is not None:
        resources[subject] = patient(bsn)
    return _document(document_id, resources)


def _composition(kind, zd_number, *, subject, sections, author=None) -> dict:
    return {
        "resourceType": "Composition",
        "identifier": {"system": ZD_NUMBER_SYSTEM, "value": zd_number},
        "status": "final",
        "type": {"coding": [{"system": ZD_TYPE_SYSTEM, "code": kind}]},
        "subject": {"reference": subject},
        "date": "2025-05-12T09:30:00+02:00",
        "author": [{"reference": author} if author else {"display": "ZorgDomein"}],
        "title": ZD_TITLES.get(kind, kind),
        "section": sections,
    }


def _document(document_id: str | None, resources: dict) -> dict:
    return {
        "resourceType": "Bundle",
        "id": document_id or str(uuid.uuid4()),
        "type": "document",
        "timestamp": "2025-05-12T09:30:00+02:00",
        "entry": _entries(resources),
    }


def kis_referral(
    *,
    practice_agb: str,
    provider_agb: str,
    bsn: str = BSN,
    identifier: str = KIS_IDENTIFIER,
    bundle_id: str | None = None,
) -> dict:
    """A zorggroep's KIS (VIPLive-style notified pull): the referral and a Task for the provider."""
    ids = {name: urn() for name in ("patient", "poh", "practice", "request", "task")}
    resources = {
        ids["request"]: {
            "resourceType": "ServiceRequest",
            "identifier": [{"system": KIS_SYSTEM, "value": identifier}],
            "status": "active",
            "intent": "order",
            "code": {
                "coding": [
                    {
                        "system": "http://snomed.info/sct",
                        "code": "710081004",
                        "display": "Smoking cessation therapy",
                    }
                ],
                "text": "Stoppen met roken (ketenzorg DM2)",
            },
            "subject": {"reference": ids["patient"]},
            "requester": {"reference": ids["poh"]},
            "performer": [{"identifier": {"system": AGB_SYSTEM, "value": provider_agb}}],
            "reasonCode": [
                {
                    "coding": [{"system": "http://snomed.info/sct", "code": "44054006"}],
                    "text": "Diabetes mellitus type 2; rookt, wil stoppen (jaarcontrole POH).",
                }
            ],
        },
        ids["patient"]: patient(bsn),
        ids["poh"]: practitioner(),
        ids["practice"]: organisation(practice_agb, "Huisartsenpraktijk De Linde"),
        ids["task"]: {
            "resourceType": "Task",
            "status": "requested",
            "intent": "order",
            "focus": {"reference": ids["request"]},
            "for": {"reference": ids["patient"]},
            "authoredOn": "2025-05-12T10:15:00+02:00",
            "requester": {"reference": ids["practice"]},
            "owner": {
                "identifier": {"system": AGB_SYSTEM, "value": provider_agb},
                "display": "Stoppen BV",
            },
        },
    }
    for observation in smoking_observations(ids["patient"]):
        resources[urn()] = observation
    entries = [
        {**entry, "request": {"method": "POST", "url": entry["resource"]["resourceType"]}}
        for entry in _entries(resources)
    ]
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": entries}
    if bundle_id:
        bundle["id"] = bundle_id
    return bundle


# -- posting ---------------------------------------------------------------------------------------
def auth(key: str) -> dict:
    """The integration's API key; diagnostics in English, so tests can read them."""
    return {"HTTP_AUTHORIZATION": f"Api-Key {key}", "HTTP_ACCEPT_LANGUAGE": "en"}


def post_fhir(api, url: str, bundle, *, key: str | None, content_type="application/fhir+json"):
    body = bundle if isinstance(bundle, str | bytes) else json.dumps(bundle)
    headers = auth(key) if key else {"HTTP_ACCEPT_LANGUAGE": "en"}
    return api.post(url, data=body, content_type=content_type, **headers)


def post_document(api, bundle, *, key: str | None, **kwargs):
    return post_fhir(api, "/fhir/Bundle", bundle, key=key, **kwargs)


def post_kis(api, bundle, *, key: str | None, **kwargs):
    return post_fhir(api, "/fhir", bundle, key=key, **kwargs)


def intake_key(organisation) -> str:
    return factories.api_key(organisation)


def stored_counts() -> tuple[int, int, int]:
    """(referrals, patients, documents): what a refused delivery must leave untouched."""
    from carechain.models import Patient

    return Referral.objects.count(), Patient.objects.count(), ReferralDocument.objects.count()


def outcome_issue(response) -> dict:
    """The first issue of an OperationOutcome answer (and proof that it is one)."""
    body = response.json()
    assert response["Content-Type"].startswith("application/fhir+json"), response["Content-Type"]
    assert body["resourceType"] == "OperationOutcome", body
    issue = body["issue"][0]
    assert issue["severity"] == "error"
    assert issue["diagnostics"]
    return issue
