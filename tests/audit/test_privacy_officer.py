"""The privacy officer's pages: who looked at which record (NEN 7513), the patient's access report
(AVG inzage), the CSV export, and whether the log is untouched."""

import csv
import datetime
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from pypdf import PdfReader

from audit.models import AuditEvent
from audit.queries import PAGE_SIZE
from audit.services import audit_record
from carechain.access import Actor
from carechain.models import OrganisationAPIKey, Role
from tests import factories

AMS = ZoneInfo("Europe/Amsterdam")
LOG = reverse("audit-log")


@pytest.fixture
def privacy_officer(chain):
    return factories.member(Role.PRIVACY_OFFICER, chain.provider)


@pytest.fixture
def patient(chain):
    """A patient of practice A, referred to the provider: within the privacy officer's reach."""
    return factories.ReferralFactory(
        patient=factories.PatientFactory(practice=chain.practice_a, last_name="Inzagevrager")
    ).patient


@pytest.fixture
def other_patient(chain):
    """A patient of practice B who was never referred to the provider."""
    return factories.PatientFactory(practice=chain.practice_b)


@pytest.fixture
def po_client(client, privacy_officer):
    client.force_login(privacy_officer)
    return client


def _log(who, patient=None, *, action="view", at=None, detail=""):
    actor = who if isinstance(who, Actor) else Actor.for_user(who)
    if at is None:
        return audit_record(
            who=actor, action=action, patient_id=getattr(patient, "pk", None), detail=detail
        )
    with time_machine.travel(at, tick=False):
        return audit_record(
            who=actor, action=action, patient_id=getattr(patient, "pk", None), detail=detail
        )


def _shown(response) -> set[int]:
    return {event.pk for event, _roles in response.context["rows"]}


def _csv(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


# -- who may ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        LOG,
        reverse("audit-export"),
        reverse("audit-access-report", args=[1]),
    ],
)
def test_only_privacy_officers_open_the_audit_pages(client, chain, coach, url):
    admin_without_role = factories.UserFactory(is_staff=True, is_superuser=True)
    for person in (coach, admin_without_role):
        client.force_login(person)
        assert client.get(url).status_code == 403
    client.logout()
    assert client.get(url)["Location"].startswith(reverse("login"))


def test_only_privacy_officers_may_run_the_chain_check(client, coach):
    client.force_login(coach)
    assert client.post(reverse("audit-chain-check")).status_code == 403
    assert not AuditEvent.objects.filter(action="security").exists()


def test_the_privacy_officer_finds_the_audit_log_in_the_menu(client, privacy_officer, coach):
    client.force_login(privacy_officer)
    assert f'href="{LOG}"' in client.get(reverse("home")).content.decode()
    client.force_login(coach)
    assert f'href="{LOG}"' not in client.get(reverse("home")).content.decode()


# -- searching -------------------------------------------------------------------------------------
def test_the_privacy_officer_finds_every_access_to_a_patient_by_bsn(
    po_client, patient, other_patient, poh, coach, planner
):
    seen = {_log(poh, patient).pk, _log(coach, patient, action="list").pk}
    _log(planner, other_patient)
    response = po_client.get(LOG, {"bsn": patient.bsn})
    assert response.status_code == 200
    assert response.context["patient"] == patient
    assert _shown(response) == seen
    page = response.content.decode()
    assert poh.username in page and coach.username in page
    assert reverse("audit-access-report", args=[patient.pk]) in page


def test_a_search_for_a_patient_is_itself_logged(po_client, privacy_officer, patient):
    po_client.get(LOG, {"patient_id": patient.pk})
    event = AuditEvent.objects.get(user_id=privacy_officer.pk)
    assert (event.action, event.patient_id, event.detail) == (
        "list",
        patient.pk,
        "audit log search",
    )


def test_a_patient_outside_the_providers_reach_reads_as_not_found(po_client, other_patient, poh):
    _log(poh, other_patient)
    response = po_client.get(LOG, {"bsn": other_patient.bsn})
    assert response.context["form"].errors
    assert _shown(response) == set()
    assert not AuditEvent.objects.filter(detail="audit log search").exists()


def test_the_log_shows_the_providers_patients_and_people_only(
    po_client, chain, patient, other_patient, poh, other_poh, coach, other_coach
):
    mine = {
        _log(other_poh, patient).pk,  # anyone's access to the provider's patient
        _log(coach, None, action="login").pk,  # the provider's own people, also without patient
    }
    _log(other_poh, other_patient)
    _log(other_coach, None, action="login")
    assert _shown(po_client.get(LOG)) == mine


def test_filters_by_user_period_action_and_channel(po_client, chain, patient, poh, coach):
    day = datetime.datetime(2026, 3, 10, 9, 0, tzinfo=AMS)
    key = factories.api_key(chain.practice_a)
    api = Actor.for_api_key(OrganisationAPIKey.objects.get_from_key(key), channel="api", ip=None)
    early = _log(poh, patient, at=day)
    later = _log(coach, patient, action="list", at=day + datetime.timedelta(days=2))
    by_key = _log(api, patient, at=day + datetime.timedelta(days=5))
    assert _shown(po_client.get(LOG, {"user": poh.username.upper()})) == {early.pk}
    assert _shown(po_client.get(LOG, {"user": key.split(".")[0]})) == {by_key.pk}
    assert _shown(po_client.get(LOG, {"date_from": "2026-03-11", "date_to": "2026-03-12"})) == {
        later.pk
    }
    assert _shown(po_client.get(LOG, {"date_to": "2026-03-10"})) == {early.pk}
    assert _shown(po_client.get(LOG, {"action": "list"})) == {later.pk}
    assert _shown(po_client.get(LOG, {"channel": "api"})) == {by_key.pk}
    response = po_client.get(LOG, {"date_from": "2026-03-12", "date_to": "2026-03-11"})
    assert "date_to" in response.context["form"].errors


def test_pages_walk_the_whole_log_newest_first(po_client, patient, poh):
    ids = [_log(poh, patient).pk for _ in range(PAGE_SIZE * 2 + 7)]
    first = po_client.get(LOG)
    assert [e.pk for e, _r in first.context["rows"]] == ids[::-1][:PAGE_SIZE]
    assert first.context["page"].newer is None
    second = po_client.get(LOG, {"before": first.context["page"].older})
    third = po_client.get(LOG, {"before": second.context["page"].older})
    assert [e.pk for e, _r in third.context["rows"]] == ids[::-1][PAGE_SIZE * 2 :]
    assert third.context["page"].older is None
    back = po_client.get(LOG, {"after": third.context["page"].newer})
    assert _shown(back) == _shown(second)


def test_the_log_page_runs_the_same_queries_for_a_few_rows_and_a_full_page(
    po_client, patient, poh, coach, django_assert_num_queries
):
    for _ in range(3):
        _log(poh, patient)
    po_client.get(LOG)
    # session (read, and saved again), user, OTP device, memberships (role check and menu), the
    # page of rows (one keyset query), the latest chain check; never a COUNT over the log
    with django_assert_num_queries(_count(po_client)) as ctx:
        po_client.get(LOG)
    for _ in range(PAGE_SIZE + 10):
        _log(coach, patient, action="list")
    with django_assert_num_queries(len(ctx.captured_queries)):
        po_client.get(LOG)


def _count(client) -> int:
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        client.get(LOG)
    return len(ctx.captured_queries)


# -- export ----------------------------------------------------------------------------------------
def test_the_export_streams_the_filtered_rows_and_is_logged(
    po_client, privacy_officer, patient, poh, coach
):
    wanted = [_log(poh, patient).pk, _log(poh, patient, action="print").pk]
    _log(coach, patient)
    response = po_client.get(reverse("audit-export"), {"user": poh.username})
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = _csv(response)
    assert [int(r["id"]) for r in rows] == wanted
    assert {r["username"] for r in rows} == {poh.username}
    export = AuditEvent.objects.get(action="export")
    assert export.user_id == privacy_officer.pk
    assert f"user={poh.username}" in export.detail


def test_the_export_shows_formulas_as_text(po_client, patient, poh):
    _log(poh, patient, detail="=HYPERLINK('http://example.com')")
    rows = _csv(po_client.get(reverse("audit-export")))
    assert rows[0]["detail"].startswith("'=")


# -- the patient's access report -------------------------------------------------------------------
def test_the_access_report_is_a_dutch_pdf_of_every_access_and_printing_it_is_logged(
    po_client, chain, privacy_officer, patient, poh, coach
):
    _log(poh, patient)
    _log(coach, patient, action="list")
    key = factories.api_key(chain.practice_a)
    api = Actor.for_api_key(OrganisationAPIKey.objects.get_from_key(key), channel="api", ip=None)
    _log(api, patient)
    response = po_client.get(reverse("audit-access-report", args=[patient.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Overzicht van toegang tot uw gegevens" in text
    assert patient.bsn in text
    for expected in (poh.username, coach.username, "POH-S", "SMR-coach", "Praktijk A"):
        assert expected in text
    flat = "".join(text.split())  # table cells wrap anywhere
    for expected in ("inzien", "lijst/zoekresultaat", "REST-API", "API-sleutel", "verwijssysteem"):
        assert expected in flat
    assert "Aantal vastgelegde handelingen: 3" in text
    printed = AuditEvent.objects.get(action="print")
    assert (printed.patient_id, printed.user_id) == (patient.pk, privacy_officer.pk)


def test_the_access_report_of_another_providers_patient_is_not_found(client, chain, patient):
    client.force_login(factories.member(Role.PRIVACY_OFFICER, chain.other_provider))
    assert client.get(reverse("audit-access-report", args=[patient.pk])).status_code == 404
    assert not AuditEvent.objects.filter(action="print").exists()


# -- the hash chain --------------------------------------------------------------------------------
def test_the_chain_check_runs_on_demand_and_its_outcome_is_kept_in_the_log(
    po_client, privacy_officer, patient, poh
):
    for _ in range(3):
        _log(poh, patient)
    assert 'id="chain-state"' in po_client.get(LOG).content.decode()
    assert po_client.get(LOG).context["chain"].checked is None
    response = po_client.post(reverse("audit-chain-check"))
    assert response.status_code == 302 and response["Location"] == LOG
    check = AuditEvent.objects.get(action="security")
    assert check.user_id == privacy_officer.pk
    assert check.detail.startswith("hash chain check: intact, 3 rows")
    _log(poh, patient)
    status = po_client.get(LOG).context["chain"]
    assert (status.checked, status.intact, status.rows_since) == (check, True, 1)


def test_the_chain_check_reports_a_changed_row(po_client, patient, poh):
    events = [_log(poh, patient) for _ in range(3)]
    _tamper(events[1].pk)
    response = po_client.post(reverse("audit-chain-check"), follow=True)
    assert response.context["chain"].intact is False
    assert "BROKEN, 1 problem(s)" in response.context["chain"].checked.detail
    assert f"row {events[1].pk}" in str(list(response.context["messages"])[0])


def _tamper(pk: int) -> None:
    """Change a row behind the ORM's back (on PostgreSQL the trigger must be lifted for that)."""
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute(
                "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_append_only"
            )
        cursor.execute("UPDATE audit_auditevent SET detail = 'edited' WHERE id = %s", [pk])
        if postgres:
            cursor.execute(
                "ALTER TABLE audit_auditevent ENABLE TRIGGER audit_auditevent_append_only"
            )


# -- the detail column in Dutch ---------------------------------------------------------------------
def test_the_detail_column_reads_in_dutch_while_the_stored_text_stays(po_client, coach, patient):
    _log(coach, patient, action="change", detail="attendance meeting 5: present")
    _log(coach, patient, detail="FHIR feedback Bundle")
    _log(coach, patient, detail="escalate")
    _log(coach, patient, detail="something no catalogue knows")

    page = po_client.get(LOG, {"bsn": patient.bsn}).content.decode()

    assert "aanwezigheid bijeenkomst 5: aanwezig" in page  # the choice, by its label
    assert "FHIR-terugkoppeldocument gelezen" in page
    assert "opgeschaald naar de POH-GGZ" in page
    assert "something no catalogue knows" in page
    assert "FHIR feedback Bundle" not in page
    stored = set(AuditEvent.objects.values_list("detail", flat=True))
    assert {"attendance meeting 5: present", "FHIR feedback Bundle", "escalate"} <= stored


def test_the_chain_check_outcome_reads_in_dutch(po_client):
    po_client.post(reverse("audit-chain-check"))

    page = po_client.get(LOG).content.decode()

    assert "controle van de hashketen: intact" in page
