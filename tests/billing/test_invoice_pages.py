"""The invoice pages: who sees which invoice, what each person can do there, what is audited, the
CSV export, and list pages that cost the same number of queries however long they get."""

import csv
import io
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEvent
from billing.invoicing import invoice_dispute_line, invoice_issue_month, invoice_send
from billing.models import BillingException, Invoice, KetenzorgBudget
from billing.services import billing_decide
from carechain.access import Actor
from carechain.models import Role
from tests import factories
from tests.billing.support import D, billed, ended_trajectory, issue_may, sent_may_invoice


def _get(client, user, name, *args, **query):
    client.force_login(user)
    return client.get(reverse(name, args=args), query)


# -- who sees what ----------------------------------------------------------------------------------
def test_the_admin_lists_only_invoices_sent_to_the_own_zorggroep(
    client, chain, coach, planner, zorggroep_admin, prestaties
):
    sent = sent_may_invoice(chain, coach, planner)
    billed(chain, coach, intake=D(2026, 4, 2))  # ends in June
    with time_machine.travel("2026-07-01 03:00 +0000"):
        draft = invoice_issue_month(zorggroep_id=chain.zorggroep.pk, year=2026, month=6)
    stranger = factories.member(Role.ZORGGROEP_ADMIN, factories.ZorggroepFactory())

    listed = _get(client, zorggroep_admin, "invoice-list").context["invoices"]
    assert [i.pk for i in listed] == [sent.pk]
    assert _get(client, stranger, "invoice-list").context["invoices"] == []
    assert _get(client, zorggroep_admin, "invoice-detail", draft.pk).status_code == 404
    planner_list = _get(client, planner, "invoice-list").context["invoices"]
    assert {i.pk for i in planner_list} == {sent.pk, draft.pk}


@pytest.mark.parametrize("persona", ["coach", "poh", "gp", "insurer_user", "poh_ggz"])
def test_other_roles_are_refused_the_invoice_pages(
    client, chain, coach, planner, prestaties, request, persona
):
    invoice = sent_may_invoice(chain, coach, planner)
    user = request.getfixturevalue(persona)
    client.force_login(user)
    for url in (
        reverse("invoice-list"),
        reverse("invoice-detail", args=[invoice.pk]),
        reverse("invoice-pdf", args=[invoice.pk]),
        reverse("invoice-export"),
        reverse("billing-exceptions"),
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("invoice-action", args=[invoice.pk, "approve"])).status_code == 403


def test_the_admin_of_another_zorggroep_gets_404_everywhere(
    client, chain, coach, planner, prestaties
):
    invoice = sent_may_invoice(chain, coach, planner)
    line = invoice.lines.first()
    stranger = factories.member(Role.ZORGGROEP_ADMIN, factories.ZorggroepFactory())
    client.force_login(stranger)
    assert client.get(reverse("invoice-detail", args=[invoice.pk])).status_code == 404
    assert client.get(reverse("invoice-pdf", args=[invoice.pk])).status_code == 404
    assert client.post(reverse("invoice-action", args=[invoice.pk, "approve"])).status_code == 404
    response = client.post(reverse("invoice-line-dispute", args=[line.pk]), {"reason": "x"})
    assert response.status_code == 404
    assert Invoice.objects.get(pk=invoice.pk).state == "sent"


def test_the_planner_cannot_approve_and_the_admin_cannot_send_through_the_pages(
    client, chain, coach, planner, zorggroep_admin, prestaties
):
    invoice = sent_may_invoice(chain, coach, planner)
    client.force_login(planner)
    assert client.post(reverse("invoice-action", args=[invoice.pk, "approve"])).status_code == 403
    client.force_login(zorggroep_admin)
    assert client.post(reverse("invoice-action", args=[invoice.pk, "send"])).status_code == 403
    assert client.post(reverse("invoice-action", args=[invoice.pk, "mark-paid"])).status_code == 403
    assert Invoice.objects.get(pk=invoice.pk).state == "sent"


# -- the list ---------------------------------------------------------------------------------------
def test_the_list_filters_by_state_and_year_and_sorts(
    client, chain, coach, planner, zorggroep_admin, prestaties
):
    may = sent_may_invoice(chain, coach, planner, trajectories=1)  # 343.00
    invoice_dispute_line(
        actor=Actor.for_user(zorggroep_admin), line_id=may.lines.first().pk, reason="fout"
    )
    other = factories.ZorggroepFactory(smr_provider=chain.provider)
    big = Invoice.objects.create(
        zorggroep=chain.zorggroep,
        number="ZG-2025-00007",
        year=2025,
        month=3,
        issued_on=may.issued_on,
        due_on=may.due_on,
        seller=may.seller,
        buyer=may.buyer,
        total=Decimal("999.00"),
    )
    invoice_send(actor=Actor.for_user(planner), invoice_id=big.pk)
    Invoice.objects.create(
        zorggroep=other,
        number="ZG-2025-00008",
        year=2025,
        month=3,
        issued_on=may.issued_on,
        due_on=may.due_on,
        seller=may.seller,
        buyer={"name": other.name},
        total=Decimal("1.00"),
    )

    def numbers(**query):
        return [
            i.number
            for i in _get(client, zorggroep_admin, "invoice-list", **query).context["invoices"]
        ]

    assert numbers(state="disputed") == [may.number]
    assert numbers(year="2025") == ["ZG-2025-00007"]
    assert numbers(sort="-total") == ["ZG-2025-00007", may.number]
    assert numbers(sort="number") == ["ZG-2025-00007", may.number]
    # Unknown filter values fall back to everything, newest first (same date: newest row first).
    assert numbers(state="nonsense", sort="nonsense") == ["ZG-2025-00007", may.number]
    listed = _get(client, zorggroep_admin, "invoice-list", state="disputed").context["invoices"]
    assert listed[0].open_disputes == 1 and listed[0].line_count == 2


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def _another_sent_month(chain, coach, planner, month):
    billed(chain, coach, intake=D(2026, month - 2, 2))  # ends 70 days later, in `month`
    with time_machine.travel(f"2026-{month + 1:02d}-01 03:00 +0000"):
        invoice = invoice_issue_month(zorggroep_id=chain.zorggroep.pk, year=2026, month=month)
    invoice_send(actor=Actor.for_user(planner), invoice_id=invoice.pk)
    return invoice


def test_the_invoice_list_runs_a_constant_number_of_queries(
    client, chain, coach, planner, zorggroep_admin, prestaties, django_assert_num_queries
):
    sent_may_invoice(chain, coach, planner, trajectories=1)
    baseline = {}
    for persona in (zorggroep_admin, planner):
        client.force_login(persona)
        # session, user, OTP device, memberships, the years of the filter, the invoices (with
        # zorggroep, corrected invoice and line counts), zorggroepen, budgets, committed amounts
        baseline[persona.pk] = _count(client, reverse("invoice-list"))
    for month in (6, 7, 8):
        _another_sent_month(chain, coach, planner, month)
    for persona in (zorggroep_admin, planner):
        client.force_login(persona)
        with django_assert_num_queries(baseline[persona.pk]):
            response = client.get(reverse("invoice-list"))
        assert len(response.context["invoices"]) == 4


def test_the_exception_list_runs_a_constant_number_of_queries(
    client, chain, coach, planner, prestaties, django_assert_num_queries
):
    def exception():
        trajectory = ended_trajectory(chain, coach, channel="web")  # uninsured: an exception
        billing_decide(trajectory_id=trajectory.pk)

    exception()
    client.force_login(planner)
    # session, user, OTP device, memberships, exceptions with patient and practice, audit chain
    baseline = _count(client, reverse("billing-exceptions"))
    for _ in range(4):
        exception()
    with django_assert_num_queries(baseline):
        response = client.get(reverse("billing-exceptions"))
    assert len(response.context["exceptions"]) == 5
    body = response.content.decode()
    assert BillingException.objects.first().trajectory.patient.full_name in body


def test_the_exception_list_shows_only_the_own_provider(client, chain, coach, prestaties):
    trajectory = ended_trajectory(chain, coach, channel="web")
    billing_decide(trajectory_id=trajectory.pk)
    outsider = factories.member(Role.PLANNER, chain.other_provider)
    assert _get(client, outsider, "billing-exceptions").context["exceptions"] == []


# -- the detail page --------------------------------------------------------------------------------
def test_the_detail_page_audits_every_patient_on_it(
    client, chain, coach, planner, zorggroep_admin, prestaties
):
    invoice = sent_may_invoice(chain, coach, planner, trajectories=2)
    response = _get(client, zorggroep_admin, "invoice-detail", invoice.pk)
    assert response.status_code == 200
    views = AuditEvent.objects.filter(action="view", object_type="billing.invoiceline")
    patients = set(invoice.lines.values_list("trajectory__patient_id", flat=True))
    assert views.count() == invoice.lines.count()
    assert set(views.values_list("patient_id", flat=True)) == patients


def test_the_admin_gets_dispute_and_approve_buttons_the_planner_does_not(
    client, chain, coach, planner, zorggroep_admin, prestaties
):
    invoice = sent_may_invoice(chain, coach, planner)
    line = invoice.lines.first()
    admin_page = _get(client, zorggroep_admin, "invoice-detail", invoice.pk).content.decode()
    assert f'id="do-dispute-{line.pk}"' in admin_page and 'id="do-approve"' in admin_page
    planner_page = _get(client, planner, "invoice-detail", invoice.pk).content.decode()
    assert "do-dispute" not in planner_page and 'id="do-approve"' not in planner_page


def test_a_dispute_without_a_reason_is_refused_on_the_page(
    client, chain, coach, planner, zorggroep_admin, prestaties
):
    invoice = sent_may_invoice(chain, coach, planner)
    line = invoice.lines.first()
    client.force_login(zorggroep_admin)
    response = client.post(
        reverse("invoice-line-dispute", args=[line.pk]), {"reason": ""}, follow=True
    )
    assert response.status_code == 200
    assert Invoice.objects.get(pk=invoice.pk).state == "sent"
    assert 'class="error"' in response.content.decode()


def test_dispute_correct_approve_and_pay_through_the_pages(
    client, chain, coach, planner, zorggroep_admin, prestaties
):
    billed(chain, coach)
    invoice = issue_may(chain)
    client.force_login(planner)
    client.post(reverse("invoice-action", args=[invoice.pk, "send"]))
    assert Invoice.objects.get(pk=invoice.pk).state == "sent"
    line = invoice.lines.order_by("pk").first()

    client.force_login(zorggroep_admin)
    client.post(reverse("invoice-line-dispute", args=[line.pk]), {"reason": "Geen ketenzorg"})
    assert Invoice.objects.get(pk=invoice.pk).state == "disputed"
    refused = client.post(reverse("invoice-action", args=[invoice.pk, "approve"]), follow=True)
    assert refused.status_code == 200 and 'class="error"' in refused.content.decode()

    client.force_login(planner)
    page = client.get(reverse("invoice-detail", args=[invoice.pk])).content.decode()
    assert f'id="do-correct-{line.pk}"' in page
    client.post(
        reverse("invoice-line-correct", args=[line.pk]), {"amount": "0", "note": "Geen zorg"}
    )
    assert Invoice.objects.get(pk=invoice.pk).state == "corrected"

    client.force_login(zorggroep_admin)
    page = client.get(reverse("invoice-detail", args=[invoice.pk])).content.decode()
    assert 'id="amount-due"' in page and "85,00" in page
    client.post(reverse("invoice-action", args=[invoice.pk, "approve"]))
    client.force_login(planner)
    client.post(reverse("invoice-action", args=[invoice.pk, "mark-paid"]))
    assert set(Invoice.objects.values_list("state", flat=True)) == {"paid"}


# -- PDF and CSV ------------------------------------------------------------------------------------
def test_the_pdf_download_is_audited_as_print_per_patient(
    client, chain, coach, planner, zorggroep_admin, prestaties
):
    invoice = sent_may_invoice(chain, coach, planner, trajectories=2)
    response = _get(client, zorggroep_admin, "invoice-pdf", invoice.pk)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    prints = AuditEvent.objects.filter(action="print")
    assert set(prints.values_list("patient_id", flat=True)) == set(
        invoice.lines.values_list("trajectory__patient_id", flat=True)
    )
    assert prints.count() == 2


def test_the_planner_previews_a_draft_pdf(client, chain, coach, planner, prestaties):
    billed(chain, coach)
    invoice = issue_may(chain)
    response = _get(client, planner, "invoice-pdf", invoice.pk)
    assert response.status_code == 200 and response.content.startswith(b"%PDF-")
    assert not Invoice.objects.get(pk=invoice.pk).pdf


def test_the_csv_export_holds_every_line_and_is_audited(
    client, chain, coach, planner, zorggroep_admin, prestaties
):
    patient = factories.PatientFactory(
        practice=chain.practice_b, first_name="=Gerda", last_name="Stoppel"
    )
    billed(chain, coach, patient=patient)
    invoice = issue_may(chain)
    invoice_send(actor=Actor.for_user(planner), invoice_id=invoice.pk)
    response = _get(client, zorggroep_admin, "invoice-export", year="2026")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert len(rows[0]) == 13
    assert rows[1:] == [
        [
            invoice.number,
            invoice.issued_on.isoformat(),
            "'=Gerda Stoppel",  # never a spreadsheet formula
            patient.bsn,
            "1970-05-17",
            "Praktijk B",
            "SMR01",
            "Prestatie SMR01",
            "2026-03-02",
            "2026-05-11",
            "258.00",
            "original",
            rows[1][12],
        ],
        [
            invoice.number,
            invoice.issued_on.isoformat(),
            "'=Gerda Stoppel",
            patient.bsn,
            "1970-05-17",
            "Praktijk B",
            "SMR02",
            "Prestatie SMR02",
            "2026-03-02",
            "2026-05-11",
            "85.00",
            "original",
            rows[2][12],
        ],
    ]
    exports = AuditEvent.objects.filter(action="export")
    assert exports.count() == 2 and set(exports.values_list("patient_id", flat=True)) == {
        patient.pk
    }


def test_the_csv_of_one_invoice_and_the_over_budget_column(
    client, chain, coach, planner, zorggroep_admin, prestaties
):
    KetenzorgBudget.objects.update_or_create(
        zorggroep=chain.zorggroep, year=2026, defaults={"amount": Decimal("300.00")}
    )
    invoice = sent_may_invoice(chain, coach, planner, trajectories=1)
    response = _get(client, zorggroep_admin, "invoice-export", invoice=str(invoice.pk))
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    yes_no = [row[12] for row in rows[1:]]
    assert len(yes_no) == 2 and yes_no[0] != yes_no[1]  # 258.00 fits, 85.00 is over the budget


def test_the_csv_export_never_contains_another_zorggroep(client, chain, coach, planner, prestaties):
    sent_may_invoice(chain, coach, planner)
    stranger = factories.member(Role.ZORGGROEP_ADMIN, factories.ZorggroepFactory())
    response = _get(client, stranger, "invoice-export")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 1


# -- the admin --------------------------------------------------------------------------------------
def test_the_billing_admin_pages_open(client, chain, coach, planner, zorggroep_admin, prestaties):
    invoice = sent_may_invoice(chain, coach, planner)
    superuser = factories.UserFactory(is_staff=True, is_superuser=True)
    client.force_login(superuser)
    for model in (
        "prestatie",
        "tariff",
        "ketenzorgbudget",
        "rejectionreason",
        "invoice",
        "invoiceline",
        "claim",
        "billingdecision",
        "billingexception",
    ):
        assert client.get(reverse(f"admin:billing_{model}_changelist")).status_code == 200, model
    assert client.get(reverse("admin:billing_invoice_change", args=[invoice.pk])).status_code == 200
    assert client.get(reverse("admin:billing_invoice_add")).status_code == 403
    line = invoice.lines.first()
    assert (
        client.get(reverse("admin:billing_invoiceline_change", args=[line.pk])).status_code == 200
    )
    assert AuditEvent.objects.filter(action="view", patient_id=line.trajectory.patient_id).exists()


def test_resolving_an_exception_in_the_admin_records_who_and_when(client, chain, coach, prestaties):
    trajectory = ended_trajectory(chain, coach, channel="web")
    billing_decide(trajectory_id=trajectory.pk)
    exception = BillingException.objects.get()
    superuser = factories.UserFactory(is_staff=True, is_superuser=True)
    client.force_login(superuser)
    response = client.post(
        reverse("admin:billing_billingexception_change", args=[exception.pk]),
        {"resolution": "Verzekering nagevraagd; declaratie handmatig ingediend."},
    )
    assert response.status_code == 302
    exception.refresh_from_db()
    assert exception.resolved_at is not None and exception.resolved_by == superuser
    assert exception.reason == "no_insurance"
