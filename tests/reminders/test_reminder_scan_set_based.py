"""The scan in set form: one statement per kind of reminder, one UPDATE for the follow-up marking,
with the same timeline event and audit row per trajectory as the one-by-one service."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from audit.services import audit_verify_chain
from carechain.access import Actor
from pathways import services as pathway_services
from pathways.models import Trajectory, TrajectoryEvent
from reminders.models import Reminder
from reminders.services import reminders_scan
from tests.concurrency import at_once

from .test_reminder_scan import ended

D = datetime.date
DUE_DAY = D(2026, 1, 2)  # a quit date of 2025-01-02 is called on 2026-01-02


def _marks():
    return TrajectoryEvent.objects.filter(action="mark_follow_up_due")


def _audit_of_marks():
    return AuditEvent.objects.filter(detail="mark_follow_up_due")


def test_scan_marks_every_due_trajectory_with_its_event_and_audit_row(chain, coach):
    due = [ended(coach, chain, quit_date=D(2025, 1, 2)) for _ in range(3)]
    later = ended(coach, chain, quit_date=D(2025, 6, 1))
    result = reminders_scan(today=DUE_DAY)
    assert (result.created, result.marked_due) == (3, 3)
    assert set(Trajectory.objects.filter(state="follow_up_due").values_list("pk", flat=True)) == {
        t.pk for t in due
    }
    assert Trajectory.objects.get(pk=later.pk).state == "end_of_treatment"
    events = _marks()
    assert sorted(events.values_list("trajectory_id", flat=True)) == sorted(t.pk for t in due)
    assert set(events.values_list("from_state", "to_state", "by_label", "by_id")) == {
        ("end_of_treatment", "follow_up_due", "task", None)
    }
    audit = _audit_of_marks()
    assert sorted(audit.values_list("patient_id", "object_id")) == sorted(
        (t.patient_id, str(t.pk)) for t in due
    )
    assert set(audit.values_list("action", "channel", "object_type")) == {
        ("change", "task", "pathways.trajectory")
    }
    assert audit_verify_chain(checkpoint=False) == []
    trajectory = Trajectory.objects.get(pk=due[0].pk)
    assert trajectory.state_changed_at > due[0].state_changed_at


def test_set_form_writes_what_the_one_by_one_service_writes(chain, coach):
    one, other = (ended(coach, chain, quit_date=D(2025, 1, 2)) for _ in range(2))
    pathway_services.trajectory_mark_follow_up_due(actor=Actor.system(), trajectory_id=one.pk)
    reminders_scan(today=DUE_DAY)
    fields = ("action", "from_state", "to_state", "by_id", "by_label", "note")
    by_service, by_scan = (
        _marks().filter(trajectory=t).values(*fields).get() for t in (one, other)
    )
    assert by_service == by_scan
    fields = ("action", "channel", "user_id", "username", "roles", "object_type", "detail")
    by_service, by_scan = (
        _audit_of_marks().filter(object_id=str(t.pk)).values(*fields).get() for t in (one, other)
    )
    assert by_service == by_scan


def test_second_scan_creates_marks_and_audits_nothing(chain, coach):
    for _ in range(2):
        ended(coach, chain, quit_date=D(2025, 1, 2))
    first = reminders_scan(today=DUE_DAY)
    audit_rows = AuditEvent.objects.count()
    second = reminders_scan(today=DUE_DAY)
    assert (first.created, first.marked_due) == (2, 2)
    assert (second.created, second.marked_due, second.resolved) == (0, 0, 0)
    assert Reminder.objects.count() == 2
    assert _marks().count() == 2
    assert AuditEvent.objects.count() == audit_rows


def test_scan_queries_do_not_grow_with_the_number_of_due_trajectories(
    chain, coach, django_assert_max_num_queries
):
    ended(coach, chain, quit_date=D(2025, 1, 2))
    with CaptureQueriesContext(connection) as one:
        reminders_scan(today=DUE_DAY)
    for _ in range(6):
        ended(coach, chain, quit_date=D(2025, 1, 3))
    # the same statements for six: mark + events (one or two), audit chain lock, audit insert,
    # one INSERT ... SELECT per kind of reminder, one UPDATE resolving reminders
    with django_assert_max_num_queries(len(one.captured_queries)):
        result = reminders_scan(today=DUE_DAY + datetime.timedelta(days=1))
    assert (result.created, result.marked_due) == (6, 6)


def test_a_reminder_already_resolved_is_not_made_again(chain, coach):
    trajectory = ended(coach, chain, quit_date=D(2025, 1, 2))
    reminders_scan(today=DUE_DAY)
    Reminder.objects.update(resolved_at=datetime.datetime(2026, 1, 3, tzinfo=datetime.UTC))
    assert reminders_scan(today=DUE_DAY).created == 0
    assert Reminder.objects.get().trajectory_id == trajectory.pk


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_scans_at_once_mark_each_trajectory_once(postgresql_only, chain, coach):
    trajectories = [ended(coach, chain, quit_date=D(2025, 1, 2)) for _ in range(5)]
    results = at_once(lambda: reminders_scan(today=DUE_DAY))
    assert sum(r.marked_due for r in results) == 5
    assert sum(r.created for r in results) == 5
    assert _marks().count() == 5
    assert _audit_of_marks().count() == 5
    assert Reminder.objects.count() == 5
    assert set(Trajectory.objects.values_list("state", flat=True)) == {"follow_up_due"}
    assert len({t.pk for t in trajectories}) == 5
    assert audit_verify_chain(checkpoint=False) == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_scan_waits_for_a_coach_recording_the_call_and_leaves_that_trajectory_closed(
    postgresql_only, chain, coach
):
    trajectory = ended(coach, chain, quit_date=D(2025, 1, 2))

    def record_call():
        return pathway_services.trajectory_record_follow_up(
            actor=Actor.for_user(coach),
            trajectory_id=trajectory.pk,
            call_date=DUE_DAY,
            result="smoke_free",
        ).state

    results = at_once([record_call, lambda: reminders_scan(today=DUE_DAY)])
    assert "closed" in results
    assert Trajectory.objects.get(pk=trajectory.pk).state == "closed"
    # either the call came first (nothing marked) or the mark did (one event, then the close)
    assert _marks().count() == _audit_of_marks().count() <= 1


def test_a_trajectory_marked_outside_the_scan_still_gets_its_call(chain, coach):
    """The scan repairs what it did not do itself: a trajectory moved to follow-up due by the
    one-by-one service (no reminder made) gets its call on the next scan, and only once."""
    trajectory = ended(coach, chain, quit_date=D(2025, 1, 2))
    pathway_services.trajectory_mark_follow_up_due(
        actor=Actor.system(), trajectory_id=trajectory.pk
    )
    assert not Reminder.objects.exists()
    assert reminders_scan(today=DUE_DAY).created == 1
    assert Reminder.objects.get(resolved_at__isnull=True).trajectory_id == trajectory.pk
    assert reminders_scan(today=DUE_DAY).created == 0


def test_one_scan_creates_a_call_and_resolves_another_whose_trajectory_left(chain, coach):
    called = ended(coach, chain, quit_date=D(2025, 1, 2))
    reminders_scan(today=DUE_DAY)
    pathway_services.trajectory_record_follow_up(
        actor=Actor.for_user(coach),
        trajectory_id=called.pk,
        call_date=DUE_DAY,
        result="smoke_free",
    )
    due_later = ended(coach, chain, quit_date=D(2025, 1, 20))
    first_call = Reminder.objects.get(trajectory=called)
    result = reminders_scan(today=D(2026, 1, 16))
    assert (result.created, result.resolved) == (1, 1)
    first_call.refresh_from_db()
    assert first_call.resolved_at is not None
    assert Reminder.objects.get(resolved_at__isnull=True).trajectory_id == due_later.pk
    assert reminders_scan(today=D(2026, 1, 16)) == type(result)(0, 0, 0)
