"""A page of an insurer's claims pull is one audit row naming every patient on it.

The patient's access report and the privacy officer's search by patient still find every such
pull; the hash chain covers the page's patients, so taking one away (or adding one) is noticed.
"""

import io

import pytest
from django.db import connection
from django.urls import reverse
from pypdf import PdfReader

from audit import queries
from audit.models import AuditEvent, AuditEventPatient
from audit.services import audit_record, audit_verify_chain
from carechain.access import Actor
from carechain.models import Role
from tests import factories
from tests.billing.claims_support import LIST_URL, claim_row, claims_key

LOG = reverse("audit-log")
SEARCH_URL = "/fhir/Claim"


@pytest.fixture
def privacy_officer(chain):
    return factories.member(Role.PRIVACY_OFFICER, chain.provider)


@pytest.fixture
def po_client(client, privacy_officer):
    client.force_login(privacy_officer)
    return client


@pytest.fixture
def pulled(api, chain, prestaties):
    """Three claims of three patients of practice A (referred to the provider), pulled by insurer
    A in one REST page and one FHIR page; a fourth claim's patient is on no page."""
    claims = [claim_row(chain, prestaties["programme"]) for _ in range(4)]
    headers = claims_key(chain.insurer_a)
    assert api.get(f"{LIST_URL}?page_size=3", **headers).status_code == 200
    assert api.get(f"{SEARCH_URL}?_count=3", **headers).status_code == 200
    return claims


def _patient(claim):
    return claim.trajectory.patient


def _pages() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="list", patient_count__gt=0).order_by("id"))


def test_each_page_of_the_pull_is_one_row_naming_its_patients_and_claims(pulled):
    rest, fhir = _pages()
    assert (rest.channel, fhir.channel) == ("api", "fhir")
    for page in (rest, fhir):
        assert page.patient_id is None and page.patient_count == 3
        assert sorted(page.patients.values_list("patient_id", flat=True)) == sorted(
            _patient(c).pk for c in pulled[:3]
        )
        assert page.object_ids == ",".join(str(c.pk) for c in pulled[:3])
    assert audit_verify_chain() == []


def test_the_patients_access_report_lists_the_insurers_pull(po_client, chain, pulled):
    patient = _patient(pulled[1])
    assert [e.channel for e in queries.events_of_patient(patient.pk)] == ["api", "fhir"]
    response = po_client.get(reverse("audit-access-report", args=[patient.pk]))
    assert response.status_code == 200
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    flat = "".join(text.split())  # table cells wrap anywhere
    assert "".join(chain.insurer_a.name.split()) in flat
    for expected in ("lijst/zoekresultaat", "REST-API", "FHIR", "API-sleutel"):
        assert expected in flat
    assert "Aantal vastgelegde handelingen: 2" in text


def test_a_patient_on_no_page_has_no_pull_in_the_report(pulled):
    assert list(queries.events_of_patient(_patient(pulled[3]).pk)) == []


def test_the_privacy_officers_search_by_patient_finds_the_pages(po_client, pulled):
    patient = _patient(pulled[0])
    response = po_client.get(LOG, {"patient_id": patient.pk})
    shown = [event for event, _roles in response.context["rows"]]
    pages = _pages()
    assert set(pages) <= set(shown)
    assert "3 patiënten op de pagina" in response.content.decode()


def test_the_privacy_officers_log_shows_the_pages_of_the_providers_patients(po_client, pulled):
    shown = {event.pk for event, _roles in po_client.get(LOG).context["rows"]}
    assert {page.pk for page in _pages()} <= shown


def test_another_providers_privacy_officer_does_not_see_the_pages(client, chain, pulled):
    client.force_login(factories.member(Role.PRIVACY_OFFICER, chain.other_provider))
    shown = {event.pk for event, _roles in client.get(LOG).context["rows"]}
    assert not shown & {page.pk for page in _pages()}
    patient = _patient(pulled[0])
    assert client.get(reverse("audit-access-report", args=[patient.pk])).status_code == 404


def _without_trigger(sql: str, params: list) -> None:
    """Change the page's patients behind the ORM's back (on PostgreSQL the trigger is lifted)."""
    postgres = connection.vendor == "postgresql"
    trigger = "audit_auditeventpatient_append_only"
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute(f"ALTER TABLE audit_auditeventpatient DISABLE TRIGGER {trigger}")
        cursor.execute(sql, params)
        if postgres:
            cursor.execute(f"ALTER TABLE audit_auditeventpatient ENABLE TRIGGER {trigger}")


def test_the_chain_check_notices_a_patient_taken_from_a_page(pulled):
    page = _pages()[0]
    _without_trigger(
        "DELETE FROM audit_auditeventpatient WHERE event_id = %s AND patient_id = %s",
        [page.pk, _patient(pulled[0]).pk],
    )
    assert audit_verify_chain() == [f"row {page.pk}: content does not match its hash (row changed)"]


def test_the_chain_check_notices_a_patient_added_to_any_row(pulled, poh):
    page = _pages()[0]
    single = audit_record(who=Actor.for_user(poh), action="view", patient_id=None)
    stranger = factories.PatientFactory()
    for event in (page, single):
        AuditEventPatient.objects.bulk_create(
            [AuditEventPatient(event=event, patient_id=stranger.pk)]
        )
    problems = audit_verify_chain(checkpoint=False)
    assert f"row {page.pk}: content does not match its hash (row changed)" in problems
    assert f"row {single.pk}: content does not match its hash (row changed)" in problems


def test_the_patients_of_a_page_cannot_be_changed(pulled):
    if connection.vendor != "postgresql":
        pytest.skip("the trigger is PostgreSQL's")
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditeventpatient")
