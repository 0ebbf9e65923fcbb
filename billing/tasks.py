from celery import shared_task

from . import invoicing, services


@shared_task
def collect_billable_trajectories() -> dict:
    return services.billing_collect()


@shared_task
def issue_monthly_invoices(year: int | None = None, month: int | None = None) -> dict:
    """Beat, on the 1st: every zorggroep's invoice for the month before (safe to run twice)."""
    if year is None or month is None:
        year, month = invoicing.previous_month()
    return invoicing.invoices_issue_month(year=year, month=month)
