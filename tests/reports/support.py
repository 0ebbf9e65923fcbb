"""Report test data: referrals and trajectories made straight in the states a report counts
(the reports read history; how a trajectory got there is the pathways tests' business)."""

from __future__ import annotations

import datetime

from django.utils import timezone

from tests import factories


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def referral(
    practice, *, received: datetime.date, channel="web", contact_after_hours=None, **extra
):
    """A referral received on that day; contacted that many hours later (None: not contacted)."""
    received_at = at(received)
    fields = {
        "patient": factories.PatientFactory(practice=practice),
        "channel": channel,
        "received_at": received_at,
        **extra,
    }
    if contact_after_hours is not None:
        fields["first_contact_at"] = received_at + datetime.timedelta(hours=contact_after_hours)
        fields.setdefault("state", "in_progress")
    return factories.ReferralFactory(**fields)


def trajectory(practice, *, coach=None, state="closed", received=None, **fields):
    """A trajectory of the practice in the given state with the given dates and results."""
    received = received or fields.get("intake_date") or timezone.localdate()
    ref = referral(practice, received=received, contact_after_hours=4, coach=coach)
    return factories.TrajectoryFactory(referral=ref, coach=coach, state=state, **fields)
