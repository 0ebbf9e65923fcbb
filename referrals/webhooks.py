"""Webhook notifications to the referrer's systems: an outbox row per webhook, a signed POST.

A notification carries no patient data, only which Task changed and how; the receiver fetches the
Task (and its feedback Bundles) with its own API key, so access and audit stay where they are.

Signature (as Stripe and GitHub do it): header ``X-SMR-Signature: t=<unix time>,v1=<hex>`` where
``<hex>`` is HMAC-SHA256 under the webhook's secret of ``"<t>.<body>"``. The receiver recomputes
it, compares in constant time and refuses an old ``t`` (replays). Retries: up to
``MAX_ATTEMPTS`` attempts with exponential backoff (1, 2, 4, 8, 16 minutes), then the delivery is
``failed`` in the planner's delivery log.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .models import Referral, Webhook, WebhookDelivery, validate_webhook_url

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
FIRST_RETRY_SECONDS = 60
SIGNATURE_HEADER = "X-SMR-Signature"
Status = WebhookDelivery.Status


class DeliveryFailed(Exception):
    """The receiver did not answer 2xx (or not at all): worth another attempt."""


def webhook_new_secret() -> str:
    return secrets.token_hex(32)


def webhook_create(*, organisation, url: str) -> tuple[Webhook, str]:
    """Register a webhook; returns it with its secret, shown to the person once."""
    webhook = Webhook(organisation=organisation, url=url, secret=webhook_new_secret())
    webhook.full_clean()
    webhook.save()
    return webhook, webhook.secret


def webhooks_queue(*, referral_id: int, event: str) -> list[WebhookDelivery]:
    """Inside the changing transaction: one outbox row per active webhook of the referring
    practice and its zorggroep; each is sent after commit."""
    # One query when nobody registered a webhook (most changes): the hooks are looked up through
    # the referral, which is loaded only when there is something to send.
    referral_rows = Referral.objects.filter(pk=referral_id)
    hooks = list(
        Webhook.objects.filter(
            Q(organisation_id__in=referral_rows.values("practice_id"))
            | Q(organisation_id__in=referral_rows.values("practice__zorggroep_id")),
            is_active=True,
        )
    )
    if not hooks:
        return []
    referral = Referral.objects.only("pk", "public_id").get(pk=referral_id)
    deliveries = [
        WebhookDelivery(webhook=hook, referral=referral, event=event, body="") for hook in hooks
    ]
    for delivery in deliveries:
        delivery.body = _body(delivery, referral)
    WebhookDelivery.objects.bulk_create(deliveries)
    for delivery in deliveries:
        transaction.on_commit(lambda pk=delivery.pk: _enqueue(pk))
    return deliveries


def _body(delivery: WebhookDelivery, referral: Referral) -> str:
    return json.dumps(
        {
            "id": str(delivery.public_id),
            "type": delivery.event,
            "occurredAt": timezone.localtime(delivery.created_at).isoformat(),
            "resource": {"resourceType": "Task", "id": str(referral.public_id)},
            "reference": f"Task/{referral.public_id}",
        },
        separators=(",", ":"),
    )


def _enqueue(delivery_id: int) -> None:
    from .tasks import deliver_webhook

    try:
        deliver_webhook.delay(delivery_id)
    except Exception:
        logger.exception("webhook delivery %s could not start now", delivery_id)


def signature(secret: str, body: str, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def webhook_deliver(delivery_id: int) -> bool:
    """One attempt; True when delivered (now or before). Raises DeliveryFailed to be retried."""
    delivery = WebhookDelivery.objects.select_related("webhook").get(pk=delivery_id)
    if delivery.status != Status.PENDING:
        return delivery.status == Status.DELIVERED
    attempt = delivery.attempts + 1
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=attempt)
    try:
        validate_webhook_url(delivery.webhook.url)  # the settings may have changed since
        response = requests.post(
            delivery.webhook.url,
            data=delivery.body.encode(),
            headers={
                "Content-Type": "application/json",
                "User-Agent": "SMR-ketenzorg-webhooks/1",
                "X-SMR-Event": delivery.event,
                "X-SMR-Delivery": str(delivery.public_id),
                SIGNATURE_HEADER: signature(
                    delivery.webhook.secret, delivery.body, int(time.time())
                ),
            },
            timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
            allow_redirects=False,
        )
    except (requests.RequestException, ValidationError) as exc:
        return _failed(delivery, attempt, None, f"{type(exc).__name__}: {exc}")
    if 200 <= response.status_code < 300:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=Status.DELIVERED,
            last_status_code=response.status_code,
            last_error="",
            delivered_at=timezone.now(),
        )
        return True
    return _failed(delivery, attempt, response.status_code, f"HTTP {response.status_code}")


def _failed(delivery: WebhookDelivery, attempt: int, code: int | None, error: str) -> bool:
    final = attempt >= MAX_ATTEMPTS
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=Status.FAILED if final else Status.PENDING,
        last_status_code=code,
        last_error=error[:300],
    )
    if final:
        return False
    raise DeliveryFailed(error)


def retry_countdown(attempt: int) -> int:
    """Seconds before attempt ``attempt + 1``: 60, 120, 240, 480, 960."""
    return FIRST_RETRY_SECONDS * 2 ** (attempt - 1)


def deliveries_for_provider(provider_ids: set[int]):
    """The planner's delivery log: notifications about referrals to their provider."""
    return (
        WebhookDelivery.objects.filter(referral__provider_id__in=provider_ids)
        .select_related("webhook__organisation", "referral")
        .order_by("-created_at", "-pk")
    )
