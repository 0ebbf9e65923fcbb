"""Demo prestaties, tariffs and a ketenzorg budget (fictional amounts; real ones are contract data)."""

import datetime
from decimal import Decimal

from .models import KetenzorgBudget, Prestatie, RejectionReason, Tariff

PRESTATIES = [
    (
        "SMR01",
        "Stoppen-met-rokenprogramma, gedragsmatige ondersteuning",
        Prestatie.Kind.PROGRAMME,
        "268.00",
    ),
    ("SMR02", "Toeslag nicotinevervangende middelen", Prestatie.Kind.NRT_SUPPLEMENT, "95.00"),
    ("SMR03", "Toeslag geneesmiddelen op recept", Prestatie.Kind.MEDICATION_SUPPLEMENT, "120.00"),
]
REJECTION_REASONS = [
    ("8001", "Verzekerde niet verzekerd op behandeldatum"),
    ("8002", "Prestatie al eerder gedeclareerd"),
    ("8003", "Maximum één programma per kalenderjaar overschreden"),
    ("8004", "Tarief wijkt af van het contract"),
    ("8005", "Gegevens verzekerde onjuist"),
]


def seed(chain) -> None:
    start = datetime.date(datetime.date.today().year - 2, 1, 1)
    for code, description, kind, amount in PRESTATIES:
        prestatie, _ = Prestatie.objects.get_or_create(
            kind=kind, defaults={"code": code, "description": description}
        )
        for insurer in chain.insurers:
            Tariff.objects.get_or_create(
                prestatie=prestatie,
                insurer=insurer,
                valid_from=start,
                defaults={"amount": Decimal(amount)},
            )
        Tariff.objects.get_or_create(
            prestatie=prestatie,
            zorggroep=chain.zorggroep,
            valid_from=start,
            defaults={"amount": Decimal(amount) - Decimal("10.00")},
        )
    for code, description in REJECTION_REASONS:
        RejectionReason.objects.get_or_create(code=code, defaults={"description": description})
    for year in (datetime.date.today().year - 1, datetime.date.today().year):
        KetenzorgBudget.objects.get_or_create(
            zorggroep=chain.zorggroep, year=year, defaults={"amount": Decimal("15000.00")}
        )


def bill(chain) -> None:
    """Run what beat would have run: decide the ended demo trajectories, invoice last month."""
    from .invoicing import invoice_issue_month
    from .services import billing_collect

    billing_collect()
    first_of_month = datetime.date.today().replace(day=1)
    last_month = first_of_month - datetime.timedelta(days=1)
    invoice_issue_month(
        zorggroep_id=chain.zorggroep.pk, year=last_month.year, month=last_month.month
    )
