"""Monthly zorggroep invoices: numbered copies, issued once, never edited after sending, corrected
with a credit note, and moved only by the person whose move it is."""

import datetime
import io
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.http import Http404
from pypdf import PdfReader

from billing import invoicing
from billing.invoicing import (
    invoice_approve,
    invoice_correct_line,
    invoice_dispute_line,
    invoice_issue_month,
    invoice_mark_paid,
    invoice_send,
)
from billing.models import Invoice, InvoiceLine, KetenzorgBudget, Tariff
from billing.tasks import issue_monthly_invoices
from carechain.access import Actor
from carechain.models import Role
from tests import factories
from tests.billing.support import D, billed, issue_may, sent_may_invoice
from tests.concurrency import at_once

YEAR = datetime.date.today().year


def number(sequence: int, year: int = YEAR) -> str:
    return f"ZG-{year}-{sequence:05d}"


def as_actor(user) -> Actor:
    return Actor.for_user(user)


def _snapshot(invoice: Invoice):
    invoice = Invoice.objects.get(pk=invoice.pk)
    lines = list(
        InvoiceLine.objects.filter(invoice=invoice)
        .order_by("pk")
        .values_list("pk", "amount", "patient_name", "kind", "prestatie_id")
    )
    return invoice.number, invoice.total, invoice.issued_on, invoice.seller, invoice.buyer, lines


# -- issue ------------------------------------------------------------------------------------------
def test_the_month_invoice_copies_numbers_and_totals_its_lines(chain, coach, prestaties):
    chain.zorggroep.address, chain.zorggroep.city, chain.zorggroep.agb = (
        "Zorgweg 1",
        "Zeist",
        "07070001",
    )
    chain.zorggroep.save()
    billed(chain, coach)
    billed(chain, coach, medication=("nrt_patch", "varenicline"))

    invoice = issue_may(chain)

    assert invoice.number == number(1)
    assert invoice.state == "draft" and (invoice.year, invoice.month) == (2026, 5)
    assert invoice.total == Decimal("258.00") + 85 + 258 + 85 + 110
    assert invoice.due_on - invoice.issued_on == datetime.timedelta(days=30)
    assert invoice.lines.count() == 5
    assert not InvoiceLine.objects.filter(invoice__isnull=True).exists()
    assert invoice.buyer["name"] == "Zorggroep West" and invoice.buyer["agb"] == "07070001"
    assert invoice.seller["name"] == "Stoppen BV" and invoice.seller["agb"] == chain.provider.agb
    assert invoice.seller["iban"]
    assert {p["code"] for p in invoice.seller["prestaties"].values()} == {
        "SMR01",
        "SMR02",
        "SMR03",
    }


def test_numbers_follow_one_series_per_year_over_all_zorggroepen(chain, coach, prestaties):
    second = factories.ZorggroepFactory(name="Zorggroep Oost", smr_provider=chain.provider)
    for tariff in Tariff.objects.filter(zorggroep=chain.zorggroep):
        Tariff.objects.create(
            prestatie=tariff.prestatie,
            zorggroep=second,
            amount=tariff.amount,
            valid_from=tariff.valid_from,
        )
    billed(chain, coach)
    billed(chain, coach, practice=factories.PracticeFactory(zorggroep=second))

    first_invoice = issue_may(chain)
    second_invoice = invoice_issue_month(zorggroep_id=second.pk, year=2026, month=5)

    assert [first_invoice.number, second_invoice.number] == [number(1), number(2)]


def test_the_series_starts_again_in_a_new_year(chain, coach, prestaties):
    billed(chain, coach)
    with time_machine.travel(datetime.datetime(2027, 1, 1, 3, 0, tzinfo=datetime.UTC)):
        invoice = invoice_issue_month(zorggroep_id=chain.zorggroep.pk, year=2026, month=12)
    assert invoice.number == "ZG-2027-00001"
    assert (invoice.year, invoice.month) == (2026, 12)


def test_issuing_the_month_twice_creates_nothing_twice(chain, coach, prestaties):
    billed(chain, coach)
    first = issue_may(chain)
    billed(chain, coach)  # decided later: waits for the next monthly invoice

    again = issue_may(chain)

    assert again.pk == first.pk and again.number == first.number
    assert Invoice.objects.count() == 1
    assert again.lines.count() == 2 and again.total == Decimal("343.00")
    assert InvoiceLine.objects.filter(invoice__isnull=True).count() == 2


def test_a_month_without_lines_gets_no_invoice(chain, coach, prestaties):
    assert issue_may(chain) is None
    billed(chain, coach)  # ends 11 May 2026
    assert invoice_issue_month(zorggroep_id=chain.zorggroep.pk, year=2026, month=4) is None
    assert not Invoice.objects.exists()


def test_lines_not_invoiced_before_go_on_a_later_month(chain, coach, prestaties):
    billed(chain, coach)
    invoice = invoice_issue_month(zorggroep_id=chain.zorggroep.pk, year=2026, month=7)
    assert invoice.lines.count() == 2 and invoice.month == 7


def test_a_month_that_is_not_over_cannot_be_invoiced(chain):
    with (
        time_machine.travel(datetime.datetime(2026, 6, 15, 9, 0, tzinfo=datetime.UTC)),
        pytest.raises(ValidationError),
    ):
        invoice_issue_month(zorggroep_id=chain.zorggroep.pk, year=2026, month=6)


def test_insurer_claims_never_land_on_a_zorggroep_invoice(chain, coach, prestaties):
    patient = factories.PatientFactory(practice=chain.practice_a)
    factories.InsuranceFactory(patient=patient, insurer=chain.insurer_a)
    billed(chain, coach, channel="web", patient=patient)
    assert issue_may(chain) is None


def test_care_of_a_provider_no_longer_contracted_waits_for_a_person(chain, coach, prestaties):
    billed(chain, coach)
    chain.zorggroep.smr_provider = chain.other_provider
    chain.zorggroep.save()
    assert issue_may(chain) is None
    assert InvoiceLine.objects.filter(invoice__isnull=True).count() == 2


def test_a_zorggroep_without_a_provider_is_reported_not_skipped(chain, coach, prestaties):
    billed(chain, coach)
    chain.zorggroep.smr_provider = None
    chain.zorggroep.save()
    with pytest.raises(ValidationError):
        issue_may(chain)
    assert issue_monthly_invoices(2026, 5) == {"invoices": [], "failed": [chain.zorggroep.pk]}


def test_the_monthly_task_and_the_command_issue_each_zorggroep_once(chain, coach, prestaties):
    billed(chain, coach)
    assert issue_monthly_invoices(2026, 5) == {"invoices": [number(1)], "failed": []}
    assert issue_monthly_invoices(2026, 5) == {"invoices": [number(1)], "failed": []}
    out = io.StringIO()
    call_command(
        "issue_invoices",
        "--year",
        "2026",
        "--month",
        "5",
        "--zorggroep",
        chain.zorggroep.pk,
        stdout=out,
    )
    assert number(1) in out.getvalue()
    assert Invoice.objects.count() == 1


def test_the_beat_job_issues_the_previous_month(chain, coach, prestaties):
    billed(chain, coach)
    with time_machine.travel(datetime.datetime(2026, 6, 1, 3, 0, tzinfo=datetime.UTC)):
        result = issue_monthly_invoices()
    assert Invoice.objects.get().month == 5 and result["invoices"] == ["ZG-2026-00001"]


# -- budget flag ------------------------------------------------------------------------------------
def test_lines_past_the_budget_are_flagged_and_still_invoiced(chain, coach, planner, prestaties):
    KetenzorgBudget.objects.update_or_create(
        zorggroep=chain.zorggroep, year=2026, defaults={"amount": Decimal("1000.00")}
    )
    sent_may_invoice(chain, coach, planner, trajectories=2)  # 686.00 committed
    billed(chain, coach)
    with time_machine.travel(datetime.datetime(2026, 7, 1, 3, 0, tzinfo=datetime.UTC)):
        june = invoice_issue_month(zorggroep_id=chain.zorggroep.pk, year=2026, month=6)
    lines = list(june.lines.order_by("pk"))
    # 686 + 258 = 944 fits; + 85 = 1029 is over the 1000.00 budget.
    assert [(line.amount, line.over_budget) for line in lines] == [
        (Decimal("258.00"), False),
        (Decimal("85.00"), True),
    ]
    assert june.total == Decimal("343.00")


def test_without_a_budget_for_the_year_nothing_is_flagged(chain, coach, prestaties):
    KetenzorgBudget.objects.filter(zorggroep=chain.zorggroep).delete()
    for _ in range(5):
        billed(chain, coach)
    invoice = issue_may(chain)
    assert not invoice.lines.filter(over_budget=True).exists()


# -- the state machine: who moves what --------------------------------------------------------------
def test_the_planner_sends_a_draft_with_its_pdf(chain, coach, planner, prestaties):
    invoice = sent_may_invoice(chain, coach, planner)
    invoice.refresh_from_db()
    assert invoice.state == "sent" and invoice.sent_at is not None
    assert invoice.pdf.name.endswith(".pdf")
    with invoice.pdf.open("rb") as handle:
        assert handle.read(5) == b"%PDF-"


def test_the_zorggroep_admin_cannot_send(chain, coach, planner, zorggroep_admin, prestaties):
    billed(chain, coach)
    invoice = issue_may(chain)
    # A draft is not yet the zorggroep's: the admin does not even see it.
    with pytest.raises(Http404):
        invoice_send(actor=as_actor(zorggroep_admin), invoice_id=invoice.pk)
    both = factories.member(Role.ZORGGROEP_ADMIN, chain.zorggroep)
    with pytest.raises(Http404):
        invoice_send(actor=as_actor(both), invoice_id=invoice.pk)
    assert Invoice.objects.get(pk=invoice.pk).state == "draft"


def test_sending_twice_is_refused(chain, coach, planner, prestaties):
    invoice = sent_may_invoice(chain, coach, planner)
    with pytest.raises(ValidationError):
        invoice_send(actor=as_actor(planner), invoice_id=invoice.pk)


def test_a_planner_of_another_provider_does_not_see_the_invoice(chain, coach, planner, prestaties):
    billed(chain, coach)
    invoice = issue_may(chain)
    outsider = factories.member(Role.PLANNER, chain.other_provider)
    with pytest.raises(Http404):
        invoice_send(actor=as_actor(outsider), invoice_id=invoice.pk)


def test_the_admin_disputes_a_line_with_a_reason(
    chain, coach, planner, zorggroep_admin, prestaties
):
    invoice = sent_may_invoice(chain, coach, planner)
    line = invoice.lines.order_by("pk").first()
    with pytest.raises(ValidationError):
        invoice_dispute_line(actor=as_actor(zorggroep_admin), line_id=line.pk, reason="  ")

    invoice_dispute_line(
        actor=as_actor(zorggroep_admin), line_id=line.pk, reason="Patiënt niet in ketenzorg"
    )

    line.refresh_from_db()
    assert line.disputed_at is not None and line.dispute_reason == "Patiënt niet in ketenzorg"
    assert Invoice.objects.get(pk=invoice.pk).state == "disputed"
    with pytest.raises(ValidationError):
        invoice_dispute_line(actor=as_actor(zorggroep_admin), line_id=line.pk, reason="nogmaals")


def test_the_admin_of_another_zorggroep_gets_404(chain, coach, planner, prestaties):
    invoice = sent_may_invoice(chain, coach, planner)
    stranger = factories.member(Role.ZORGGROEP_ADMIN, factories.ZorggroepFactory())
    line = invoice.lines.first()
    with pytest.raises(Http404):
        invoice_dispute_line(actor=as_actor(stranger), line_id=line.pk, reason="x")
    with pytest.raises(Http404):
        invoice_approve(actor=as_actor(stranger), invoice_id=invoice.pk)


def test_the_planner_cannot_dispute_or_approve(chain, coach, planner, prestaties):
    invoice = sent_may_invoice(chain, coach, planner)
    with pytest.raises(PermissionDenied):
        invoice_approve(actor=as_actor(planner), invoice_id=invoice.pk)
    with pytest.raises(PermissionDenied):
        invoice_dispute_line(actor=as_actor(planner), line_id=invoice.lines.first().pk, reason="x")
    assert Invoice.objects.get(pk=invoice.pk).state == "sent"


def test_the_admin_cannot_correct_or_mark_paid(chain, coach, planner, zorggroep_admin, prestaties):
    invoice = sent_may_invoice(chain, coach, planner)
    line = invoice.lines.first()
    invoice_dispute_line(actor=as_actor(zorggroep_admin), line_id=line.pk, reason="fout")
    with pytest.raises(PermissionDenied):
        invoice_correct_line(actor=as_actor(zorggroep_admin), line_id=line.pk, amount=0, note="x")
    with pytest.raises(PermissionDenied):
        invoice_mark_paid(actor=as_actor(zorggroep_admin), invoice_id=invoice.pk)


def test_a_disputed_invoice_cannot_be_approved(chain, coach, planner, zorggroep_admin, prestaties):
    invoice = sent_may_invoice(chain, coach, planner)
    invoice_dispute_line(
        actor=as_actor(zorggroep_admin), line_id=invoice.lines.first().pk, reason="fout"
    )
    with pytest.raises(ValidationError):
        invoice_approve(actor=as_actor(zorggroep_admin), invoice_id=invoice.pk)


def test_payment_only_after_approval(chain, coach, planner, zorggroep_admin, prestaties):
    invoice = sent_may_invoice(chain, coach, planner)
    with pytest.raises(ValidationError):
        invoice_mark_paid(actor=as_actor(planner), invoice_id=invoice.pk)
    invoice_approve(actor=as_actor(zorggroep_admin), invoice_id=invoice.pk)
    paid = invoice_mark_paid(actor=as_actor(planner), invoice_id=invoice.pk)
    assert paid.state == "paid" and paid.paid_at is not None
    with pytest.raises(ValidationError):
        invoice_approve(actor=as_actor(zorggroep_admin), invoice_id=invoice.pk)


def test_a_line_without_an_open_dispute_cannot_be_corrected(chain, coach, planner, prestaties):
    invoice = sent_may_invoice(chain, coach, planner)
    with pytest.raises(ValidationError):
        invoice_correct_line(
            actor=as_actor(planner), line_id=invoice.lines.first().pk, amount=10, note="x"
        )
    assert not Invoice.objects.filter(corrects=invoice).exists()


# -- corrections ------------------------------------------------------------------------------------
def test_a_correction_credits_and_recharges_and_leaves_the_original_alone(
    chain, coach, planner, zorggroep_admin, prestaties
):
    invoice = sent_may_invoice(chain, coach, planner)
    before = _snapshot(invoice)
    line = invoice.lines.order_by("pk").first()  # SMR01 258.00
    invoice_dispute_line(actor=as_actor(zorggroep_admin), line_id=line.pk, reason="Te hoog")

    correction = invoice_correct_line(
        actor=as_actor(planner), line_id=line.pk, amount=Decimal("200.00"), note="Kort traject"
    )

    credit, charge = correction.lines.order_by("pk")
    assert (credit.kind, credit.amount, credit.corrects_id) == (
        "credit",
        Decimal("-258.00"),
        line.pk,
    )
    assert (charge.kind, charge.amount, charge.corrects_id) == (
        "correction",
        Decimal("200.00"),
        line.pk,
    )
    assert credit.patient_name == charge.patient_name == line.patient_name
    assert correction.total == Decimal("-58.00") == credit.amount + charge.amount
    assert correction.corrects_id == invoice.pk and correction.state == "sent"
    assert correction.number == number(2) and correction.pdf
    assert correction.seller["note"] == "Kort traject"
    original = Invoice.objects.get(pk=invoice.pk)
    assert original.state == "corrected"
    assert _snapshot(original) == before  # lines, amounts, total, copies: untouched
    line.refresh_from_db()
    assert line.dispute_resolved_at is not None and line.dispute_reason == "Te hoog"
    owed = sum(i.total for i in Invoice.objects.filter(zorggroep=chain.zorggroep))
    assert owed == Decimal("686.00") - 58


def test_the_invoice_stays_disputed_until_every_dispute_is_corrected(
    chain, coach, planner, zorggroep_admin, prestaties
):
    invoice = sent_may_invoice(chain, coach, planner)
    first, second = invoice.lines.order_by("pk")[:2]
    for line in (first, second):
        invoice_dispute_line(actor=as_actor(zorggroep_admin), line_id=line.pk, reason="fout")
    invoice_correct_line(actor=as_actor(planner), line_id=first.pk, amount=0, note="geen zorg")
    assert Invoice.objects.get(pk=invoice.pk).state == "disputed"
    invoice_correct_line(actor=as_actor(planner), line_id=second.pk, amount=50, note="deels")
    assert Invoice.objects.get(pk=invoice.pk).state == "corrected"
    assert Invoice.objects.filter(corrects=invoice).count() == 2


def test_approving_after_a_correction_approves_the_correction_too(
    chain, coach, planner, zorggroep_admin, prestaties
):
    invoice = sent_may_invoice(chain, coach, planner)
    line = invoice.lines.first()
    invoice_dispute_line(actor=as_actor(zorggroep_admin), line_id=line.pk, reason="fout")
    correction = invoice_correct_line(actor=as_actor(planner), line_id=line.pk, amount=1, note="x")

    invoice_approve(actor=as_actor(zorggroep_admin), invoice_id=invoice.pk)

    assert Invoice.objects.get(pk=invoice.pk).state == "approved"
    assert Invoice.objects.get(pk=correction.pk).state == "approved"
    invoice_mark_paid(actor=as_actor(planner), invoice_id=invoice.pk)
    assert set(Invoice.objects.values_list("state", flat=True)) == {"paid"}


def test_a_correction_line_cannot_be_disputed_again(
    chain, coach, planner, zorggroep_admin, prestaties
):
    invoice = sent_may_invoice(chain, coach, planner)
    line = invoice.lines.first()
    invoice_dispute_line(actor=as_actor(zorggroep_admin), line_id=line.pk, reason="fout")
    correction = invoice_correct_line(actor=as_actor(planner), line_id=line.pk, amount=1, note="x")
    with pytest.raises(ValidationError):
        invoice_dispute_line(
            actor=as_actor(zorggroep_admin), line_id=correction.lines.last().pk, reason="weer"
        )


def test_no_service_changes_the_lines_or_total_of_a_sent_invoice(
    chain, coach, planner, zorggroep_admin, prestaties
):
    invoice = sent_may_invoice(chain, coach, planner)
    before = _snapshot(invoice)
    admin, plan = as_actor(zorggroep_admin), as_actor(planner)
    billed(chain, coach)  # a late line of the same month
    assert issue_may(chain).pk == invoice.pk
    line = invoice.lines.order_by("pk").last()
    invoice_dispute_line(actor=admin, line_id=line.pk, reason="fout")
    invoice_correct_line(actor=plan, line_id=line.pk, amount=Decimal("10.00"), note="x")
    invoice_approve(actor=admin, invoice_id=invoice.pk)
    invoice_mark_paid(actor=plan, invoice_id=invoice.pk)
    with time_machine.travel(datetime.datetime(2026, 7, 1, 3, 0, tzinfo=datetime.UTC)):
        invoice_issue_month(zorggroep_id=chain.zorggroep.pk, year=2026, month=6)
    for attempt in (invoice_send, invoice_approve, invoice_mark_paid):
        with pytest.raises((ValidationError, PermissionDenied)):
            attempt(actor=plan, invoice_id=invoice.pk)
    assert _snapshot(invoice) == before
    assert Invoice.objects.get(pk=invoice.pk).state == "paid"


# -- the PDF ----------------------------------------------------------------------------------------
def test_the_pdf_shows_number_total_patient_and_the_vat_exemption(
    chain, coach, planner, prestaties
):
    patient = factories.PatientFactory(
        practice=chain.practice_a, first_name="Gerda", last_name="Stoppel", birth_date=D(1961, 2, 3)
    )
    billed(chain, coach, patient=patient)
    billed(chain, coach)
    invoice = issue_may(chain)
    invoice_send(actor=as_actor(planner), invoice_id=invoice.pk)
    invoice.refresh_from_db()
    with invoice.pdf.open("rb") as handle:
        text = " ".join(page.extract_text() for page in PdfReader(handle).pages)
    assert "Factuur" in text and invoice.number in text
    assert "686,00" in text  # the total, Dutch notation
    assert "Gerda Stoppel" in text and patient.bsn in text and "03-02-1961" in text
    assert "Vrijgesteld van btw (art. 11 lid 1 sub g Wet OB)" in text
    assert "Vervaldatum" in text and invoice.due_on.strftime("%d-%m-%Y") in text


def test_rendering_reads_only_the_copies(chain, coach, planner, prestaties):
    invoice = sent_may_invoice(chain, coach, planner)
    chain.provider.name = "Nieuwe Naam BV"
    chain.provider.save()
    prestatie = prestaties["programme"]
    prestatie.description = "Gewijzigde omschrijving"
    prestatie.save()
    html = invoicing.render_invoice_html(Invoice.objects.get(pk=invoice.pk))
    assert "Stoppen BV" in html and "Nieuwe Naam BV" not in html
    assert "Gewijzigde omschrijving" not in html and "Prestatie SMR01" in html


# -- concurrency ------------------------------------------------------------------------------------
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_issuing_the_same_month_create_one_invoice_with_one_number(
    postgresql_only, chain, coach, prestaties
):
    for _ in range(3):
        billed(chain, coach)
    results, errors = [], []

    def run():
        try:
            results.append(issue_may(chain).number)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    at_once(run)
    assert errors == []
    assert results == [number(1), number(1)]
    invoice = Invoice.objects.get()
    assert invoice.lines.count() == 6 and invoice.total == Decimal("1029.00")
