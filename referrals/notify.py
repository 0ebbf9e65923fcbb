"""Telling the referrer's systems that something changed: the one call every referral and
trajectory service makes when the referrer's view of a referral (its FHIR Task) changes.

The Task's ``meta.lastUpdated`` moves, so a KIS polling ``GET /fhir/Task?_lastUpdated=gt...`` sees
the referral on its next call; organisations that registered a webhook get a signed notification
after the transaction commits (``referrals.webhooks``).
"""

from __future__ import annotations

from django.utils import timezone

from .models import Referral
from .webhooks import webhooks_queue


class Event:
    """What a notification says happened; the receiver fetches the Task to learn the rest."""

    STATUS_CHANGED = "task-status-changed"
    FEEDBACK_ADDED = "task-feedback-added"


def notify_referrer(*, referral_id: int, event: str) -> None:
    """Call inside the transaction that made the change: the notifications are outbox rows of
    that transaction, sent after it commits."""
    Referral.objects.filter(pk=referral_id).update(updated_at=timezone.now())
    webhooks_queue(referral_id=referral_id, event=event)
