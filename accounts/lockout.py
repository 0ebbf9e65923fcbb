"""Lockout after failed logins: the account after a few, the address only after many.

A GP practice reaches the internet through one address. If five typing errors of one person locked
that address, the whole practice could not log in for a quarter of an hour; so the address has its
own, higher limit (``AXES_ADDRESS_FAILURE_LIMIT``), which still stops a script trying many usernames
from one place. The account locks after ``AXES_FAILURE_LIMIT`` failures from anywhere.
"""

from __future__ import annotations

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum

ACCOUNT, ADDRESS = "account", "address"


def _sum(attempts) -> int:
    return attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0


def recent_failures(request, credentials: dict | None = None) -> tuple[int, int]:
    """Failed logins within the cool-off time: of this username, and from this address."""
    recent = AccessAttempt.objects.filter(attempt_time__gte=get_cool_off_threshold(request))
    username = get_client_username(request, credentials)
    return (
        _sum(recent.filter(username=username)),
        _sum(recent.filter(ip_address=request.axes_ip_address)),
    )


def lock_reason(request, credentials: dict | None = None) -> str | None:
    """What is locked for this login: the account, the address, or nothing."""
    by_username, by_address = recent_failures(request, credentials)
    if by_username >= get_failure_limit(request, credentials):
        return ACCOUNT
    if by_address >= settings.AXES_ADDRESS_FAILURE_LIMIT:
        return ADDRESS
    return None


class AccountLockoutHandler(AxesDatabaseHandler):
    """django-axes' database handler with the two limits above (``AXES_HANDLER``).

    Axes compares one number with one limit, so this answers the username's failures, or that limit
    itself once the address has reached its own.
    """

    def get_failures(self, request, credentials: dict | None = None) -> int:
        by_username, by_address = recent_failures(request, credentials)
        if by_address >= settings.AXES_ADDRESS_FAILURE_LIMIT:
            return max(by_username, get_failure_limit(request, credentials))
        return by_username
