"""Reading a received Bundle: validation against the R4B models and resolving references inside it.

ZorgDomein and KIS systems point from one entry to another by ``fullUrl`` (``urn:uuid:...``) or by
``Type/id``, and sometimes only by identifier (a logical reference to an AGB code). The mapping in
``fhir_in`` asks this module for "the Organization this reference means" and gets the entry's
position with it, so an error can name the element (``Bundle.entry[3].resource.identifier``).
"""

from __future__ import annotations

import html
import re
from typing import Any, NamedTuple

import pydantic
from django.utils.html import strip_tags
from django.utils.translation import gettext as _
from fhir.resources.R4B.bundle import Bundle

from .errors import FhirError, Issue

BSN_SYSTEM = "http://fhir.nl/fhir/NamingSystem/bsn"
AGB_SYSTEM = "http://fhir.nl/fhir/NamingSystem/agb-z"

_MAX_ISSUES = 10
_BLOCK_END = re.compile(r"<br\s*/?>|</(p|div|li|tr|h\d)>", re.IGNORECASE)


class Found(NamedTuple):
    """A resource of the bundle and where it sits."""

    index: int
    resource: Any

    @property
    def path(self) -> str:
        return f"Bundle.entry[{self.index}].resource"

    @property
    def type(self) -> str:
        return self.resource.get_resource_type()


def load_bundle(payload: object) -> Bundle:
    """The payload as an R4B Bundle; anything else is refused with the elements that are wrong."""
    if not isinstance(payload, dict):
        raise FhirError(400, "structure", _("The body must be a JSON object (a FHIR Bundle)."))
    resource_type = payload.get("resourceType")
    if resource_type != "Bundle":
        raise FhirError(
            400,
            "invalid",
            _("Expected a resource of type Bundle, received %(type)s.")
            % {"type": resource_type or _("no resourceType")},
            "resourceType",
        )
    try:
        return Bundle.model_validate(payload)
    except pydantic.ValidationError as exc:
        issues = [
            Issue(
                "required" if "missing" in error["type"] else "value",
                str(error["msg"]),
                _expression(error["loc"]),
            )
            for error in exc.errors()[:_MAX_ISSUES]
        ]
        raise FhirError.of(422, issues) from None
    except RecursionError:
        raise FhirError(400, "structure", _("The body is nested too deeply.")) from None


def _expression(loc: tuple) -> str:
    path = "Bundle"
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


class BundleIndex:
    def __init__(self, bundle: Bundle):
        self.bundle = bundle
        self.entries: list[Found] = []
        self._by_url: dict[str, Found] = {}
        for index, entry in enumerate(bundle.entry or []):
            if entry.resource is None:
                continue
            found = Found(index, entry.resource)
            self.entries.append(found)
            if entry.fullUrl:
                self._by_url[entry.fullUrl] = found
            if entry.resource.id:
                self._by_url[f"{found.type}/{entry.resource.id}"] = found

    def of_type(self, resource_type: str) -> list[Found]:
        return [found for found in self.entries if found.type == resource_type]

    def resolve(self, reference, *types: str) -> Found | None:
        """The entry a reference points at (by fullUrl, ``Type/id`` or an absolute URL's tail)."""
        target = getattr(reference, "reference", None)
        if not target:
            return None
        found = self._by_url.get(target)
        if found is None and "/" in target:
            found = self._by_url.get("/".join(target.rstrip("/").split("/")[-2:]))
        if found is None or (types and found.type not in types):
            return None
        return found

    def organization_agb(self, reference, expression: str) -> tuple[str, str] | None:
        """(AGB code, where it was found) of the organisation a reference names, if any.

        A PractitionerRole counts as its organisation: a referrer acting for a practice.
        """
        if reference is None:
            return None
        logical = getattr(reference, "identifier", None)
        if logical is not None and logical.system == AGB_SYSTEM and logical.value:
            return logical.value.strip(), f"{expression}.identifier"
        found = self.resolve(reference, "Organization", "PractitionerRole")
        if found is None:
            return None
        if found.type == "PractitionerRole":
            return self.organization_agb(found.resource.organization, f"{found.path}.organization")
        agb = identifier_value(found.resource.identifier, AGB_SYSTEM)
        return (agb, f"{found.path}.identifier") if agb else None

    def practitioner(self, reference) -> Found | None:
        found = self.resolve(reference, "Practitioner", "PractitionerRole")
        if found is not None and found.type == "PractitionerRole":
            return self.resolve(found.resource.practitioner, "Practitioner")
        return found


def identifier_value(identifiers, system: str) -> str:
    for identifier in identifiers or []:
        if identifier.system == system and identifier.value:
            return identifier.value.strip()
    return ""


def narrative_text(narrative) -> str:
    """Plain text of a Narrative's XHTML div, with block elements on their own lines."""
    div = getattr(narrative, "div", None) or ""
    text = html.unescape(strip_tags(_BLOCK_END.sub("\n", div)))
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def concept_text(concept) -> str:
    if concept is None:
        return ""
    if concept.text:
        return concept.text.strip()
    return next((c.display for c in concept.coding or [] if c.display), "")


def has_coding(concept, codes: set[tuple[str, str]]) -> bool:
    return any((c.system, c.code) in codes for c in getattr(concept, "coding", None) or [])


def human_name_text(names) -> str:
    for name in names or []:
        if name.text:
            return name.text.strip()
        parts = [*(name.given or []), name.family or ""]
        text = " ".join(part for part in parts if part)
        if text:
            return text
    return ""
