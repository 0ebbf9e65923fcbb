"""Webhook notifications to the referrer's systems (not built yet: polling only)."""


def webhooks_enqueue(*, referral_id: int, event: str) -> None:
    return None
