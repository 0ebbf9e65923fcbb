"""A relapse-prevention group's POH-GGZ sees her own practice's participants by name; others are a
count, unless the group is a shared zorggroep group and the patient consented (recorded, audited)."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse

from audit.models import AuditEvent
from carechain.access import Actor
from pathways import groups
from pathways.models import RelapsePreventionGroup
from tests.pathways.groups_support import NOW, at, join, meeting, plan_group, quitter, room


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def group(chain, poh_ggz):
    return plan_group(poh_ggz, room(chain))


@pytest.fixture
def members(chain, group, coach):
    """One quitter of the group's own practice (A), one of practice B (same zorggroep)."""
    own = join(coach, group, quitter(chain, coach), 5)
    other = join(coach, group, quitter(chain, coach, practice=chain.practice_b), 5)
    return own, other


def shared(group):
    RelapsePreventionGroup.objects.filter(pk=group.pk).update(is_zorggroep_shared=True)
    group.refresh_from_db()


def detail(client, user, group):
    client.force_login(user)
    response = client.get(reverse("group-detail", args=[group.pk]))
    assert response.status_code == 200
    return response


def test_the_poh_ggz_sees_only_her_practices_participants_by_name(client, group, poh_ggz, members):
    own, other = members

    response = detail(client, poh_ggz, group)

    page = response.content.decode()
    assert [row.participant for row in response.context["rows"]] == [own]
    assert response.context["others"] == 1
    assert own.trajectory.patient.full_name in page
    assert other.trajectory.patient.full_name not in page
    assert other.trajectory.patient.bsn not in page
    listed = AuditEvent.objects.filter(action="list", object_type="pathways.groupparticipant")
    assert {int(e.object_id) for e in listed} == {own.pk}


def test_the_coach_sees_every_participant_she_brought(client, group, coach, members):
    response = detail(client, coach, group)

    assert {row.participant for row in response.context["rows"]} == set(members)
    assert response.context["others"] == 0


def test_a_shared_group_without_consent_still_shows_a_count(client, group, poh_ggz, members):
    shared(group)

    response = detail(client, poh_ggz, group)

    assert response.context["others"] == 1


def test_recorded_consent_in_a_shared_group_names_the_participant(
    client, group, coach, poh_ggz, members
):
    own, other = members
    shared(group)
    client.force_login(coach)

    response = client.post(reverse("group-sharing-consent", args=[other.pk]))
    other.refresh_from_db()
    page = detail(client, poh_ggz, group)

    assert response.status_code == 302
    assert (other.sharing_consent_by, other.sharing_consent_at is not None) == (coach, True)
    event = AuditEvent.objects.get(detail="consent: named in shared group")
    assert (event.patient_id, event.username) == (other.trajectory.patient_id, coach.username)
    assert {row.participant for row in page.context["rows"]} == {own, other}
    assert page.context["others"] == 0


def test_consent_alone_does_not_name_a_participant_in_a_practice_group(
    client, group, coach, poh_ggz, members
):
    _own, other = members
    with pytest.raises(ValidationError):
        groups.participant_record_sharing_consent(
            actor=Actor.for_user(coach), participant_id=other.pk
        )
    group.participants.filter(pk=other.pk).update(sharing_consent_at=NOW)

    assert detail(client, poh_ggz, group).context["others"] == 1


def test_the_poh_ggz_cannot_record_consent_or_act_on_hidden_participants(
    client, chain, group, poh_ggz, members, clock
):
    _own, other = members
    ggz = Actor.for_user(poh_ggz)
    clock.move_to(at(datetime.date(2026, 6, 9), 21))
    client.force_login(poh_ggz)

    consent = client.post(reverse("group-sharing-consent", args=[other.pk]))
    leave = client.get(reverse("group-leave", args=[other.pk]))
    attendance = client.get(reverse("group-attendance", args=[group.pk, meeting(group, 5).pk]))

    assert consent.status_code == 403  # a coach's action
    assert leave.status_code == 404
    assert attendance.context["others"] == 1
    assert other.trajectory.patient.full_name not in attendance.content.decode()
    with pytest.raises(Http404):
        groups.attendance_record(
            actor=ggz, meeting_id=meeting(group, 5).pk, participant_id=other.pk, status="present"
        )
