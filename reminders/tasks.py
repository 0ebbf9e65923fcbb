from celery import shared_task

from . import services


@shared_task
def scan_reminders() -> dict:
    result = services.reminders_scan()
    return {"created": result.created, "resolved": result.resolved, "marked_due": result.marked_due}


@shared_task
def send_reminder_digests() -> int:
    return services.reminders_send_digests()
