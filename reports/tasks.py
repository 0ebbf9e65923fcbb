"""Thin Celery wrappers around reports.snapshots: ids in, one service call, safe to run twice."""

from celery import shared_task

from . import snapshots


@shared_task
def refresh_report_snapshots(which: str = snapshots.CURRENT) -> int:
    return snapshots.report_snapshots_refresh(which=which)


@shared_task(acks_late=True)
def refresh_zorggroep_snapshots(zorggroep_id: int, which: str = snapshots.CURRENT) -> int:
    return snapshots.zorggroep_snapshots_refresh(zorggroep_id=zorggroep_id, which=which)
