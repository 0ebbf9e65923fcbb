"""The Celery app. Tasks are thin wrappers around service functions (see ../shared/style.md)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smr.settings")

app = Celery("smr")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
