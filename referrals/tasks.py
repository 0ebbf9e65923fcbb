"""Thin Celery wrappers around referrals.letters: ids in, one service call, safe to run twice."""

import smtplib

from celery import shared_task

from . import letters, webhooks


@shared_task(
    bind=True,
    autoretry_for=(smtplib.SMTPException, ConnectionError, TimeoutError, OSError),
    retry_backoff=30,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=6,
    acks_late=True,
)
def deliver_letter(self, letter_id: int) -> bool:
    return letters.letter_deliver(letter_id)


@shared_task
def sweep_letters() -> dict:
    return letters.letters_sweep()


@shared_task(bind=True, acks_late=True, max_retries=webhooks.MAX_ATTEMPTS - 1)
def deliver_webhook(self, delivery_id: int) -> bool:
    try:
        return webhooks.webhook_deliver(delivery_id)
    except webhooks.DeliveryFailed as exc:
        attempt = self.request.retries + 1
        raise self.retry(exc=exc, countdown=webhooks.retry_countdown(attempt)) from None
