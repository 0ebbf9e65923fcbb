"""Markup and SQL typed into any free-text field come back as text, on every page and in the PDFs.

Every free-text column of the project's models (names, notes, addresses, reasons, descriptions…) is
filled with markup, quotes and SQL, then every page of the access matrix is asked for by every
persona: no page may contain the markup as markup, and none may fail.
"""

from __future__ import annotations

import io

import pytest
from django.apps import apps
from django.db import models
from django_fsm import FSMField
from pypdf import PdfReader

from tests.access_rules import COACH, PERSONAS, PRIVACY, RULES
from tests.access_world import ask, endpoints, rule_id, rules_for, skip_reason, world_for_module

MARK = "<zz>"
PAYLOAD = f"{MARK}'\"&"  # 7 characters: fits the shortest free-text columns (postal code)
LONG_PAYLOAD = f"{PAYLOAD} <script>alert(1)</script> '; DROP TABLE carechain_patient; --"
APPS = ("carechain", "referrals", "pathways", "billing", "reminders", "campaigns")
# Identifiers and log-in names: what they may contain is checked where they are entered.
NOT_FREE_TEXT = {"username", "password", "bsn", "agb", "uzovi", "prefix", "hashed_key", "iban"}


def free_text_fields(model) -> list[models.Field]:
    unique_together = {name for names in model._meta.unique_together for name in names}
    constrained = {
        name
        for constraint in model._meta.constraints
        if isinstance(constraint, models.UniqueConstraint)
        for name in constraint.fields
    }
    return [
        field
        for field in model._meta.local_fields
        if isinstance(field, models.CharField | models.TextField)
        and not isinstance(field, FSMField)
        and not field.choices
        and not field.primary_key
        and not field.unique
        and field.editable
        and field.name not in NOT_FREE_TEXT | unique_together | constrained
        and (field.max_length is None or field.max_length >= len(PAYLOAD))
    ]


def plant_markup() -> list[str]:
    """Fill every free-text column of every row; returns the columns filled."""
    filled = []
    for app in APPS:
        for model in apps.get_app_config(app).get_models():
            if model._meta.proxy or not model._meta.managed:
                continue
            values = {
                field.name: LONG_PAYLOAD[: field.max_length] if field.max_length else LONG_PAYLOAD
                for field in free_text_fields(model)
            }
            if values:
                model._base_manager.update(**values)
                filled += [f"{model._meta.label}.{name}" for name in values]
    return filled


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with world_for_module(django_db_blocker) as built:
        built.filled = plant_markup()
        yield built


PAGES = [
    (endpoint, rule)
    for endpoint in endpoints()
    if skip_reason(endpoint) is None
    for rule in rules_for(endpoint, RULES)
    if rule.post is None
]


def test_the_free_text_columns_of_every_room_are_filled(world, db):
    """Guards the test below: the markup really is in the notes, names and reasons it reads."""
    for column in (
        "carechain.Patient.last_name",
        "carechain.Patient.call_note",
        "carechain.Organisation.name",
        "referrals.Referral.reason",
        "pathways.Contact.notes",
        "pathways.Escalation.explanation",
        "billing.InvoiceLine.patient_name",
    ):
        assert column in world.filled
    coach = world.clients[COACH]
    page = coach.get(f"/trajectories/{world.pk('trajectory')}/").content.decode()
    assert "&lt;zz&gt;&#x27;&quot;&amp;" in page


@pytest.mark.parametrize(("endpoint", "rule"), PAGES, ids=[rule_id(*p) for p in PAGES])
def test_no_page_shows_typed_markup_as_markup(endpoint, rule, world, db):
    problems = []
    for persona in PERSONAS:
        answer = ask(world.clients[persona.name], world, rule)
        if answer.status >= 500:
            problems.append(f"{persona.name}: {answer.status} {answer.error}")
        elif answer.content_type.startswith("text/html") and MARK in answer.body:
            problems.append(f"{persona.name}: markup unescaped in the page")
    assert not problems, f"{world.url(rule)}:\n" + "\n".join(problems)


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_an_invoice_pdf_prints_typed_markup_literally(world, db):
    from billing.invoicing import render_invoice_pdf

    invoice = world.objects["invoice"]
    type(invoice).objects.filter(pk=invoice.pk).update(
        seller={"name": PAYLOAD, "agb": "01051234", "iban": "NL00 BANK 0000 0000 00"}
    )
    invoice.refresh_from_db()
    text = _pdf_text(render_invoice_pdf(invoice))
    assert f"{PAYLOAD} · AGB 01051234" in text  # the page footer, a CSS string
    assert text.count(PAYLOAD) > 1  # and the lines
    assert "&lt;" not in text and "&amp;" not in text


def test_a_letter_pdf_prints_typed_markup_literally_in_its_footer(world, db):
    from referrals.letters import render_letter_pdf

    letter = world.objects["letter"]
    letter.refresh_from_db()
    letter.facts["provider"]["name"] = LONG_PAYLOAD
    text = _pdf_text(render_letter_pdf(letter))
    assert f"{LONG_PAYLOAD} · AGB" in text.replace("\n", " ")
    assert "&lt;" not in text and "&amp;" not in text


def test_the_access_report_pdf_prints_typed_markup_literally(world, db):
    """The patient's 'who looked at my record' shows the organisation names the log copied."""
    from audit.services import audit_record
    from carechain.access import Actor

    patient = world.objects["patient"]
    poh = world.users["poh_s"]
    audit_record(who=Actor.for_user(poh), action="view", patient_id=patient.pk, obj=patient)
    response = world.clients[PRIVACY].get(f"/audit/patients/{patient.pk}/access-report.pdf")
    assert response.status_code == 200
    text = _pdf_text(response.content)
    assert "<zz>'\"&" in text
    assert "&lt;" not in text and "&amp;" not in text
