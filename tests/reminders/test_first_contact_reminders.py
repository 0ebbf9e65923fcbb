"""Overdue first contacts: one reminder per referral, resolved by the day's scan once the patient
was reached or the referral stopped waiting (on PostgreSQL in the same statement that creates the
day's new ones)."""

import datetime

from carechain.access import Actor
from referrals import services as referral_services
from reminders.models import Reminder
from reminders.services import reminders_scan
from tests import factories

D = datetime.date
FRIDAY = datetime.datetime(2026, 11, 20, 10, 0, tzinfo=datetime.UTC)  # first contact due Tue 24th
OVERDUE = D(2026, 11, 25)


def waiting(chain, coach, *, received_at=FRIDAY):
    return factories.ReferralFactory(
        patient=factories.PatientFactory(practice=chain.practice_a),
        coach=coach,
        received_at=received_at,
    )


def test_reminder_resolves_on_the_scan_after_the_patient_was_reached(chain, coach):
    referral = waiting(chain, coach)
    assert reminders_scan(today=OVERDUE).created == 1
    actor = Actor.for_user(coach)
    referral_services.referral_accept(actor=actor, referral_id=referral.pk)
    referral_services.referral_record_contact_done(actor=actor, referral_id=referral.pk)
    result = reminders_scan(today=OVERDUE + datetime.timedelta(days=1))
    assert (result.created, result.resolved) == (0, 1)
    assert Reminder.objects.get().resolved_at is not None


def test_reminder_stays_open_while_the_referral_only_moves_between_waiting_states(chain, coach):
    referral = waiting(chain, coach)
    reminders_scan(today=OVERDUE)
    actor = Actor.for_user(coach)
    referral_services.referral_accept(actor=actor, referral_id=referral.pk)
    referral_services.referral_schedule_contact(actor=actor, referral_id=referral.pk)
    result = reminders_scan(today=OVERDUE + datetime.timedelta(days=1))
    assert (result.created, result.resolved) == (0, 0)
    assert Reminder.objects.get().resolved_at is None


def test_declined_referral_has_its_reminder_resolved(chain, coach, planner):
    referral = waiting(chain, coach)
    reminders_scan(today=OVERDUE)
    referral_services.referral_decline(
        actor=Actor.for_user(planner), referral_id=referral.pk, reason="capacity"
    )
    assert reminders_scan(today=OVERDUE).resolved == 1


def test_one_scan_creates_one_first_contact_and_resolves_another(chain, coach):
    reached = waiting(chain, coach)
    reminders_scan(today=OVERDUE)
    actor = Actor.for_user(coach)
    referral_services.referral_accept(actor=actor, referral_id=reached.pk)
    referral_services.referral_record_contact_done(actor=actor, referral_id=reached.pk)
    later = waiting(chain, coach, received_at=FRIDAY + datetime.timedelta(days=3))  # due Wed 25th
    result = reminders_scan(today=D(2026, 11, 26))
    assert (result.created, result.resolved) == (1, 1)
    assert Reminder.objects.get(resolved_at__isnull=True).referral_id == later.pk
    assert reminders_scan(today=D(2026, 11, 26)) == type(result)(0, 0, 0)


def test_a_referral_still_waiting_gets_no_second_reminder_after_its_first_was_resolved(
    chain, coach
):
    referral = waiting(chain, coach)
    reminders_scan(today=OVERDUE)
    Reminder.objects.update(resolved_at=datetime.datetime(2026, 11, 25, 12, tzinfo=datetime.UTC))
    assert reminders_scan(today=OVERDUE).created == 0
    assert Reminder.objects.get().referral_id == referral.pk


def test_a_missing_first_contact_reminder_is_made_again(chain, coach):
    referral = waiting(chain, coach)
    reminders_scan(today=OVERDUE)
    Reminder.objects.all().delete()
    assert reminders_scan(today=OVERDUE).created == 1
    assert Reminder.objects.get(resolved_at__isnull=True).referral_id == referral.pk
