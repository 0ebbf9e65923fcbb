from celery import shared_task

from . import services


@shared_task
def collect_billable_trajectories() -> dict:
    return services.billing_collect()
