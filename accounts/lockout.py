"""Lockout after failed logins: the account after a few, the address only after many.

A GP practice reaches the internet through one address. If five typing errors of one person locked
that address, the whole practice could not log in for a quarter of an hour; so the address has its
own, higher limit (``AXES_ADDRESS_FAILURE_LIMIT``), which still stops a script trying many usernames
from one place. The account locks after ``AXES_FAILURE_LIMIT`` failures from anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum


@dataclass(frozen=True)
class Failures:
    """Failed logins within the cool-off time: of one username, and from one address."""

    by_username: int
    by_address: int
    account_limit: int

    @property
    def account_locked(self) -> bool:
        return self.by_username >= self.account_limit

    @property
    def address_locked(self) -> bool:
        return self.by_address >= settings.AXES_ADDRESS_FAILURE_LIMIT


def _sum(attempts) -> int:
    return attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0


def recent_failures(request, credentials: dict | None = None) -> Failures:
    recent = AccessAttempt.objects.filter(attempt_time__gte=get_cool_off_threshold(request))
    return Failures(
        by_username=_sum(recent.filter(username=get_client_username(request, credentials))),
        by_address=_sum(recent.filter(ip_address=request.axes_ip_address)),
        account_limit=get_failure_limit(request, credentials),
    )


class AccountLockoutHandler(AxesDatabaseHandler):
    """django-axes' database handler with the two limits above (``AXES_HANDLER``).

    Axes compares one number with one limit, so this answers the username's failures, or that limit
    itself once the address has reached its own.
    """

    def get_failures(self, request, credentials: dict | None = None) -> int:
        failures = recent_failures(request, credentials)
        if failures.address_locked:
            return max(failures.by_username, failures.account_limit)
        return failures.by_username
