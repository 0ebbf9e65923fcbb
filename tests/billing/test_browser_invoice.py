"""In Chromium: the zorggroep admin reviews the month's invoice, disputes a line, the planner
corrects it, and the admin approves the invoice with its correction."""

import pytest

from billing.invoicing import invoice_send
from billing.models import Invoice
from carechain.access import Actor
from tests.billing.support import billed, issue_may
from tests.browser import ARTIFACTS, chromium_page, login

PASSWORD = "secret-password-1"  # tests.factories.UserFactory


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_admin_disputes_a_line_planner_corrects_admin_approves(
    live_server, chain, coach, planner, zorggroep_admin, prestaties
):
    billed(chain, coach)
    billed(chain, coach)
    invoice = invoice_send(actor=Actor.for_user(planner), invoice_id=issue_may(chain).pk)
    line = invoice.lines.order_by("pk").first()

    with chromium_page() as page:
        login(page, live_server.url, zorggroep_admin.username, PASSWORD)
        page.goto(f"{live_server.url}/billing/invoices/")
        page.click(f"#invoices >> text={invoice.number}")
        assert invoice.number in page.inner_text("h1")
        assert "686,00" in page.inner_text("#total")
        page.click(f"#open-dispute-{line.pk}")
        page.fill(f"#reason-{line.pk}", "Patiënt was niet in ketenzorg bij de intake")
        page.click(f"#do-dispute-{line.pk}")
        page.wait_for_selector(f"#dispute-{line.pk}")
        assert Invoice.objects.get(pk=invoice.pk).state == "disputed"
        assert page.locator("#do-approve").count() == 0

        planner_page = page.context.browser.new_context(locale="nl-NL").new_page()
        login(planner_page, live_server.url, planner.username, PASSWORD)
        planner_page.goto(f"{live_server.url}/billing/invoices/{invoice.pk}/")
        planner_page.fill(f"#amount-{line.pk}", "0")
        planner_page.fill(f"#note-{line.pk}", "Terecht: via de zorgverzekeraar gedeclareerd.")
        planner_page.click(f"#do-correct-{line.pk}")
        planner_page.wait_for_selector("#corrections")
        assert Invoice.objects.get(pk=invoice.pk).state == "corrected"

        page.reload()
        assert "428,00" in page.inner_text("#amount-due")  # 686.00 - 258.00
        page.click("#do-approve")
        page.wait_for_selector("#do-approve", state="detached")
        page.screenshot(
            path=str(ARTIFACTS / "invoice-approved-after-correction.png"), full_page=True
        )

    assert set(Invoice.objects.values_list("state", flat=True)) == {"approved"}
    assert Invoice.objects.count() == 2
