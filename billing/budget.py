"""The zorggroep's ketenzorg budget for stop-smoking care: what is committed, what remains.

The budget is the zorggroep's own money (its chain-care bundle), so the provider keeps invoicing
when it runs out; the zorggroep admin needs to see it coming. A line counts against the budget of
the year its care ended (``InvoiceLine.end_date``); credit and correction lines carry the end date
of the line they correct, so a correction lands in the same year. Only invoices the zorggroep has
received count (sent and later): a draft is still the provider's business.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from django.db.models import Sum

from .models import InvoiceLine, InvoiceState, KetenzorgBudget

COMMITTED_STATES = [
    InvoiceState.SENT,
    InvoiceState.DISPUTED,
    InvoiceState.CORRECTED,
    InvoiceState.APPROVED,
    InvoiceState.PAID,
]
WARNING_PERCENTAGE = Decimal("80")
ZERO = Decimal("0.00")


class Level:
    NONE = "none"  # no budget registered for the year
    OK = "ok"
    WARNING = "warning"  # 80% or more used
    EXCEEDED = "exceeded"  # 100% or more used


@dataclass(frozen=True)
class BudgetStatus:
    zorggroep_id: int
    zorggroep_name: str
    year: int
    amount: Decimal | None
    committed: Decimal

    @property
    def remaining(self) -> Decimal | None:
        return None if self.amount is None else self.amount - self.committed

    @property
    def percentage(self) -> Decimal | None:
        if self.amount is None:
            return None
        if self.amount == 0:
            return Decimal("100.0") if self.committed > 0 else Decimal("0.0")
        return (self.committed * 100 / self.amount).quantize(Decimal("0.1"), ROUND_DOWN)

    @property
    def level(self) -> str:
        """Compared exactly, not on the rounded percentage: 79.96% is not yet 80%."""
        if self.amount is None:
            return Level.NONE
        if self.amount == 0:
            return Level.EXCEEDED if self.committed > 0 else Level.OK
        if self.committed >= self.amount:
            return Level.EXCEEDED
        if self.committed * 100 >= self.amount * WARNING_PERCENTAGE:
            return Level.WARNING
        return Level.OK

    @property
    def bar_width(self) -> int:
        """The filled part of the budget bar on the pages, 0..100."""
        return max(0, min(100, int(self.percentage or 0)))


def committed_lines(*, zorggroep_ids, year: int):
    return InvoiceLine.objects.filter(
        zorggroep_id__in=zorggroep_ids,
        end_date__year=year,
        invoice__state__in=COMMITTED_STATES,
    )


def budget_statuses(*, zorggroepen, year: int) -> list[BudgetStatus]:
    """The budget of each zorggroep in one year, in two queries however many there are."""
    zorggroepen = list(zorggroepen)
    ids = [z.pk for z in zorggroepen]
    amounts = dict(
        KetenzorgBudget.objects.filter(zorggroep_id__in=ids, year=year).values_list(
            "zorggroep_id", "amount"
        )
    )
    committed = dict(
        committed_lines(zorggroep_ids=ids, year=year)
        .order_by()
        .values("zorggroep_id")
        .annotate(total=Sum("amount"))
        .values_list("zorggroep_id", "total")
    )
    return [
        BudgetStatus(
            zorggroep_id=z.pk,
            zorggroep_name=z.name,
            year=year,
            amount=amounts.get(z.pk),
            committed=committed.get(z.pk) or ZERO,
        )
        for z in zorggroepen
    ]


def budget_status(*, zorggroep, year: int) -> BudgetStatus:
    return budget_statuses(zorggroepen=[zorggroep], year=year)[0]
