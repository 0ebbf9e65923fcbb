"""The relapse-prevention group pages: who sees which group, planning, joining, attendance, leaving.
Bad input gives a form error and saves nothing; denials are 403 (role) or 404 (someone else's)."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from carechain.access import Actor
from carechain.models import Role
from pathways import groups
from pathways.models import Attendance, GroupParticipant, RelapsePreventionGroup
from tests import factories
from tests.pathways.groups_support import (
    NOW,
    at,
    join,
    meeting,
    plan_group,
    quitter,
    record_contact,
    room,
)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def group(chain, poh_ggz):
    return plan_group(poh_ggz, room(chain))


def _plan_form(location, year=2026, *, meetings=None, total=8):
    data = {
        "location": location.pk,
        "year": str(year),
        "name": "Terugvalpreventie Haven",
        "meetings-TOTAL_FORMS": str(total),
        "meetings-INITIAL_FORMS": "0",
        "meetings-MIN_NUM_FORMS": "8",
        "meetings-MAX_NUM_FORMS": "8",
    }
    for index, (starts_at, theme, facilitator) in enumerate(meetings[:total]):
        data[f"meetings-{index}-starts_at"] = timezone.localtime(starts_at).strftime(
            "%Y-%m-%dT%H:%M"
        )
        data[f"meetings-{index}-theme"] = theme
        data[f"meetings-{index}-facilitator"] = str(facilitator.pk)
    return data


def _default_meetings(poh_ggz, year=2026):
    return [(s, t, poh_ggz) for s, t in groups.default_meetings(year)]


# -- who sees what ----------------------------------------------------------------------------------
def test_poh_ggz_sees_the_groups_of_her_practice(client, chain, poh_ggz):
    ours = plan_group(poh_ggz, room(chain))
    plan_group(
        factories.member(Role.POH_GGZ, chain.practice_b), room(chain, practice=chain.practice_b)
    )
    client.force_login(poh_ggz)
    response = client.get(reverse("group-list"))
    assert response.status_code == 200
    assert [g.pk for g in response.context["groups"]] == [ours.pk]
    assert reverse("group-create") in response.content.decode()


def test_coach_sees_the_groups_at_the_rooms_of_his_provider(
    client, chain, poh_ggz, coach, other_coach
):
    group_a = plan_group(poh_ggz, room(chain))
    group_b = plan_group(
        factories.member(Role.POH_GGZ, chain.practice_b), room(chain, practice=chain.practice_b)
    )
    plan_group(poh_ggz, room(chain, provider=chain.other_provider))
    client.force_login(coach)
    response = client.get(reverse("group-list"))
    assert {g.pk for g in response.context["groups"]} == {group_a.pk, group_b.pk}
    assert reverse("group-create") not in response.content.decode()
    client.force_login(other_coach)
    assert len(client.get(reverse("group-list")).context["groups"]) == 1


@pytest.mark.parametrize("persona", ["planner", "zorggroep_admin", "insurer_user", "poh", "gp"])
def test_roles_without_groups_get_403(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("group-list")).status_code == 403


def test_anonymous_visitor_is_sent_to_the_login(client, db):
    response = client.get(reverse("group-list"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_poh_ggz_of_another_practice_gets_404(client, chain, group):
    client.force_login(factories.member(Role.POH_GGZ, chain.practice_b))
    assert client.get(reverse("group-detail", args=[group.pk])).status_code == 404
    assert client.get(reverse("group-edit", args=[group.pk])).status_code == 404
    url = reverse("group-attendance", args=[group.pk, meeting(group, 5).pk])
    assert client.get(url).status_code == 404


def test_coach_of_another_provider_gets_404(client, group, other_coach):
    client.force_login(other_coach)
    assert client.get(reverse("group-detail", args=[group.pk])).status_code == 404
    assert client.get(reverse("group-join", args=[group.pk])).status_code == 404


def test_group_detail_shows_meetings_participants_and_attendance(
    client, chain, group, coach, poh_ggz, clock
):
    early = join(coach, group, quitter(chain, coach), 5)
    clock.move_to(at(datetime.date(2026, 6, 9), 21))
    groups.attendance_record(
        actor=Actor.for_user(poh_ggz),
        meeting_id=meeting(group, 5).pk,
        participant_id=early.pk,
        status="present",
    )
    late = join(coach, group, quitter(chain, coach), 6)
    client.force_login(coach)
    response = client.get(reverse("group-detail", args=[group.pk]))
    assert response.status_code == 200
    rows = {row.participant.pk: row for row in response.context["rows"]}
    assert [c.expected for c in rows[late.pk].cells] == [False] * 5 + [True] * 3
    assert rows[early.pk].cells[4].attendance.status == "present"
    page = response.content.decode()
    assert meeting(group, 2).theme in page
    assert reverse("group-join", args=[group.pk]) in page
    assert reverse("group-edit", args=[group.pk]) not in page  # the coach does not plan
    assert reverse("group-attendance", args=[group.pk, meeting(group, 5).pk]) not in page


def test_group_detail_audits_every_participant_shown(client, chain, group, coach, poh_ggz):
    participants = [join(coach, group, quitter(chain, coach), 5) for _ in range(2)]
    client.force_login(poh_ggz)
    client.get(reverse("group-detail", args=[group.pk]))
    listed = AuditEvent.objects.filter(action="list", object_type="pathways.groupparticipant")
    assert {int(e.object_id) for e in listed} == {p.pk for p in participants}
    assert {e.username for e in listed} == {poh_ggz.username}


# -- constant queries -----------------------------------------------------------------------------------
def _fill(chain, group, coach, poh_ggz, clock, n):
    """n more participants, each with attendance at meeting 5."""
    clock.move_to(NOW)
    participants = [join(coach, group, quitter(chain, coach), 5) for _ in range(n)]
    clock.move_to(at(datetime.date(2026, 6, 9), 21))
    for participant in participants:
        groups.attendance_record(
            actor=Actor.for_user(poh_ggz),
            meeting_id=meeting(group, 5).pk,
            participant_id=participant.pk,
            status="present",
        )


def test_group_list_runs_a_constant_number_of_queries(
    client, chain, group, coach, poh_ggz, clock, django_assert_num_queries
):
    _fill(chain, group, coach, poh_ggz, clock, 1)
    client.force_login(poh_ggz)
    # session, user, the OTP device that verified the session, memberships (the actor's roles), the
    # groups with room, practice, provider, participant count and next meeting in one query; the
    # session saved again (savepoint, update, release: SESSION_SAVE_EVERY_REQUEST keeps the idle
    # timeout running)
    with django_assert_num_queries(8):
        client.get(reverse("group-list"))
    plan_group(poh_ggz, room(chain), year=2027)
    _fill(chain, group, coach, poh_ggz, clock, 6)
    with django_assert_num_queries(8):
        response = client.get(reverse("group-list"))
    assert [g.active_participants for g in response.context["groups"]] == [0, 7]


def test_group_detail_runs_a_constant_number_of_queries(
    client, chain, group, coach, poh_ggz, clock, django_assert_num_queries
):
    _fill(chain, group, coach, poh_ggz, clock, 1)
    client.force_login(poh_ggz)
    # session, user, the OTP device, memberships, the group (room, practice, provider), its
    # meetings (with the facilitator), participants (with patient and coach), their attendance;
    # then the audit rows: savepoint, [advisory lock on PostgreSQL], last hash, one bulk insert,
    # release savepoint; the session saved again (savepoint, update, release)
    expected = 16 if connection.vendor == "postgresql" else 15
    with django_assert_num_queries(expected):
        client.get(reverse("group-detail", args=[group.pk]))
    _fill(chain, group, coach, poh_ggz, clock, 8)
    with django_assert_num_queries(expected):
        response = client.get(reverse("group-detail", args=[group.pk]))
    assert len(response.context["rows"]) == 9


# -- planning --------------------------------------------------------------------------------------------
def test_poh_ggz_plans_a_group_from_the_proposed_dates(client, chain, poh_ggz):
    location = room(chain)
    client.force_login(poh_ggz)
    page = client.get(reverse("group-create"), {"year": "2027"})
    assert page.status_code == 200
    assert len(page.context["formset"].forms) == 8
    assert page.context["form"]["year"].value() == 2027
    response = client.post(
        reverse("group-create"),
        _plan_form(location, 2027, meetings=_default_meetings(poh_ggz, 2027)),
    )
    group = RelapsePreventionGroup.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("group-detail", args=[group.pk])
    assert (group.location, group.year, group.name) == (location, 2027, "Terugvalpreventie Haven")
    assert list(group.meetings.values_list("number", flat=True)) == [1, 2, 3, 4, 5, 6, 7, 8]


def test_plan_with_a_meeting_outside_the_year_shows_the_error_and_saves_nothing(
    client, chain, poh_ggz
):
    meetings = _default_meetings(poh_ggz)
    meetings[7] = (at(datetime.date(2027, 1, 12), 19), "Terugblik", poh_ggz)
    client.force_login(poh_ggz)
    response = client.post(reverse("group-create"), _plan_form(room(chain), meetings=meetings))
    assert response.status_code == 200
    assert response.context["formset"].forms[7].errors == {
        "starts_at": ["Bijeenkomst 8 moet in 2026 vallen."]
    }
    assert not RelapsePreventionGroup.objects.exists()


def test_plan_with_seven_meetings_or_garbage_saves_nothing(client, chain, poh_ggz):
    location = room(chain)
    client.force_login(poh_ggz)
    seven = client.post(
        reverse("group-create"), _plan_form(location, meetings=_default_meetings(poh_ggz), total=7)
    )
    assert seven.status_code == 200
    assert seven.context["formset"].non_form_errors()
    garbage = _plan_form(location, meetings=_default_meetings(poh_ggz))
    garbage.update({"year": "twintig", "meetings-2-starts_at": "31-02-2026 19:00"})
    garbage.pop("meetings-TOTAL_FORMS")
    response = client.post(reverse("group-create"), garbage)
    assert response.status_code == 200
    assert response.context["form"].errors["year"]
    assert not RelapsePreventionGroup.objects.exists()


def test_second_group_for_the_room_and_year_is_a_form_error(client, chain, poh_ggz):
    location = room(chain)
    plan_group(poh_ggz, location)
    client.force_login(poh_ggz)
    response = client.post(
        reverse("group-create"), _plan_form(location, meetings=_default_meetings(poh_ggz))
    )
    assert response.status_code == 200
    assert response.context["form"].errors["year"]
    assert RelapsePreventionGroup.objects.count() == 1


def test_room_of_another_practice_is_not_offered(client, chain, poh_ggz):
    theirs = room(chain, practice=chain.practice_b)
    client.force_login(poh_ggz)
    response = client.post(
        reverse("group-create"), _plan_form(theirs, meetings=_default_meetings(poh_ggz))
    )
    assert response.status_code == 200
    assert response.context["form"].errors["location"]
    assert not RelapsePreventionGroup.objects.exists()


@pytest.mark.parametrize("persona", ["coach", "poh", "planner"])
def test_only_the_poh_ggz_plans_groups(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("group-create")).status_code == 403


def test_poh_ggz_edits_a_theme_and_the_coach_may_not(client, group, poh_ggz, coach):
    meetings = _default_meetings(poh_ggz)
    meetings[1] = (meetings[1][0], "Omgaan met trek en verleiding", poh_ggz)
    data = _plan_form(group.location, meetings=meetings)
    client.force_login(coach)
    assert client.post(reverse("group-edit", args=[group.pk]), data).status_code == 403
    client.force_login(poh_ggz)
    assert client.get(reverse("group-edit", args=[group.pk])).status_code == 200
    response = client.post(reverse("group-edit", args=[group.pk]), data)
    assert response.status_code == 302
    assert meeting(group, 2).theme == "Omgaan met trek en verleiding"


# -- joining -------------------------------------------------------------------------------------------------
def test_coach_adds_a_quitter_at_the_fifth_meeting(client, chain, group, coach):
    ready = quitter(chain, coach)
    smoking = quitter(chain, coach)
    record_contact(coach, smoking, "smoking")
    client.force_login(coach)
    page = client.get(reverse("group-join", args=[group.pk]))
    choices = dict(page.context["form"].fields["trajectory"].choices)
    assert ready.pk in choices and smoking.pk not in choices
    assert [m for m in page.context["form"].fields["meeting"].choices if m[0]][0][0] == (
        meeting(group, 5).pk
    )
    response = client.post(
        reverse("group-join", args=[group.pk]),
        {"trajectory": ready.pk, "meeting": meeting(group, 5).pk},
    )
    assert response.status_code == 302
    assert GroupParticipant.objects.get().joined_at.number == 5


def test_join_page_lists_the_offered_patients_in_the_audit_log(client, chain, group, coach):
    ready = quitter(chain, coach)
    client.force_login(coach)
    client.get(reverse("group-join", args=[group.pk]))
    assert AuditEvent.objects.filter(
        action="list", patient_id=ready.patient_id, object_type="pathways.trajectory"
    ).exists()


@pytest.mark.parametrize(
    "data",
    [
        {"trajectory": "", "meeting": ""},
        {"trajectory": "abc", "meeting": "1"},
        {"trajectory": "999999", "meeting": "999999"},
    ],
)
def test_join_page_turns_bad_input_into_a_form_error(client, chain, group, coach, data):
    quitter(chain, coach)
    client.force_login(coach)
    response = client.post(reverse("group-join", args=[group.pk]), data)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not GroupParticipant.objects.exists()


def test_join_at_a_passed_meeting_is_a_form_error(client, chain, group, coach):
    ready = quitter(chain, coach)
    client.force_login(coach)
    response = client.post(
        reverse("group-join", args=[group.pk]),
        {"trajectory": ready.pk, "meeting": meeting(group, 2).pk},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["meeting"]
    assert not GroupParticipant.objects.exists()


def test_poh_ggz_gets_403_on_the_join_page(client, group, poh_ggz):
    client.force_login(poh_ggz)
    assert client.get(reverse("group-join", args=[group.pk])).status_code == 403


# -- attendance ---------------------------------------------------------------------------------------------
def test_poh_ggz_records_the_attendance_of_a_meeting(client, chain, group, coach, poh_ggz, clock):
    first = join(coach, group, quitter(chain, coach), 5)
    second = join(coach, group, quitter(chain, coach), 5)
    clock.move_to(at(datetime.date(2026, 6, 9), 21))
    url = reverse("group-attendance", args=[group.pk, meeting(group, 5).pk])
    client.force_login(poh_ggz)
    page = client.get(url)
    assert set(page.context["form"].participants.values()) == {first, second}
    response = client.post(
        url, {f"participant-{first.pk}": "present", f"participant-{second.pk}": "no_show"}
    )
    assert response.status_code == 302
    assert dict(Attendance.objects.values_list("participant_id", "status")) == {
        first.pk: "present",
        second.pk: "no_show",
    }


def test_attendance_form_saves_all_or_nothing(client, chain, group, coach, poh_ggz):
    first = join(coach, group, quitter(chain, coach), 5)
    second = join(coach, group, quitter(chain, coach), 5)
    url = reverse("group-attendance", args=[group.pk, meeting(group, 5).pk])
    client.force_login(poh_ggz)
    response = client.post(
        url, {f"participant-{first.pk}": "absent_notice", f"participant-{second.pk}": "present"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors[f"participant-{second.pk}"]
    assert not Attendance.objects.exists()


def test_attendance_form_refuses_an_unknown_status(client, chain, group, coach, poh_ggz):
    participant = join(coach, group, quitter(chain, coach), 5)
    client.force_login(poh_ggz)
    url = reverse("group-attendance", args=[group.pk, meeting(group, 5).pk])
    response = client.post(url, {f"participant-{participant.pk}": "late"})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not Attendance.objects.exists()


def test_attendance_page_only_lists_who_had_joined(client, chain, group, coach, poh_ggz):
    join(coach, group, quitter(chain, coach), 6)
    client.force_login(poh_ggz)
    page = client.get(reverse("group-attendance", args=[group.pk, meeting(group, 5).pk]))
    assert page.context["form"].participants == {}


def test_coach_gets_403_on_the_attendance_page(client, group, coach):
    client.force_login(coach)
    url = reverse("group-attendance", args=[group.pk, meeting(group, 5).pk])
    assert client.get(url).status_code == 403


def test_meeting_of_another_group_gets_404(client, chain, group, poh_ggz):
    other = plan_group(poh_ggz, room(chain))
    client.force_login(poh_ggz)
    url = reverse("group-attendance", args=[group.pk, meeting(other, 5).pk])
    assert client.get(url).status_code == 404


# -- leaving --------------------------------------------------------------------------------------------------
def test_coach_lets_a_participant_who_smokes_again_leave(client, chain, group, coach):
    participant = join(coach, group, quitter(chain, coach), 5)
    client.force_login(coach)
    url = reverse("group-leave", args=[participant.pk])
    assert client.get(url).status_code == 200
    empty = client.post(url, {"reason": ""})
    assert empty.status_code == 200
    assert empty.context["form"].errors["reason"]
    response = client.post(url, {"reason": "Rookt weer"})
    assert response.status_code == 302
    participant.refresh_from_db()
    assert participant.left_reason == "Rookt weer"


def test_leaving_twice_is_a_form_error(client, chain, group, coach):
    participant = join(coach, group, quitter(chain, coach), 5)
    client.force_login(coach)
    url = reverse("group-leave", args=[participant.pk])
    client.post(url, {"reason": "Rookt weer"})
    response = client.post(url, {"reason": "Nogmaals"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()


def test_other_coach_gets_404_on_leave(client, chain, group, coach, other_coach):
    participant = join(coach, group, quitter(chain, coach), 5)
    client.force_login(other_coach)
    assert (
        client.post(reverse("group-leave", args=[participant.pk]), {"reason": "x"}).status_code
        == 404
    )
