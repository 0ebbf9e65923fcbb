"""Issue the monthly zorggroep invoices by hand (the beat job does the previous month on the 1st).

    manage.py issue_invoices --year 2026 --month 5 [--zorggroep 12]

Safe to run again: a month that already has its invoice keeps it.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from billing import invoicing
from carechain.models import Zorggroep


class Command(BaseCommand):
    help = "Issue the monthly invoices to the zorggroepen (default: the previous month)."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int)
        parser.add_argument("--month", type=int)
        parser.add_argument("--zorggroep", type=int, help="only this zorggroep (id)")

    def handle(self, *args, year=None, month=None, zorggroep=None, **options):
        if (year is None) != (month is None):
            raise CommandError("Give both --year and --month, or neither (previous month).")
        if year is None:
            year, month = invoicing.previous_month()
        if zorggroep is not None:
            ids = [zorggroep]
            if not Zorggroep.objects.filter(pk=zorggroep).exists():
                raise CommandError(f"No zorggroep with id {zorggroep}.")
        else:
            ids = list(Zorggroep.objects.order_by("pk").values_list("pk", flat=True))
        failed = False
        for zorggroep_id in ids:
            try:
                invoice = invoicing.invoice_issue_month(
                    zorggroep_id=zorggroep_id, year=year, month=month
                )
            except ValidationError as exc:
                failed = True
                self.stderr.write(f"zorggroep {zorggroep_id}: {' '.join(exc.messages)}")
                continue
            if invoice is None:
                self.stdout.write(f"zorggroep {zorggroep_id}: nothing to invoice")
            else:
                self.stdout.write(
                    f"zorggroep {zorggroep_id}: {invoice.number} ({invoice.get_state_display()}, "
                    f"EUR {invoice.total})"
                )
        if failed:
            raise CommandError("Some zorggroepen could not be invoiced; see above.")
