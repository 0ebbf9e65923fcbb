"""The parties of a referral in a received Bundle: patient, referrer, practice and provider.

A practice and a provider are matched on their AGB code only: the code is what ZorgDomein and the
KIS systems agree on, and an unknown code is refused rather than guessed from a name.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from carechain.models import Patient, Practice, Provider
from carechain.validators import normalise_bsn, validate_agb, validate_bsn

from .bundle import AGB_SYSTEM, BSN_SYSTEM, BundleIndex, Found, human_name_text, identifier_value
from .errors import invalid, required

_OWN_NAME = "http://hl7.org/fhir/StructureDefinition/humanname-own-name"
_OWN_PREFIX = "http://hl7.org/fhir/StructureDefinition/humanname-own-prefix"
_QUALIFIER = "http://hl7.org/fhir/StructureDefinition/iso21090-EN-qualifier"


def _agb(agb: str, expression: str) -> str:
    try:
        validate_agb(agb)
    except ValidationError as exc:
        raise invalid(" ".join(exc.messages), expression) from None
    return agb


def practice_from(index, candidates, *, missing, fallback=(), exclude_agb="") -> Practice:
    hits = [index.organization_agb(ref, expression) for ref, expression in candidates]
    hits = [hit for hit in hits if hit]
    if not hits:
        # Last resort: the one Organization in the bundle that is not the recipient.
        hits = [
            (identifier_value(f.resource.identifier, AGB_SYSTEM), f"{f.path}.identifier")
            for f in fallback
        ]
        hits = [hit for hit in hits if hit[0] and hit[0] != exclude_agb]
        hits = hits if len(hits) == 1 else []
    if not hits:
        raise required(
            _("The referring GP practice (an Organization with an AGB code) is missing."), missing
        )
    agb, expression = hits[0]
    practice = Practice.objects.filter(agb=_agb(agb, expression), is_active=True).first()
    if practice is None:
        raise invalid(
            _("No GP practice with AGB code %(agb)s is known here.") % {"agb": agb},
            expression,
            code="not-found",
        )
    return practice


def provider_from(index, candidates, *, missing) -> Provider:
    hits = [index.organization_agb(ref, expression) for ref, expression in candidates]
    hits = [hit for hit in hits if hit]
    if not hits:
        raise required(
            _("The recipient (the SMR provider, an Organization with an AGB code) is missing."),
            missing,
        )
    agb, expression = hits[0]
    provider = Provider.objects.filter(agb=_agb(agb, expression), is_active=True).first()
    if provider is None:
        raise invalid(
            _("No SMR provider with AGB code %(agb)s receives referrals here.") % {"agb": agb},
            expression,
            code="not-found",
        )
    return provider


def patient_entry(index: BundleIndex, reference) -> Found | None:
    found = index.resolve(reference, "Patient")
    if found is None:
        patients = index.of_type("Patient")
        found = patients[0] if len(patients) == 1 else None
    return found


def patient_bsn(patient: Found) -> str:
    raw = identifier_value(patient.resource.identifier, BSN_SYSTEM)
    expression = f"{patient.path}.identifier.where(system='{BSN_SYSTEM}')"
    if not raw:
        raise required(
            _("The patient has no BSN (identifier system %(system)s).") % {"system": BSN_SYSTEM},
            expression,
        )
    bsn = normalise_bsn(raw)
    try:
        validate_bsn(bsn)
    except ValidationError as exc:
        raise invalid(" ".join(exc.messages), expression) from None
    return bsn


def patient_fields(patient: Found) -> dict:
    resource = patient.resource
    names = resource.name or []
    name = next((n for n in names if n.use == "official"), names[0] if names else None)
    family = (_extension(name.family__ext, _OWN_NAME) or name.family) if name else ""
    if not family:
        raise required(_("The patient's family name is missing."), f"{patient.path}.name.family")
    if not isinstance(resource.birthDate, datetime.date):
        raise required(
            _("The patient's full date of birth (YYYY-MM-DD) is missing."),
            f"{patient.path}.birthDate",
        )
    fields = {
        "last_name": family.strip(),
        "name_prefix": _extension(name.family__ext, _OWN_PREFIX),
        **_given_names(name),
        "birth_date": resource.birthDate,
        "gender": resource.gender
        if resource.gender in Patient.Gender.values
        else Patient.Gender.UNKNOWN,
    }
    for point in resource.telecom or []:
        if (
            point.system == "phone"
            and point.value
            and (point.use == "mobile" or "phone" not in fields)
        ):
            fields["phone"] = point.value.strip()
        if point.system == "email" and point.value and "email" not in fields:
            fields["email"] = point.value.strip()
    address = next(iter(resource.address or []), None)
    if address is not None:
        fields["address"] = " ".join(address.line or [])[:200]
        fields["city"] = (address.city or "")[:100]
        postal_code = (address.postalCode or "").replace(" ", "").upper()
        if len(postal_code) == 6:
            fields["postal_code"] = f"{postal_code[:4]} {postal_code[4:]}"
    return {key: value for key, value in fields.items() if value not in (None, "")}


def _given_names(name) -> dict:
    """First name (the call name when marked) and initials, per the Dutch name qualifiers."""
    given, qualifiers = name.given or [], name.given__ext or []
    by_qualifier: dict[str, list[str]] = {}
    for position, value in enumerate(given):
        extension = qualifiers[position] if position < len(qualifiers) else None
        qualifier = _extension(extension, _QUALIFIER) if extension else ""
        by_qualifier.setdefault(qualifier, []).append(value.strip())
    initials = " ".join(by_qualifier.pop("IN", []))
    call_names = by_qualifier.pop("CL", [])
    others = [value for values in by_qualifier.values() for value in values]
    first_name = (call_names or others or [""])[0]
    if not initials and others:
        initials = "".join(f"{value[0]}." for value in others if value)
    return {"first_name": first_name[:100], "initials": initials[:20]}


def _extension(element, url: str) -> str:
    for extension in getattr(element, "extension", None) or []:
        if extension.url == url:
            return extension.valueString or extension.valueCode or ""
    return ""


def referrer_fields(practitioner: Found | None) -> dict:
    if practitioner is None:
        return {}
    agb = identifier_value(practitioner.resource.identifier, AGB_SYSTEM)
    if agb:
        _agb(agb, f"{practitioner.path}.identifier")
    return {"referrer_name": human_name_text(practitioner.resource.name)[:200], "referrer_agb": agb}
