"""The zorggroep's ketenzorg budget: committed counts what the zorggroep received, credits included;
the admin is warned at 80% and at 100%."""

from decimal import Decimal

from django.urls import reverse

from billing.budget import budget_status
from billing.invoicing import invoice_correct_line, invoice_dispute_line
from billing.models import KetenzorgBudget
from carechain.access import Actor
from tests import factories
from tests.billing.support import billed, issue_may, sent_may_invoice


def _budget(chain, amount: str, year: int = 2026) -> None:
    KetenzorgBudget.objects.update_or_create(
        zorggroep=chain.zorggroep, year=year, defaults={"amount": Decimal(amount)}
    )


def test_a_draft_does_not_count_against_the_budget(chain, coach, prestaties):
    _budget(chain, "1000.00")
    billed(chain, coach)
    issue_may(chain)
    status = budget_status(zorggroep=chain.zorggroep, year=2026)
    assert status.committed == 0 and status.remaining == Decimal("1000.00")
    assert status.level == "ok"


def test_committed_remaining_and_percentage_of_sent_invoices(chain, coach, planner, prestaties):
    _budget(chain, "1000.00")
    sent_may_invoice(chain, coach, planner, trajectories=2)  # 686.00
    status = budget_status(zorggroep=chain.zorggroep, year=2026)
    assert status.amount == Decimal("1000.00")
    assert status.committed == Decimal("686.00")
    assert status.remaining == Decimal("314.00")
    assert status.percentage == Decimal("68.6")
    assert status.level == "ok"


def test_credits_lower_what_is_committed(chain, coach, planner, zorggroep_admin, prestaties):
    _budget(chain, "1000.00")
    invoice = sent_may_invoice(chain, coach, planner, trajectories=2)
    line = invoice.lines.order_by("pk").first()  # 258.00
    invoice_dispute_line(actor=Actor.for_user(zorggroep_admin), line_id=line.pk, reason="fout")
    invoice_correct_line(actor=Actor.for_user(planner), line_id=line.pk, amount=100, note="x")
    assert budget_status(zorggroep=chain.zorggroep, year=2026).committed == Decimal("528.00")


def test_warning_from_80_percent(chain, coach, planner, prestaties):
    _budget(chain, "857.50")  # 686.00 is exactly 80%
    sent_may_invoice(chain, coach, planner, trajectories=2)
    status = budget_status(zorggroep=chain.zorggroep, year=2026)
    assert status.percentage == Decimal("80.0") and status.level == "warning"


def test_exceeded_from_100_percent(chain, coach, planner, prestaties):
    _budget(chain, "686.00")
    sent_may_invoice(chain, coach, planner, trajectories=2)
    status = budget_status(zorggroep=chain.zorggroep, year=2026)
    assert status.percentage == Decimal("100.0") and status.level == "exceeded"
    assert status.remaining == 0


def test_just_under_80_percent_is_no_warning(chain, coach, planner, prestaties):
    _budget(chain, "858.00")
    sent_may_invoice(chain, coach, planner, trajectories=2)
    assert budget_status(zorggroep=chain.zorggroep, year=2026).level == "ok"


def test_another_year_or_zorggroep_does_not_count(chain, coach, planner, prestaties):
    _budget(chain, "1000.00", year=2027)
    sent_may_invoice(chain, coach, planner, trajectories=1)
    assert budget_status(zorggroep=chain.zorggroep, year=2027).committed == 0
    other = factories.ZorggroepFactory()
    assert budget_status(zorggroep=other, year=2026).committed == 0
    assert budget_status(zorggroep=other, year=2026).level == "none"


def test_the_admin_sees_the_warnings_on_list_and_detail(
    client, chain, coach, planner, zorggroep_admin, prestaties
):
    _budget(chain, "800.00")  # 686.00 = 85.75%
    invoice = sent_may_invoice(chain, coach, planner, trajectories=2)
    client.force_login(zorggroep_admin)
    for url in (
        reverse("invoice-list") + "?year=2026",
        reverse("invoice-detail", args=[invoice.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200
        assert 'class="card budget budget-warning"' in response.content.decode()
        assert "budget-warning" in response.content.decode()

    _budget(chain, "600.00")
    body = client.get(reverse("invoice-detail", args=[invoice.pk])).content.decode()
    assert "budget-exceeded" in body and 'role="alert"' in body


def test_over_budget_lines_are_marked_on_the_page(
    client, chain, coach, planner, zorggroep_admin, prestaties
):
    _budget(chain, "300.00")
    invoice = sent_may_invoice(chain, coach, planner, trajectories=1)  # 258 ok, +85 over
    assert list(invoice.lines.order_by("pk").values_list("over_budget", flat=True)) == [
        False,
        True,
    ]
    client.force_login(zorggroep_admin)
    body = client.get(reverse("invoice-detail", args=[invoice.pk])).content.decode()
    assert body.count('<span class="badge warn">') >= 1
