"""Benchmark: the zorggroep's monthly invoice run over 10,000 ended ketenzorg trajectories.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python benchmarks/invoice_run.py --trajectories 10000
    .venv/bin/python benchmarks/invoice_run.py --trajectories 2000        # SQLite, smaller

The region (``population.build_region``) is all ketenzorg (KIS referrals of the zorggroep's
practices to its contracted provider), with the demo prestaties and zorggroep tariffs. The run is
what the beat jobs do: routing (``billing_collect``: one decision per ended trajectory and its
invoice lines, copies of patient and practice) and the month's invoice (``invoice_issue_month``,
as ``manage.py issue_invoices``: numbered, seller and buyer copied, lines attached, budget flags).

Anchor: a raw ``INSERT ... SELECT`` of the same invoice lines (same columns, same rows: one per
ended trajectory and prestatie, with the tariff, patient and practice copied), in the same
database.

Rounds: anchor then run, each in a transaction rolled back afterwards, so every round starts from
the same state (no decisions, no lines, no invoice); medians over ``--rounds``. Checks: the run
makes as many lines as the anchor, and a second run inside the same round makes nothing new.
"""

from __future__ import annotations

import argparse
import datetime

from harness import Result, Timer, interleaved, report, setup_django, throwaway_database


class Rollback(Exception):
    pass


LINES_SQL = """
INSERT INTO billing_invoiceline (zorggroep_id, trajectory_id, prestatie_id, kind, amount,
    patient_name, patient_bsn, patient_birth_date, practice_name, start_date, end_date,
    over_budget, dispute_reason, created_at)
SELECT pr.zorggroep_id, t.id, p.id, 'original', tf.amount,
    pa.first_name || ' ' || pa.last_name, pa.bsn, pa.birth_date, o.name, t.intake_date,
    t.end_date, FALSE, '', %s
FROM pathways_trajectory t
JOIN carechain_patient pa ON pa.id = t.patient_id
JOIN carechain_practice pr ON pr.organisation_ptr_id = t.practice_id
JOIN carechain_organisation o ON o.id = t.practice_id
JOIN billing_prestatie p ON p.kind IN ('programme', 'nrt')
JOIN billing_tariff tf ON tf.prestatie_id = p.id AND tf.zorggroep_id = pr.zorggroep_id
    AND tf.valid_from <= t.intake_date AND (tf.valid_to IS NULL OR tf.valid_to >= t.intake_date)
WHERE (t.state IN ('end_of_treatment', 'follow_up_due', 'closed')
       OR (t.state IN ('stopped_unmotivated', 'dropped_out') AND t.intake_date IS NOT NULL))
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trajectories", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with throwaway_database() as vendor:
        setup_django()
        from django.db import connection, transaction
        from django.utils import timezone
        from population import build_region

        from billing import invoicing, services
        from billing.demo import PRESTATIES
        from billing.models import Invoice, InvoiceLine, KetenzorgBudget, Prestatie, Tariff
        from carechain.models import Zorggroep

        # Ended ones are about 98 % of a region; build enough for the number asked for.
        region = build_region(
            round(args.trajectories / 0.98),
            practices=40,
            providers=1,
            ketenzorg_per_mille=1000,
            coach_active=0,
            worklist_referrals=0,
            verbose=True,
        )
        zorggroep = Zorggroep.objects.get(pk=region.zorggroep_id)
        for code, description, kind, amount in PRESTATIES:
            prestatie = Prestatie.objects.create(code=code, description=description, kind=kind)
            Tariff.objects.create(
                prestatie=prestatie,
                zorggroep=zorggroep,
                valid_from=datetime.date(2015, 1, 1),
                amount=amount,
            )
        today = timezone.localdate()
        for year in range(today.year - 7, today.year + 1):
            KetenzorgBudget.objects.create(zorggroep=zorggroep, year=year, amount=400_000)
        year, month = invoicing.previous_month(today)
        last_day = today.replace(day=1) - datetime.timedelta(days=1)
        ended = services.billable_trajectories().count()
        seen = {}

        def anchor() -> float:
            try:
                with transaction.atomic(), connection.cursor() as cursor:
                    with Timer() as timer:
                        cursor.execute(
                            LINES_SQL, [connection.ops.adapt_datetimefield_value(timezone.now())]
                        )
                    seen["anchor lines"] = cursor.rowcount
                    raise Rollback
            except Rollback:
                pass
            return timer.seconds * 1000

        def run() -> float:
            try:
                with transaction.atomic():
                    with Timer() as routing:
                        services.billing_collect()
                    with Timer() as issuing:
                        invoice = invoicing.invoice_issue_month(
                            zorggroep_id=zorggroep.pk, year=year, month=month
                        )
                    seen["lines"] = InvoiceLine.objects.count()
                    seen["due"] = InvoiceLine.objects.filter(end_date__lte=last_day).count()
                    seen["invoiced"] = invoice.lines.count() if invoice else 0
                    seen["routing"], seen["issuing"] = routing.seconds, issuing.seconds
                    again = services.billing_collect()
                    same = invoicing.invoice_issue_month(
                        zorggroep_id=zorggroep.pk, year=year, month=month
                    )
                    seen["idempotent"] = (
                        again["decided"] == 0
                        and same == invoice
                        and InvoiceLine.objects.count() == seen["lines"]
                        and Invoice.objects.count() == 1
                    )
                    raise Rollback
            except Rollback:
                pass
            return (routing.seconds + issuing.seconds) * 1000

        app, base, apps, anchors = interleaved(run, anchor, rounds=args.rounds)
        print(
            f"{vendor}: {ended:,} ended ketenzorg trajectories; {seen['lines']:,} lines "
            f"({seen['invoiced']:,} on the invoice of {month:02d}-{year}); "
            f"last round: routing {seen['routing'] * 1000:,.0f} ms, "
            f"issuing {seen['issuing'] * 1000:,.0f} ms"
        )
        print("  run ms:    " + ", ".join(f"{x:,.0f}" for x in apps))
        print("  anchor ms: " + ", ".join(f"{x:,.0f}" for x in anchors))
        report(
            Result(
                name=f"zorggroep's monthly invoice run, {ended:,} ended trajectories",
                figure=app,
                anchor=base,
                unit="ms",
                anchor_label="raw INSERT ... SELECT of the same lines",
                higher_is_better=False,
                target_ratio=10,
                checks={
                    "same lines as the anchor": seen["lines"] == seen["anchor lines"],
                    "every line ended by the month's end on the invoice": seen["invoiced"]
                    == seen["due"],
                    "second run makes nothing new": seen["idempotent"],
                },
                notes=f"routing {seen['routing'] * 1000:,.0f} ms + issuing "
                f"{seen['issuing'] * 1000:,.0f} ms in the last round; "
                f"median of {args.rounds} rolled-back rounds",
            )
        )


if __name__ == "__main__":
    main()
