"""The Celery app. Tasks are thin wrappers around service functions (see ../shared/style.md)."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smr.settings")

app = Celery("smr")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def close_old_connections(sender=None, **kwargs) -> None:
    """Around every task, what Django does around every request: drop a database connection that
    is broken or older than ``DATABASE_CONN_MAX_AGE``, and health-check a kept one before its next
    use. (Celery's own Django fix-up would close the connection around every task instead, a new
    PostgreSQL backend per feedback letter; ``CELERY_DB_REUSE_MAX`` turns that off.) Eager tasks
    run inside the caller's request or test transaction and are left alone."""
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
