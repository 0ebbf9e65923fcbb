"""A committed invoice line for the budget figures (the invoicing rules are billing's tests)."""

import datetime

from django.utils import timezone

from billing.models import Invoice, InvoiceLine, Prestatie
from tests.reports.support import trajectory


def committed_line(chain, coach, *, end_date: datetime.date, amount):
    prestatie = Prestatie.objects.get_or_create(
        kind="programme", defaults={"code": "SMR01", "description": "Programma"}
    )[0]
    t = trajectory(chain.practice_a, coach=coach, intake_date=end_date, end_date=end_date)
    invoice, _ = Invoice.objects.get_or_create(
        zorggroep=chain.zorggroep,
        year=end_date.year,
        month=end_date.month,
        corrects=None,
        defaults={
            "number": f"T-{end_date:%Y%m}",
            "state": "sent",
            "sent_at": timezone.now(),
            "issued_on": end_date,
            "due_on": end_date,
            "seller": {},
            "buyer": {},
        },
    )
    return InvoiceLine.objects.create(
        zorggroep=chain.zorggroep,
        trajectory=t,
        prestatie=prestatie,
        invoice=invoice,
        amount=amount,
        patient_name="x",
        patient_bsn=t.patient.bsn,
        patient_birth_date=t.patient.birth_date,
        practice_name=chain.practice_a.name,
        start_date=end_date,
        end_date=end_date,
    )
