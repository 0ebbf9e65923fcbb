"""The personal invitation letters: the practice's text with placeholders, rendered safely.

The practice edits plain text; ``{naam}`` and the other ``PLACEHOLDERS`` are filled in by a plain
string substitution, and the result is escaped by the letter template like any other value. The
text is never compiled as a Django template, so nothing a user types can run template code.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation

from carechain.pdf import html_to_document

from .models import PLACEHOLDERS, Campaign, Invitee, format_code

PLACEHOLDER = re.compile(r"\{([^{}\s]{1,40})\}")


def answer_url() -> str:
    return settings.PUBLIC_URL.rstrip("/") + reverse("campaign-answer")


def unknown_placeholders(text: str) -> list[str]:
    return sorted({name for name in PLACEHOLDER.findall(text) if name not in PLACEHOLDERS})


def fill(text: str, values: dict[str, str]) -> str:
    """Replace the known placeholders; anything else between braces stays as typed."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def letter_values(campaign: Campaign, invitee: Invitee) -> dict[str, str]:
    with translation.override("nl"):
        today = formats.date_format(timezone.localdate(), "j F Y")
    return {
        "naam": invitee.salutation_name or invitee.full_name,
        "aanhef_naam": invitee.salutation_name or invitee.full_name,
        "code": format_code(invitee.response_code or ""),
        "adres_website": answer_url(),
        "praktijk": campaign.practice.name,
        "datum": today,
    }


def sample_invitee() -> Invitee:
    """The fictional addressee of the preview, so a preview shows nobody's data."""
    return Invitee(
        initials="J.",
        first_name="Jan",
        name_prefix="de",
        last_name="Vries",
        address="Voorbeeldstraat 1",
        postal_code="1234 AB",
        city="Voorbeeld",
        response_code="ABCDE23456",
    )


def letter_context(campaign: Campaign, invitee: Invitee, *, text: str | None = None) -> dict:
    values = letter_values(campaign, invitee)
    return {
        "campaign": campaign,
        "practice": campaign.practice,
        "invitee": invitee,
        "body": fill(campaign.letter_text if text is None else text, values),
        "code": values["code"],
        "url": values["adres_website"],
        "date": values["datum"],
    }


def render_letter_html(campaign: Campaign, invitee: Invitee, *, text: str | None = None) -> str:
    with translation.override("nl"):
        context = letter_context(campaign, invitee, text=text)
        return render_to_string(
            "campaigns/letters/invitation.html", {"l": context, "campaign": campaign}
        )


def render_letters_pdf(campaign: Campaign, invitees: list[Invitee]) -> tuple[bytes, list[int]]:
    """One PDF of the invitees' letters in order, and the number of pages of each letter."""
    documents = [html_to_document(render_letter_html(campaign, invitee)) for invitee in invitees]
    pages = [page for document in documents for page in document.pages]
    return documents[0].copy(pages).write_pdf(), [len(d.pages) for d in documents]


def batch_filename(campaign: Campaign) -> str:
    return f"brievenactie-{campaign.pk}.pdf"


def invitee_filename(invitee: Invitee) -> str:
    return f"brief-{invitee.campaign_id}-{invitee.pk}.pdf"
