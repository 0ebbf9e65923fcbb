import datetime
from decimal import Decimal

import pytest

from billing.models import KetenzorgBudget, Prestatie, RejectionReason, Tariff


@pytest.fixture
def prestaties(chain):
    """The three NZa prestaties with tariffs in both insurers' contracts and the zorggroep's."""
    made = {}
    for code, kind, amount in (
        ("SMR01", "programme", "268.00"),
        ("SMR02", "nrt", "95.00"),
        ("SMR03", "medication", "120.00"),
    ):
        prestatie = Prestatie.objects.create(code=code, kind=kind, description=f"Prestatie {code}")
        for insurer in (chain.insurer_a, chain.insurer_b):
            Tariff.objects.create(
                prestatie=prestatie,
                insurer=insurer,
                amount=Decimal(amount),
                valid_from=datetime.date(2020, 1, 1),
            )
        Tariff.objects.create(
            prestatie=prestatie,
            zorggroep=chain.zorggroep,
            amount=Decimal(amount) - 10,
            valid_from=datetime.date(2020, 1, 1),
        )
        made[kind] = prestatie
    for code in ("8001", "8002", "8003"):
        RejectionReason.objects.create(code=code, description=f"Reden {code}")
    KetenzorgBudget.objects.create(
        zorggroep=chain.zorggroep, year=datetime.date.today().year, amount=Decimal("1000.00")
    )
    return made
