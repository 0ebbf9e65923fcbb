"""Shared set-up of the relapse-prevention group tests: a room, a planned year, quitters."""

import datetime
from zoneinfo import ZoneInfo

from carechain.access import Actor
from pathways import groups, services
from pathways.models import GroupMeeting
from tests import factories

AMS = ZoneInfo("Europe/Amsterdam")
# A Wednesday. The default plan for 2026 meets on the second Tuesday of Jan, Feb, Apr, May, Jun,
# Sep, Oct and Nov: meetings 1-4 have passed, meeting 5 is on 9 June.
NOW = datetime.datetime(2026, 5, 20, 10, 0, tzinfo=AMS)
TODAY = NOW.date()


def room(chain, *, practice=None, provider=None):
    return factories.LocationFactory(
        practice=practice or chain.practice_a, provider=provider or chain.provider
    )


def plan_group(poh_ggz, location, *, year=2026):
    return groups.group_create(
        actor=Actor.for_user(poh_ggz),
        location=location,
        year=year,
        meetings=[
            (starts_at, theme, poh_ggz) for starts_at, theme in groups.default_meetings(year)
        ],
    )


def quitter(chain, coach, *, practice=None, state="counselling", **kwargs):
    """A patient of the practice in counselling whose quit date is today (unless given)."""
    return factories.trajectory_in(
        state,
        coach=coach,
        referral__patient=factories.PatientFactory(practice=practice or chain.practice_a),
        **kwargs,
    )


def meeting(group, number) -> GroupMeeting:
    return group.meetings.get(number=number)


def join(coach, group, trajectory, number):
    return groups.group_join(
        actor=Actor.for_user(coach),
        group_id=group.pk,
        trajectory_id=trajectory.pk,
        meeting_id=meeting(group, number).pk,
    )


def record_contact(coach, trajectory, smoking_status, *, still_motivated=True, date=None):
    return services.trajectory_record_contact(
        actor=Actor.for_user(coach),
        trajectory_id=trajectory.pk,
        kind="phone",
        date=date or datetime.date.today(),
        duration_minutes=15,
        smoking_status=smoking_status,
        still_motivated=still_motivated,
    )


def at(day: datetime.date, hour=10, minute=0) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=AMS)
