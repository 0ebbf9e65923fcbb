"""Relapse-prevention groups (terugvalpreventie): a year of eight meetings run by the POH-GGZ,
rolling intake of quitters, attendance per meeting, and leaving when smoking again."""

import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext

from audit.models import AuditEvent
from carechain.access import Actor
from carechain.models import Role
from pathways import groups, queries_groups, services
from pathways.models import Attendance, GroupMeeting, GroupParticipant, RelapsePreventionGroup
from tests import factories
from tests.pathways.groups_support import (
    NOW,
    TODAY,
    at,
    join,
    meeting,
    plan_group,
    quitter,
    record_contact,
    room,
)

PRESENT = Attendance.Status.PRESENT
ABSENT_NOTICE = Attendance.Status.ABSENT_NOTICE
NO_SHOW = Attendance.Status.NO_SHOW


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def group(chain, poh_ggz):
    return plan_group(poh_ggz, room(chain))


def _meetings(poh_ggz, year=2026):
    return [(s, t, poh_ggz) for s, t in groups.default_meetings(year)]


def _record(poh_ggz, group, participant, number, status):
    return groups.attendance_record(
        actor=Actor.for_user(poh_ggz),
        meeting_id=meeting(group, number).pk,
        participant_id=participant.pk,
        status=status,
    )


# -- planning the year -----------------------------------------------------------------------------
def test_group_has_exactly_eight_meetings(group, poh_ggz):
    meetings = list(group.meetings.order_by("number"))
    assert [m.number for m in meetings] == [1, 2, 3, 4, 5, 6, 7, 8]
    days = [timezone.localtime(m.starts_at) for m in meetings]
    assert all(d.year == 2026 for d in days)
    assert days == sorted(days) and len(set(days)) == 8
    assert all(m.theme and m.facilitator == poh_ggz for m in meetings)


def test_group_with_seven_meetings_is_refused_and_nothing_is_saved(chain, poh_ggz):
    with pytest.raises(ValidationError) as refused:
        groups.group_create(
            actor=Actor.for_user(poh_ggz),
            location=room(chain),
            year=2026,
            meetings=_meetings(poh_ggz)[:7],
        )
    assert "meetings" in refused.value.message_dict
    assert not RelapsePreventionGroup.objects.exists()
    assert not GroupMeeting.objects.exists()


def test_meeting_outside_the_year_is_refused(chain, poh_ggz):
    meetings = _meetings(poh_ggz)
    meetings[7] = (at(datetime.date(2027, 1, 12), 19), "Terugblik", poh_ggz)
    with pytest.raises(ValidationError) as refused:
        groups.group_create(
            actor=Actor.for_user(poh_ggz), location=room(chain), year=2026, meetings=meetings
        )
    assert refused.value.message_dict == {
        "meetings-7-starts_at": ["Bijeenkomst 8 moet in 2026 vallen."]
    }
    assert not RelapsePreventionGroup.objects.exists()


def test_meetings_must_follow_each_other_in_time(chain, poh_ggz):
    meetings = _meetings(poh_ggz)
    meetings[2], meetings[3] = meetings[3], meetings[2]
    with pytest.raises(ValidationError) as refused:
        groups.group_create(
            actor=Actor.for_user(poh_ggz), location=room(chain), year=2026, meetings=meetings
        )
    assert list(refused.value.message_dict) == ["meetings-3-starts_at"]


def test_meeting_needs_a_theme_and_a_poh_ggz_of_the_practice_to_facilitate(chain, poh_ggz, coach):
    poh_ggz_elsewhere = factories.member(Role.POH_GGZ, chain.practice_b)
    meetings = _meetings(poh_ggz)
    meetings[0] = (meetings[0][0], "  ", poh_ggz)
    meetings[1] = (meetings[1][0], meetings[1][1], poh_ggz_elsewhere)
    meetings[2] = (meetings[2][0], meetings[2][1], coach)
    with pytest.raises(ValidationError) as refused:
        groups.group_create(
            actor=Actor.for_user(poh_ggz), location=room(chain), year=2026, meetings=meetings
        )
    assert set(refused.value.message_dict) == {
        "meetings-0-theme",
        "meetings-1-facilitator",
        "meetings-2-facilitator",
    }


def test_a_second_poh_ggz_of_the_practice_may_facilitate(chain, poh_ggz):
    colleague = factories.member(Role.POH_GGZ, chain.practice_a)
    meetings = _meetings(poh_ggz)
    meetings[3] = (meetings[3][0], meetings[3][1], colleague.pk)
    group = groups.group_create(
        actor=Actor.for_user(poh_ggz), location=room(chain), year=2026, meetings=meetings
    )
    assert meeting(group, 4).facilitator == colleague


def test_one_group_per_room_and_year(chain, poh_ggz):
    location = room(chain)
    plan_group(poh_ggz, location)
    with pytest.raises(ValidationError) as refused:
        plan_group(poh_ggz, location)
    assert list(refused.value.message_dict) == ["year"]
    plan_group(poh_ggz, location, year=2027)
    assert RelapsePreventionGroup.objects.count() == 2


def test_inactive_room_cannot_get_a_group(chain, poh_ggz):
    location = factories.LocationFactory(
        practice=chain.practice_a, provider=chain.provider, is_active=False
    )
    with pytest.raises(ValidationError) as refused:
        plan_group(poh_ggz, location)
    assert "location" in refused.value.message_dict


def test_poh_ggz_of_another_practice_gets_404_when_planning_in_our_room(chain):
    poh_ggz_b = factories.member(Role.POH_GGZ, chain.practice_b)
    with pytest.raises(Http404):
        plan_group(poh_ggz_b, room(chain))


def test_coach_cannot_plan_a_group(chain, coach):
    with pytest.raises(PermissionDenied):
        plan_group(coach, room(chain))


def test_poh_ggz_moves_a_meeting_and_changes_its_theme(group, poh_ggz):
    meetings = _meetings(poh_ggz)
    meetings[5] = (
        at(datetime.date(2026, 9, 15), 19, 30),
        "Vakantie voorbij: weer aan het werk",
        poh_ggz,
    )
    groups.group_update(
        actor=Actor.for_user(poh_ggz), group_id=group.pk, meetings=meetings, name="Groep Haven"
    )
    group.refresh_from_db()
    sixth = meeting(group, 6)
    assert group.name == "Groep Haven"
    assert timezone.localtime(sixth.starts_at) == at(datetime.date(2026, 9, 15), 19, 30)
    assert sixth.theme == "Vakantie voorbij: weer aan het werk"
    assert group.meetings.count() == 8


def test_editing_with_a_meeting_outside_the_year_changes_nothing(group, poh_ggz):
    before = list(group.meetings.values_list("number", "starts_at", "theme"))
    meetings = _meetings(poh_ggz)
    meetings[0] = (at(datetime.date(2025, 12, 30), 19), "Kennismaken", poh_ggz)
    with pytest.raises(ValidationError):
        groups.group_update(actor=Actor.for_user(poh_ggz), group_id=group.pk, meetings=meetings)
    assert list(group.meetings.values_list("number", "starts_at", "theme")) == before


def test_coach_may_not_edit_meetings(group, coach, poh_ggz):
    with pytest.raises(PermissionDenied):
        groups.group_update(
            actor=Actor.for_user(coach), group_id=group.pk, meetings=_meetings(poh_ggz)
        )


# -- rolling intake ----------------------------------------------------------------------------------
def test_quitter_joins_at_the_fifth_meeting(chain, group, coach):
    trajectory = quitter(chain, coach)
    participant = join(coach, group, trajectory, 5)
    assert participant.joined_at == meeting(group, 5)
    assert participant.is_active
    assert participant.group == group


def test_quitter_joins_at_todays_meeting_even_after_it_started(chain, group, coach, clock):
    trajectory = quitter(chain, coach)
    clock.move_to(timezone.localtime(meeting(group, 5).starts_at) + datetime.timedelta(minutes=30))
    assert join(coach, group, trajectory, 5).joined_at.number == 5


def test_quitter_cannot_join_at_a_meeting_that_has_passed(chain, group, coach):
    trajectory = quitter(chain, coach)
    with pytest.raises(ValidationError) as refused:
        join(coach, group, trajectory, 4)
    assert list(refused.value.message_dict) == ["meeting"]
    assert not GroupParticipant.objects.exists()


def test_quitter_of_a_patient_of_another_practice_of_the_provider_may_join(chain, group, coach):
    trajectory = quitter(chain, coach, practice=chain.practice_b)
    assert join(coach, group, trajectory, 6).trajectory == trajectory


def test_patient_still_smoking_cannot_join(chain, group, coach):
    trajectory = quitter(chain, coach)
    record_contact(coach, trajectory, "smoking")
    with pytest.raises(ValidationError) as refused:
        join(coach, group, trajectory, 5)
    assert list(refused.value.message_dict) == ["trajectory"]
    assert not GroupParticipant.objects.exists()


def test_smoke_free_again_after_a_smoking_contact_may_join(chain, group, coach, clock):
    trajectory = quitter(chain, coach)
    record_contact(coach, trajectory, "smoking")
    clock.move_to(NOW + datetime.timedelta(days=7))
    record_contact(coach, trajectory, "smoke_free")
    assert join(coach, group, trajectory, 5).is_active


def test_a_lapse_of_a_few_cigarettes_does_not_keep_a_quitter_out(chain, group, coach):
    trajectory = quitter(chain, coach)
    record_contact(coach, trajectory, "lapse")
    assert join(coach, group, trajectory, 5).is_active


def test_the_intake_contact_does_not_count_as_smoking_again(chain, group, coach):
    """The intake always records 'smoking': it describes the patient before the quit date."""
    trajectory = quitter(chain, coach)
    assert trajectory.contacts.get().smoking_status == "smoking"
    assert join(coach, group, trajectory, 5).is_active


def test_patient_before_the_quit_date_cannot_join(chain, group, coach):
    trajectory = quitter(chain, coach, quit_date=TODAY + datetime.timedelta(days=3))
    with pytest.raises(ValidationError) as refused:
        join(coach, group, trajectory, 5)
    assert "23-05-2026" in refused.value.message_dict["trajectory"][0]


def test_patient_without_a_quit_date_cannot_join(chain, group, coach):
    trajectory = quitter(chain, coach, state="intake_planned")
    with pytest.raises(ValidationError):
        join(coach, group, trajectory, 5)


def _stop_unmotivated(coach, trajectory):
    services.trajectory_stop_unmotivated(
        actor=Actor.for_user(coach), trajectory_id=trajectory.pk, reason="Rookt weer"
    )


def _drop_out(coach, trajectory):
    services.trajectory_drop_out(
        actor=Actor.for_user(coach), trajectory_id=trajectory.pk, reason="Onbereikbaar"
    )


def _close(coach, trajectory):
    services.trajectory_end_treatment(
        actor=Actor.for_user(coach),
        trajectory_id=trajectory.pk,
        end_date=TODAY,
        result="smoke_free",
    )
    services.trajectory_record_follow_up(
        actor=Actor.for_user(coach),
        trajectory_id=trajectory.pk,
        call_date=TODAY,
        result="smoke_free",
    )


@pytest.mark.parametrize("end", [_stop_unmotivated, _drop_out, _close])
def test_patient_whose_trajectory_ended_cannot_join(chain, group, coach, end):
    trajectory = quitter(chain, coach)
    end(coach, trajectory)
    with pytest.raises(ValidationError) as refused:
        join(coach, group, trajectory, 5)
    assert list(refused.value.message_dict) == ["trajectory"]


def test_quitter_after_end_of_treatment_still_may_join(chain, group, coach):
    trajectory = quitter(chain, coach, state="end_of_treatment")
    assert join(coach, group, trajectory, 5).is_active


def test_participant_is_in_a_group_once(chain, group, coach):
    trajectory = quitter(chain, coach)
    join(coach, group, trajectory, 5)
    with pytest.raises(ValidationError) as refused:
        join(coach, group, trajectory, 6)
    assert list(refused.value.message_dict) == ["trajectory"]
    assert GroupParticipant.objects.count() == 1


def test_patient_of_another_provider_cannot_join(chain, group, coach, other_coach):
    theirs = quitter(chain, other_coach, referral__provider=chain.other_provider)
    with pytest.raises(Http404):
        join(coach, group, theirs, 5)


def test_coach_of_another_provider_gets_404_for_the_group(chain, group, other_coach):
    theirs = quitter(chain, other_coach, referral__provider=chain.other_provider)
    with pytest.raises(Http404):
        join(other_coach, group, theirs, 5)


def test_poh_ggz_does_not_add_quitters_herself(chain, group, coach, poh_ggz):
    trajectory = quitter(chain, coach)
    with pytest.raises(PermissionDenied):
        join(poh_ggz, group, trajectory, 5)


def test_only_quitters_of_the_provider_who_may_join_are_offered(chain, group, coach, other_coach):
    ready = quitter(chain, coach)
    smoking = quitter(chain, coach)
    record_contact(coach, smoking, "smoking")
    later = quitter(chain, coach, quit_date=TODAY + datetime.timedelta(days=3))
    already = quitter(chain, coach)
    join(coach, group, already, 5)
    quitter(chain, other_coach, referral__provider=chain.other_provider)
    offered = list(queries_groups.eligible_trajectories(Actor.for_user(coach), group))
    assert offered == [ready]
    assert later not in offered


# -- leaving ----------------------------------------------------------------------------------------
def test_participant_who_smokes_again_leaves_the_group(chain, group, coach):
    trajectory = quitter(chain, coach)
    participant = join(coach, group, trajectory, 5)
    record_contact(coach, trajectory, "smoking")
    participant.refresh_from_db()
    assert participant.left_on == TODAY
    assert participant.left_reason == gettext("smokes again")


def test_participant_who_smokes_again_and_stops_care_leaves_the_group(chain, group, coach):
    trajectory = quitter(chain, coach)
    participant = join(coach, group, trajectory, 5)
    record_contact(coach, trajectory, "smoking", still_motivated=False)
    participant.refresh_from_db()
    assert not participant.is_active


def test_poh_ggz_lets_a_participant_leave_with_a_reason(chain, group, coach, poh_ggz):
    participant = join(coach, group, quitter(chain, coach), 5)
    groups.group_leave(
        actor=Actor.for_user(poh_ggz), participant_id=participant.pk, reason="Rookt weer"
    )
    participant.refresh_from_db()
    assert (participant.left_on, participant.left_reason) == (TODAY, "Rookt weer")


def test_leaving_needs_a_reason_and_happens_once(chain, group, coach):
    participant = join(coach, group, quitter(chain, coach), 5)
    with pytest.raises(ValidationError) as refused:
        groups.group_leave(actor=Actor.for_user(coach), participant_id=participant.pk, reason=" ")
    assert list(refused.value.message_dict) == ["reason"]
    groups.group_leave(actor=Actor.for_user(coach), participant_id=participant.pk, reason="Stopt")
    with pytest.raises(ValidationError):
        groups.group_leave(
            actor=Actor.for_user(coach), participant_id=participant.pk, reason="Nogmaals"
        )


def test_who_left_cannot_join_the_same_group_again(chain, group, coach):
    trajectory = quitter(chain, coach)
    participant = join(coach, group, trajectory, 5)
    groups.group_leave(actor=Actor.for_user(coach), participant_id=participant.pk, reason="Stopt")
    with pytest.raises(ValidationError):
        join(coach, group, trajectory, 6)


def test_poh_ggz_of_another_practice_gets_404_for_a_participant(chain, group, coach):
    participant = join(coach, group, quitter(chain, coach), 5)
    poh_ggz_b = factories.member(Role.POH_GGZ, chain.practice_b)
    with pytest.raises(Http404):
        groups.group_leave(
            actor=Actor.for_user(poh_ggz_b), participant_id=participant.pk, reason="Rookt weer"
        )


# -- attendance -------------------------------------------------------------------------------------
def test_poh_ggz_records_attendance_at_a_meeting(chain, group, coach, poh_ggz, clock):
    participant = join(coach, group, quitter(chain, coach), 5)
    clock.move_to(at(datetime.date(2026, 6, 9), 21))
    attendance = _record(poh_ggz, group, participant, 5, PRESENT)
    assert (attendance.meeting.number, attendance.status) == (5, "present")


def test_recording_attendance_twice_corrects_it(chain, group, coach, poh_ggz, clock):
    participant = join(coach, group, quitter(chain, coach), 5)
    clock.move_to(at(datetime.date(2026, 6, 9), 21))
    _record(poh_ggz, group, participant, 5, NO_SHOW)
    _record(poh_ggz, group, participant, 5, NO_SHOW)
    _record(poh_ggz, group, participant, 5, ABSENT_NOTICE)
    assert list(Attendance.objects.values_list("status", flat=True)) == ["absent_notice"]


def test_attendance_only_after_joining(chain, group, coach, poh_ggz, clock):
    participant = join(coach, group, quitter(chain, coach), 6)
    clock.move_to(at(datetime.date(2026, 9, 8), 21))
    with pytest.raises(ValidationError) as refused:
        _record(poh_ggz, group, participant, 5, PRESENT)
    assert "ingestroomd bij bijeenkomst 6" in refused.value.message_dict["status"][0]
    _record(poh_ggz, group, participant, 6, PRESENT)
    assert Attendance.objects.count() == 1


def test_attendance_not_after_leaving(chain, group, coach, poh_ggz, clock):
    trajectory = quitter(chain, coach)
    participant = join(coach, group, trajectory, 5)
    clock.move_to(at(datetime.date(2026, 6, 9), 21))
    _record(poh_ggz, group, participant, 5, PRESENT)
    clock.move_to(at(datetime.date(2026, 6, 20)))
    record_contact(coach, trajectory, "smoking")
    clock.move_to(at(datetime.date(2026, 9, 8), 21))
    with pytest.raises(ValidationError) as refused:
        _record(poh_ggz, group, participant, 6, NO_SHOW)
    assert "op 20-06-2026 verlaten" in refused.value.message_dict["status"][0]
    _record(poh_ggz, group, participant, 5, ABSENT_NOTICE)  # a correction before leaving is fine


def test_present_is_recorded_from_the_day_of_the_meeting(chain, group, coach, poh_ggz):
    participant = join(coach, group, quitter(chain, coach), 5)
    with pytest.raises(ValidationError):
        _record(poh_ggz, group, participant, 5, PRESENT)
    assert _record(poh_ggz, group, participant, 5, ABSENT_NOTICE).status == "absent_notice"


def test_unknown_attendance_status_is_refused(chain, group, coach, poh_ggz):
    participant = join(coach, group, quitter(chain, coach), 5)
    with pytest.raises(ValidationError) as refused:
        _record(poh_ggz, group, participant, 5, "late")
    assert list(refused.value.message_dict) == ["status"]


def test_meeting_of_another_group_is_refused(chain, group, coach, poh_ggz):
    participant = join(coach, group, quitter(chain, coach), 5)
    other = plan_group(poh_ggz, room(chain))
    with pytest.raises(ValidationError) as refused:
        groups.attendance_record(
            actor=Actor.for_user(poh_ggz),
            meeting_id=meeting(other, 5).pk,
            participant_id=participant.pk,
            status=ABSENT_NOTICE,
        )
    assert list(refused.value.message_dict) == ["meeting"]


def test_coach_follows_but_does_not_record_attendance(chain, group, coach):
    participant = join(coach, group, quitter(chain, coach), 5)
    with pytest.raises(PermissionDenied):
        _record(coach, group, participant, 5, ABSENT_NOTICE)


def test_poh_ggz_of_another_practice_gets_404(chain, group, coach):
    participant = join(coach, group, quitter(chain, coach), 5)
    poh_ggz_b = factories.member(Role.POH_GGZ, chain.practice_b)
    with pytest.raises(Http404):
        _record(poh_ggz_b, group, participant, 5, ABSENT_NOTICE)


# -- audit --------------------------------------------------------------------------------------------
def test_every_change_to_a_participant_is_audited(chain, group, coach, poh_ggz):
    trajectory = quitter(chain, coach)
    before = AuditEvent.objects.filter(patient_id=trajectory.patient_id).count()
    participant = join(coach, group, trajectory, 5)
    _record(poh_ggz, group, participant, 5, ABSENT_NOTICE)
    groups.group_leave(actor=Actor.for_user(poh_ggz), participant_id=participant.pk, reason="Stopt")
    events = list(
        AuditEvent.objects.filter(patient_id=trajectory.patient_id).order_by("id")[before:]
    )
    assert [(e.action, e.object_type, e.username) for e in events] == [
        ("create", "pathways.groupparticipant", coach.username),
        ("change", "pathways.attendance", poh_ggz.username),
        ("change", "pathways.groupparticipant", poh_ggz.username),
    ]
