"""FHIR out: each feedback letter as data, a FHIR document Bundle the referrer's HIS or KIS files.

A letter (``FeedbackLetter``) is what a person reads; this is the same moment for a system. Like the
PDF it is built from the facts copied onto the letter when the moment happened, never from the live
trajectory, so a Bundle read today says what the letter said then. The Task lists every Bundle in
``Task.output``.

Codes, after HL7 BSeR's tobacco-use cessation feedback:
- smoking status: LOINC 72166-2 with the SNOMED CT answers BSeR and US Core use
  (77176002 smoker, 8517006 ex-smoker, 266927001 consumption unknown);
- quit date: SNOMED CT 390901002 "Negotiated date for cessation of smoking", valueDateTime;
- medication: ``MedicationStatement`` coded by ATC (the classification the Dutch G-Standaard
  uses); nicotine replacement also carries SNOMED CT 151159008;
- exhaled CO (ppm), the number of contacts, the outcome and the escalation to the POH-GGZ: codes of
  our own CodeSystem, because we could not confirm a LOINC or SNOMED code in common use for them.

The escalation to the POH-GGZ appears only as the fact and its date: never the reason, the
sessions or anything the POH-GGZ wrote (mental-health content stays in her record).
"""

from __future__ import annotations

import base64
import hashlib
import uuid

from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext as _
from fhir.resources.R4B.bundle import Bundle

from ..models import FeedbackLetter, Referral
from .bundle import AGB_SYSTEM, BSN_SYSTEM
from .fhir_in import LOINC, SNOMED
from .fhir_out import FEEDBACK_ID_SYSTEM, FEEDBACK_MOMENT_SYSTEM, SMR_SYSTEM_BASE, _instant, _pruned

FEEDBACK_CODE_SYSTEM = f"{SMR_SYSTEM_BASE}/CodeSystem/smr-feedback"
ATC = "http://www.whocc.no/atc"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

CONSULT_NOTE = {"system": LOINC, "code": "11488-4", "display": "Consult note"}
SMOKING_STATUS = {"system": LOINC, "code": "72166-2", "display": "Tobacco smoking status"}
QUIT_DATE = {
    "system": SNOMED,
    "code": "390901002",
    "display": "Negotiated date for cessation of smoking",
}
_SMOKER = {"system": SNOMED, "code": "77176002", "display": "Smoker"}
_EX_SMOKER = {"system": SNOMED, "code": "8517006", "display": "Ex-smoker"}
_UNKNOWN = {"system": SNOMED, "code": "266927001", "display": "Tobacco smoking consumption unknown"}
# The trajectory's status words (pathways.models.SmokingStatus, Outcome, FollowUpOutcome).
_SMOKING_ANSWER = {
    "smoking": _SMOKER,
    "lapse": _EX_SMOKER,  # ≤ 5 cigarettes since the quit date: abstinent per the Russell Standard
    "smoke_free": _EX_SMOKER,
    "not_reached": _UNKNOWN,  # lost to follow-up; counts as smoking in the outcome
}
_OUTCOME = {
    "smoke_free": "smoke-free",
    "lapse": "smoke-free",
    "smoking": "smoking",
    "not_reached": "smoking-not-reached",
}
_MEDICATION = {
    "nrt_patch": ("N07BA01", "nicotine", "151159008"),
    "nrt_gum": ("N07BA01", "nicotine", "151159008"),
    "nrt_lozenge": ("N07BA01", "nicotine", "151159008"),
    "varenicline": ("N07BA03", "varenicline", ""),
    "bupropion": ("N06AX12", "bupropion", ""),
    "nortriptyline": ("N06AA10", "nortriptyline", ""),
}
# Moments whose medication was given during treatment; at intake it is the plan.
_MEDICATION_TAKEN = {FeedbackLetter.Kind.END_OF_TREATMENT}


def feedback_bundle(letter: FeedbackLetter, *, pdf: bytes | None) -> Bundle:
    """The document Bundle of one feedback moment; ``letter`` comes with its referral, practice,
    provider and patient. ``pdf`` is the rendered letter (None while it is still being rendered).
    Dutch, as the letter is: it is a document for a Dutch GP practice, whoever asks for it."""
    with translation.override("nl"):
        return _feedback_bundle(letter, pdf=pdf)


def _feedback_bundle(letter: FeedbackLetter, *, pdf: bytes | None) -> Bundle:
    referral: Referral = letter.referral
    facts, moment = letter.facts, letter.facts.get("moment", {})
    when = _instant(letter.created_at)
    effective = _effective_date(letter) or when[:10]
    subject = {
        "type": "Patient",
        "identifier": {"system": BSN_SYSTEM, "value": referral.patient.bsn},
    }
    author = _organisation(referral.provider)
    ids = _ids(letter)

    observations = _observations(letter, moment, subject=subject, author=author, day=effective)
    medication = _medication_statements(letter, moment, subject=subject, day=effective)
    document = _document_reference(letter, pdf, subject=subject, author=author, when=when)
    entries = [
        (ids("observation", n), "Observation", resource) for n, resource in enumerate(observations)
    ] + [
        (ids("medication", n), "MedicationStatement", resource)
        for n, resource in enumerate(medication)
    ]
    label = str(FeedbackLetter.Kind(letter.kind).label)
    composition = {
        "resourceType": "Composition",
        "id": str(ids("composition", 0)),
        "identifier": {"system": FEEDBACK_ID_SYSTEM, "value": str(letter.public_id)},
        "status": "final",
        "type": {"coding": [CONSULT_NOTE], "text": _("Stop-smoking feedback")},
        "category": [
            {"coding": [{"system": FEEDBACK_MOMENT_SYSTEM, "code": letter.kind, "display": label}]}
        ],
        "subject": subject,
        "date": when,
        "author": [author],
        "title": _("Stop-smoking feedback: %(moment)s") % {"moment": label},
        "custodian": author,
        "section": [
            {
                "title": label,
                "code": {"coding": [{"system": FEEDBACK_MOMENT_SYSTEM, "code": letter.kind}]},
                "focus": {"reference": f"ServiceRequest/{referral.public_id}"},
                "text": _narrative(_summary(letter, moment, facts)),
                "entry": [{"reference": f"urn:uuid:{uid}"} for uid, _kind, _r in entries]
                + [{"reference": f"urn:uuid:{ids('document', 0)}"}],
            }
        ],
    }
    all_entries = [(ids("composition", 0), "Composition", composition)]
    all_entries += entries
    all_entries.append((ids("document", 0), "DocumentReference", document))
    bundle = {
        "resourceType": "Bundle",
        "id": str(letter.public_id),
        "meta": {"lastUpdated": _instant(letter.rendered_at or letter.created_at)},
        "identifier": {"system": FEEDBACK_ID_SYSTEM, "value": str(letter.public_id)},
        "type": "document",
        "timestamp": when,
        "entry": [
            {"fullUrl": f"urn:uuid:{uid}", "resource": {**resource, "id": str(uid)}}
            for uid, _kind, resource in all_entries
        ],
    }
    for entry, (_uid, kind, _resource) in zip(bundle["entry"], all_entries, strict=True):
        entry["resource"]["resourceType"] = kind
    return Bundle.model_validate(_pruned(bundle))


def _ids(letter: FeedbackLetter):
    """Stable ids of the Bundle's resources: the same letter always gives the same document."""

    def make(kind: str, n: int) -> uuid.UUID:
        return uuid.uuid5(letter.public_id, f"{kind}:{n}")

    return make


def _effective_date(letter: FeedbackLetter) -> str | None:
    moment = letter.facts.get("moment", {})
    for name in ("end_date", "call_date", "intake_date", "date"):
        if moment.get(name):
            return moment[name]
    return None


def _observations(letter, moment, *, subject, author, day) -> list[dict]:
    base = {
        "status": "final",
        "subject": subject,
        "effectiveDateTime": day,
        "performer": [author],
    }
    social = [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "social-history"}]}]
    found = []
    status = moment.get("smoking_status_code")
    if status in _SMOKING_ANSWER:
        found.append(
            {
                **base,
                "category": social,
                "code": {"coding": [SMOKING_STATUS]},
                "valueCodeableConcept": {"coding": [_SMOKING_ANSWER[status]]},
            }
        )
    if moment.get("quit_date"):
        found.append(
            {
                **base,
                "category": social,
                "code": {"coding": [QUIT_DATE]},
                "valueDateTime": moment["quit_date"],
            }
        )
    if moment.get("co_ppm") is not None:
        found.append(
            {
                **base,
                "code": _local("exhaled-co", _("Carbon monoxide in exhaled air")),
                "valueQuantity": {
                    "value": moment["co_ppm"],
                    "unit": "ppm",
                    "system": UCUM,
                    "code": "[ppm]",
                },
            }
        )
    if moment.get("contacts") is not None:
        found.append(
            {
                **base,
                "code": _local("contacts", _("Number of counselling contacts")),
                "valueInteger": moment["contacts"],
            }
        )
    kind = letter.kind
    if kind in (FeedbackLetter.Kind.END_OF_TREATMENT, FeedbackLetter.Kind.FOLLOW_UP_RESULT):
        outcome = _OUTCOME.get(status)
        if outcome:
            code = (
                "treatment-outcome"
                if kind == FeedbackLetter.Kind.END_OF_TREATMENT
                else ("follow-up-outcome")
            )
            found.append(
                {
                    **base,
                    "code": _local(code, str(FeedbackLetter.Kind(kind).label)),
                    "valueCodeableConcept": {
                        "coding": [{"system": FEEDBACK_CODE_SYSTEM, "code": outcome}],
                        "text": moment.get("result", ""),
                    },
                }
            )
    if kind == FeedbackLetter.Kind.CARE_STOPPED:
        found.append(
            {
                **base,
                "code": _local("care-stopped", _("Care stopped")),
                "valueCodeableConcept": {"text": moment.get("reason", "")},
            }
        )
    if kind in (FeedbackLetter.Kind.ESCALATED, FeedbackLetter.Kind.ESCALATION_RETURNED):
        code = (
            "escalated-to-poh-ggz"
            if kind == FeedbackLetter.Kind.ESCALATED
            else ("returned-from-poh-ggz")
        )
        found.append(
            {
                **base,
                "code": _local(code, str(FeedbackLetter.Kind(kind).label)),
                "valueDateTime": moment.get("date") or day,
            }
        )
    return found


def _medication_statements(letter, moment, *, subject, day) -> list[dict]:
    taken = letter.kind in _MEDICATION_TAKEN
    statements, seen = [], set()
    for code in moment.get("medication_codes", []):
        if code not in _MEDICATION or _MEDICATION[code][0] in seen and code.startswith("nrt_"):
            continue
        atc, name, snomed = _MEDICATION[code]
        seen.add(atc)
        coding = [{"system": ATC, "code": atc, "display": name}]
        if snomed:
            coding.append(
                {"system": SNOMED, "code": snomed, "display": "Nicotine replacement therapy"}
            )
        statements.append(
            {
                "status": "completed" if taken else "intended",
                "medicationCodeableConcept": {"coding": coding, "text": name},
                "subject": subject,
                "dateAsserted": day,
            }
        )
    return statements


def _document_reference(letter, pdf: bytes | None, *, subject, author, when) -> dict:
    attachment = {
        "contentType": "application/pdf",
        "language": "nl",
        "title": f"terugkoppeling-{letter.public_id}.pdf",
        "creation": when,
    }
    if pdf is not None:
        attachment["data"] = base64.b64encode(pdf).decode()
        attachment["size"] = len(pdf)
        attachment["hash"] = base64.b64encode(hashlib.sha1(pdf).digest()).decode()  # noqa: S324
    return {
        "identifier": [{"system": FEEDBACK_ID_SYSTEM, "value": f"{letter.public_id}-pdf"}],
        "status": "current",
        "docStatus": "final" if pdf is not None else "preliminary",
        "type": {"coding": [CONSULT_NOTE]},
        "subject": subject,
        "date": when,
        "author": [author],
        "description": str(FeedbackLetter.Kind(letter.kind).label),
        "content": [{"attachment": attachment}],
    }


def _summary(letter, moment, facts) -> list[str]:
    lines = [str(FeedbackLetter.Kind(letter.kind).label)]
    if moment.get("quit_date"):
        lines.append(_("Quit date: %(date)s") % {"date": moment["quit_date"]})
    if moment.get("result"):
        lines.append(_("Result: %(result)s") % {"result": moment["result"]})
    if moment.get("co_ppm") is not None:
        lines.append(_("CO: %(ppm)s ppm") % {"ppm": moment["co_ppm"]})
    if moment.get("contacts") is not None:
        lines.append(_("Contacts: %(n)s") % {"n": moment["contacts"]})
    return lines


def _narrative(lines: list[str]) -> dict:
    body = "".join(f"<p>{escape(line)}</p>" for line in lines)
    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{body}</div>'}


def _local(code: str, display: str) -> dict:
    return {"coding": [{"system": FEEDBACK_CODE_SYSTEM, "code": code, "display": display}]}


def _organisation(organisation) -> dict:
    return {
        "type": "Organization",
        "identifier": {"system": AGB_SYSTEM, "value": organisation.agb},
        "display": organisation.name,
    }
