"""The daily reminder scan: due within 7 days, idempotent, and right at the calendar's edges."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse

from carechain.access import Actor
from carechain.models import Membership, Role
from pathways import services as pathway_services
from pathways.models import Trajectory
from reminders.models import Reminder
from reminders.services import reminders_scan, reminders_send_digests
from tests import factories
from tests.concurrency import at_once

D = datetime.date


def ended(coach, chain, *, quit_date, intake_date=None):
    trajectory = factories.trajectory_in(
        "counselling",
        coach=coach,
        quit_date=quit_date,
        intake_date=intake_date or quit_date,
        referral__patient=factories.PatientFactory(practice=chain.practice_a),
    )
    pathway_services.trajectory_end_treatment(
        actor=Actor.for_user(coach),
        trajectory_id=trajectory.pk,
        end_date=quit_date + datetime.timedelta(days=70),
        result="smoke_free",
    )
    return Trajectory.objects.get(pk=trajectory.pk)


def test_follow_up_call_reminder_7_days_ahead_once(chain, coach):
    trajectory = ended(coach, chain, quit_date=D(2025, 3, 10))
    assert trajectory.follow_up_due == D(2026, 3, 10)
    assert reminders_scan(today=D(2026, 3, 2)).created == 0
    assert reminders_scan(today=D(2026, 3, 3)).created == 1
    assert reminders_scan(today=D(2026, 3, 3)).created == 0
    reminder = Reminder.objects.get()
    assert (reminder.user, reminder.trajectory, reminder.due) == (coach, trajectory, D(2026, 3, 10))
    assert Trajectory.objects.get(pk=trajectory.pk).state == "follow_up_due"


def test_leap_day_quit_is_called_on_28_february(chain, coach):
    trajectory = ended(coach, chain, quit_date=D(2024, 2, 29))
    assert trajectory.follow_up_due == D(2025, 2, 28)
    assert reminders_scan(today=D(2025, 2, 20)).created == 0
    assert reminders_scan(today=D(2025, 2, 21)).created == 1


def test_year_end_quit_is_reminded_in_the_last_week_of_december(chain, coach):
    ended(coach, chain, quit_date=D(2025, 1, 3))
    assert reminders_scan(today=D(2025, 12, 26)).created == 0
    assert reminders_scan(today=D(2025, 12, 27)).created == 1
    assert Reminder.objects.get().due == D(2026, 1, 3)


def test_the_reminder_resolves_when_the_call_is_recorded(chain, coach):
    trajectory = ended(coach, chain, quit_date=D(2025, 3, 10))
    reminders_scan(today=D(2026, 3, 5))
    pathway_services.trajectory_record_follow_up(
        actor=Actor.for_user(coach),
        trajectory_id=trajectory.pk,
        call_date=D(2026, 3, 9),
        result="smoke_free",
    )
    assert reminders_scan(today=D(2026, 3, 9)).resolved == 1
    assert Reminder.objects.get().resolved_at is not None


def test_first_contact_reminder_after_two_working_days(chain, coach):
    referral = factories.ReferralFactory(
        patient=factories.PatientFactory(practice=chain.practice_a),
        coach=coach,
        received_at=datetime.datetime(2026, 11, 20, 10, 0, tzinfo=datetime.UTC),
    )  # Friday
    assert referral.first_contact_due == D(2026, 11, 24)
    assert reminders_scan(today=D(2026, 11, 24)).created == 0
    assert reminders_scan(today=D(2026, 11, 25)).created == 1
    assert Reminder.objects.get().kind == "first_contact"


def test_krs_registration_expiring_within_60_days(chain):
    coach = factories.member("coach", chain.provider, krs_valid_until=D(2027, 1, 31))
    assert reminders_scan(today=D(2026, 12, 1)).created == 0
    assert reminders_scan(today=D(2026, 12, 2)).created == 1
    Membership.objects.filter(user=coach).update(krs_valid_until=D(2031, 1, 31))
    assert reminders_scan(today=D(2026, 12, 3)).resolved == 1


def test_planner_sees_calls_more_than_14_days_overdue(client, chain, coach, planner):
    ended(coach, chain, quit_date=D(2025, 1, 2))
    reminders_scan()
    client.force_login(planner)
    response = client.get(reverse("reminder-list"))
    assert len(response.context["overdue"]) == 1
    client.force_login(coach)
    assert client.get(reverse("reminder-list")).context["overdue"] == []


def test_coach_sees_reminders_on_the_home_page(client, chain, coach):
    ended(coach, chain, quit_date=D(2025, 1, 2))
    reminders_scan()
    client.force_login(coach)
    assert "Uw herinneringen" in client.get(reverse("home")).content.decode()


def test_a_coach_whose_coach_membership_ended_sees_no_reminders(client, chain, coach):
    trajectory = ended(coach, chain, quit_date=D(2025, 1, 2))
    reminders_scan()
    Membership.objects.filter(user=coach, role=Role.COACH).update(is_active=False)
    client.force_login(coach)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Uw herinneringen" not in html
    assert trajectory.patient.last_name not in html


def test_daily_digest_has_no_patient_data(chain, coach):
    coach.email = "coach@example.nl"
    coach.save()
    trajectory = ended(coach, chain, quit_date=D(2025, 1, 2))
    reminders_scan()
    assert reminders_send_digests() == 1
    assert trajectory.patient.last_name not in mail.outbox[0].body


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_scans_at_the_same_moment_create_each_reminder_once(postgresql_only, chain, coach):
    for _ in range(5):
        ended(coach, chain, quit_date=D(2025, 1, 2))
    at_once(reminders_scan)
    assert Reminder.objects.filter(kind="follow_up_call").count() == 5
