"""The worker SIGKILLed during the monthly invoice run: the rerun finishes it, every line is on
exactly one invoice, every zorggroep has one invoice for the month, the numbers have no gap.

``billing.tasks.issue_monthly_invoices`` runs on a real ``celery -A smr worker`` over many
zorggroepen with uninvoiced lines of last month. Each fault waits until the run has issued at
least one invoice, kills the worker with SIGKILL at a random moment shortly after, starts a new
worker and queues the run again (the rerun; the killed run's task also comes back from Redis
after its visibility timeout, which the last step imitates by running it once more).
"""

from __future__ import annotations

import datetime
import random
import time
from decimal import Decimal

from scripts import faults


def _world(zorggroepen: int, lines_each: int) -> int:
    """Zorggroepen, each with its contracted provider and ``lines_each`` lines of last month."""
    from billing.invoicing import previous_month
    from billing.models import InvoiceLine, Prestatie
    from tests import factories

    year, month = previous_month()
    end = datetime.date(year, month, 15)
    prestatie = Prestatie.objects.create(code="SMR01", description="Programma", kind="programme")
    lines = []
    for _ in range(zorggroepen):
        provider = factories.ProviderFactory()
        zorggroep = factories.ZorggroepFactory(smr_provider=provider)
        practice = factories.PracticeFactory(zorggroep=zorggroep)
        for _ in range(lines_each):
            trajectory = factories.TrajectoryFactory(
                referral__patient=factories.PatientFactory(practice=practice),
                referral__provider=provider,
            )
            lines.append(
                InvoiceLine(
                    zorggroep=zorggroep,
                    trajectory=trajectory,
                    prestatie=prestatie,
                    amount=Decimal("213.50"),
                    patient_name="P. Test",
                    patient_bsn=trajectory.patient.bsn,
                    patient_birth_date=datetime.date(1970, 1, 1),
                    practice_name=practice.name,
                    start_date=end - datetime.timedelta(days=90),
                    end_date=end,
                )
            )
    InvoiceLine.objects.bulk_create(lines, batch_size=1000)
    return len(lines)


def _outcome(zorggroepen: int) -> dict:
    from django.db.models import Count, Sum

    from billing.invoicing import previous_month
    from billing.models import Invoice, InvoiceLine

    year, month = previous_month()
    monthly = Invoice.objects.filter(year=year, month=month, corrects__isnull=True)
    per_zorggroep = monthly.values("zorggroep").annotate(n=Count("pk"))
    doubled_invoices = sum(row["n"] - 1 for row in per_zorggroep)
    doubled_lines = (
        InvoiceLine.objects.filter(kind="original")
        .values("trajectory", "prestatie")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count()
    )
    wrong_totals = sum(
        1
        for invoice in monthly.annotate(line_sum=Sum("lines__amount"))
        if invoice.line_sum != invoice.total
    )
    numbers = sorted(int(n.rsplit("-", 1)[1]) for n in monthly.values_list("number", flat=True))
    return {
        "items": InvoiceLine.objects.count(),
        "lost": InvoiceLine.objects.filter(invoice__isnull=True).count(),
        "doubled": doubled_invoices + doubled_lines,
        "invoices": monthly.count(),
        "zorggroepen_without_invoice": zorggroepen - per_zorggroep.count(),
        "invoices_with_wrong_total": wrong_totals,
        "numbers_gapless": numbers == list(range(1, len(numbers) + 1)),
    }


def run(bounded: bool) -> dict:
    from harness import throwaway_database
    from processes import letter_world, private_redis, wait_until

    zorggroepen, lines_each, kills = (20, 5, 2) if bounded else (100, 20, 8)
    rng = random.Random(7)
    with throwaway_database(), private_redis() as redis, letter_world(redis) as world:
        workers = world[0]
        faults.setup_django()
        from billing.invoicing import previous_month
        from billing.models import Invoice
        from billing.tasks import issue_monthly_invoices

        _world(zorggroepen, lines_each)
        faults.log(f"{zorggroepen} zorggroepen with {lines_each} lines each")
        year, month = previous_month()
        injected = 0
        for _ in range(kills):
            name = workers.start()
            before = Invoice.objects.count()
            if before == zorggroepen:
                break
            issue_monthly_invoices.delay(year, month)
            wait_until(
                lambda n=before: Invoice.objects.count() > n,
                timeout=120,
                interval=0.02,
                what="the run to issue an invoice",
            )
            time.sleep(rng.uniform(0.0, 0.2))
            workers.kill(name)
            injected += 1
            faults.log(f"kill {injected}: {Invoice.objects.count()} invoices")
        killed_at = Invoice.objects.count()
        name = workers.start()
        issue_monthly_invoices.delay(year, month)  # the rerun
        issue_monthly_invoices.delay(year, month)  # the killed runs' tasks, redelivered
        wait_until(lambda: redis.waiting() == 0, timeout=300, what="the rerun")
        workers.stop(name)
        outcome = _outcome(zorggroepen)
    return {
        "fault": "worker SIGKILLed during the monthly invoice run",
        "faults_injected": injected,
        **outcome,
        "invoices_when_last_killed": killed_at,
        "ok": outcome["zorggroepen_without_invoice"] == 0
        and outcome["invoices_with_wrong_total"] == 0
        and outcome["numbers_gapless"],
    }
