"""The day view of a lent room: the provider sees its bookings, the lending practice sees when the
room is occupied (not by whom), everyone else gets a 404; constant queries; audited."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from audit.models import AuditEvent
from carechain.access import Actor
from carechain.models import Role
from pathways import appointments, services
from tests import factories

AMS = ZoneInfo("Europe/Amsterdam")
NOW = datetime.datetime(2026, 3, 2, 8, 0, tzinfo=AMS)  # Monday morning
DAY = "2026-03-04"


def at(day: str, hhmm: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=AMS)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def room(chain):
    return factories.LocationFactory(
        practice=chain.practice_a, provider=chain.provider, name="Spreekkamer 2"
    )


def _trajectory(chain, coach, last_name="Rookmans"):
    return factories.TrajectoryFactory(
        coach=coach,
        referral__patient=factories.PatientFactory(
            practice=chain.practice_a, last_name=last_name, email="p@example.nl"
        ),
    )


def _book(coach, trajectory, starts_at, room, duration=30, kind="location"):
    return services.appointment_book(
        actor=Actor.for_user(coach),
        trajectory_id=trajectory.pk,
        kind=kind,
        starts_at=starts_at,
        duration_minutes=duration,
        coach_id=coach.pk,
        location=room,
    )


def _day(client, room, day=DAY):
    return client.get(reverse("location-day", args=[room.pk, day]))


def test_day_view_lists_the_rooms_bookings_of_that_day_in_time_order(client, chain, coach, room):
    other_room = factories.LocationFactory(practice=chain.practice_a, provider=chain.provider)
    late = _book(coach, _trajectory(chain, coach, "Laat"), at(DAY, "14:00"), room, duration=45)
    early = _book(coach, _trajectory(chain, coach, "Vroeg"), at(DAY, "09:00"), room)
    middle = _book(coach, _trajectory(chain, coach, "Midden"), at(DAY, "11:30"), room)
    appointments.appointment_cancel(actor=Actor.for_user(coach), appointment_id=middle.pk)
    _book(coach, _trajectory(chain, coach, "Morgen"), at("2026-03-05", "09:00"), room)
    _book(coach, _trajectory(chain, coach, "Elders"), at(DAY, "10:00"), other_room)
    client.force_login(coach)
    response = _day(client, room)
    assert response.status_code == 200
    page = response.context["page"]
    assert [a.pk for a in page.appointments] == [early.pk, middle.pk, late.pk]
    html = response.content.decode()
    assert html.index("Vroeg") < html.index("Midden") < html.index("Laat")
    assert "Morgen" not in html and "Elders" not in html
    assert "14:00–14:45" in html
    with translation.override("nl"):
        assert gettext("cancelled") in html
    assert response.context["previous_day"] == "2026-03-03"
    assert response.context["next_day"] == "2026-03-05"
    assert reverse("location-day", args=[room.pk, "2026-03-05"]) in html


def test_day_view_writes_an_audit_row_per_patient_shown(client, chain, coach, planner, room):
    first = _book(coach, _trajectory(chain, coach), at(DAY, "09:00"), room)
    second = _book(coach, _trajectory(chain, coach), at(DAY, "10:00"), room)
    client.force_login(planner)
    _day(client, room)
    rows = AuditEvent.objects.filter(detail="location day view", action="list")
    assert {(r.patient_id, r.object_id) for r in rows} == {
        (first.trajectory.patient_id, str(first.pk)),
        (second.trajectory.patient_id, str(second.pk)),
    }
    assert {r.username for r in rows} == {planner.username}


def test_plain_url_shows_today(client, chain, coach, room):
    _book(coach, _trajectory(chain, coach, "Vandaag"), at("2026-03-02", "15:00"), room)
    client.force_login(coach)
    response = client.get(reverse("location-day", args=[room.pk]))
    assert response.context["day"] == datetime.date(2026, 3, 2)
    assert "Vandaag" in response.content.decode()


def test_a_day_runs_midnight_to_midnight_in_amsterdam(client, chain, coach, room):
    """Summer time starts on 29 March 2026: that day has 23 hours, and 00:30 is still that day."""
    night = _book(coach, _trajectory(chain, coach), at("2026-03-29", "00:30"), room)
    late = _book(coach, _trajectory(chain, coach), at("2026-03-29", "23:30"), room)
    _book(coach, _trajectory(chain, coach), at("2026-03-30", "00:00"), room)
    client.force_login(coach)
    page = _day(client, room, "2026-03-29").context["page"]
    assert [a.pk for a in page.appointments] == [night.pk, late.pk]


def test_coach_of_another_provider_gets_404(client, chain, coach, other_coach, room):
    _book(coach, _trajectory(chain, coach), at(DAY, "09:00"), room)
    client.force_login(other_coach)
    assert _day(client, room).status_code == 404
    assert client.get(reverse("location-day", args=[room.pk])).status_code == 404
    assert not AuditEvent.objects.filter(detail="location day view").exists()


def test_practice_staff_see_when_their_room_is_occupied_but_not_by_whom(
    client, chain, coach, poh, room
):
    _book(coach, _trajectory(chain, coach, "Geheimhouding"), at(DAY, "09:00"), room)
    cancelled = _book(coach, _trajectory(chain, coach, "Afgezegd"), at(DAY, "11:00"), room)
    appointments.appointment_cancel(actor=Actor.for_user(coach), appointment_id=cancelled.pk)
    client.force_login(poh)
    response = _day(client, room)
    assert response.status_code == 200
    html = response.content.decode()
    with translation.override("nl"):
        occupied = gettext("occupied")
    # the cancelled booking no longer holds the room
    assert html.count(f'<span class="badge warn">{occupied}</span>') == 1
    assert "09:00–09:30" in html
    assert "Geheimhouding" not in html and "Afgezegd" not in html
    assert coach.last_name not in html
    page = response.context["page"]
    assert page.appointments == [] and not page.shows_patients
    assert not AuditEvent.objects.filter(detail="location day view").exists()


def test_staff_of_another_practice_and_other_roles_get_404(
    client, chain, coach, other_poh, zorggroep_admin, room
):
    _book(coach, _trajectory(chain, coach), at(DAY, "09:00"), room)
    for person in (other_poh, zorggroep_admin):
        client.force_login(person)
        assert _day(client, room).status_code == 404


@pytest.mark.parametrize("day", ["2026-02-30", "0001-01-01", "9999-12-31", "2026-13-01"])
def test_impossible_dates_are_404_not_500(client, coach, room, day):
    client.force_login(coach)
    assert _day(client, room, day).status_code == 404


def test_unknown_room_is_404(client, coach):
    client.force_login(coach)
    assert client.get(reverse("location-day", args=[999999, DAY])).status_code == 404


def test_date_box_goes_to_that_day_or_shows_its_error(client, coach, room):
    client.force_login(coach)
    response = client.get(reverse("location-day", args=[room.pk]), {"day": "2026-04-01"})
    assert response["Location"] == reverse("location-day", args=[room.pk, "2026-04-01"])
    response = client.get(reverse("location-day", args=[room.pk]), {"day": "1-4-2026x"})
    assert response.status_code == 200
    assert response.context["day_form"].errors


def test_day_view_runs_a_constant_number_of_queries(
    client, chain, coach, room, django_assert_num_queries
):
    # session, user, the OTP device that verified the session, the user's memberships (Actor), the
    # room with practice and provider, the room's bookings of the day with coach and patient; the
    # audit rows: savepoint, newest hash, one bulk insert, release (plus the advisory lock on
    # PostgreSQL); saving the session (SESSION_SAVE_EVERY_REQUEST): savepoint, update, release
    expected = 13 + (connection.vendor == "postgresql")
    _book(coach, _trajectory(chain, coach), at(DAY, "08:00"), room)
    client.force_login(coach)
    with django_assert_num_queries(expected):
        assert len(_day(client, room).context["page"].appointments) == 1
    for hour in range(9, 17):
        _book(coach, _trajectory(chain, coach), at(DAY, f"{hour:02d}:00"), room)
    with django_assert_num_queries(expected):
        assert len(_day(client, room).context["page"].appointments) == 9


def test_practice_view_runs_a_constant_number_of_queries(
    client, chain, coach, poh, room, django_assert_num_queries
):
    # session, user, the OTP device that verified the session, memberships, the room, the occupied
    # times, saving the session (savepoint, update, release); no patient data shown, so no audit rows
    _book(coach, _trajectory(chain, coach), at(DAY, "08:00"), room)
    client.force_login(poh)
    with django_assert_num_queries(9):
        _day(client, room)
    for hour in range(9, 17):
        _book(coach, _trajectory(chain, coach), at(DAY, f"{hour:02d}:00"), room)
    with django_assert_num_queries(9):
        assert len(_day(client, room).context["page"].slots) == 9


# -- the list of rooms -----------------------------------------------------------------------------
def test_location_list_shows_the_providers_rooms_to_its_coaches(
    client, chain, coach, other_coach, room
):
    elsewhere = factories.LocationFactory(practice=chain.practice_b, provider=chain.other_provider)
    client.force_login(coach)
    response = client.get(reverse("location-list"))
    assert list(response.context["locations"]) == [room]
    assert reverse("location-day", args=[room.pk]) in response.content.decode()
    client.force_login(other_coach)
    assert list(client.get(reverse("location-list")).context["locations"]) == [elsewhere]


def test_location_list_shows_a_practice_the_rooms_it_lends(client, chain, poh, other_poh, room):
    factories.LocationFactory(practice=chain.practice_b, provider=chain.provider)
    client.force_login(poh)
    assert list(client.get(reverse("location-list")).context["locations"]) == [room]


def test_location_list_is_not_for_insurers(client, insurer_user):
    client.force_login(insurer_user)
    assert client.get(reverse("location-list")).status_code == 403


def test_planner_sees_the_day_view_too(client, chain, coach, room):
    planner = factories.member(Role.PLANNER, chain.provider)
    _book(coach, _trajectory(chain, coach, "Zichtbaar"), at(DAY, "09:00"), room)
    client.force_login(planner)
    assert "Zichtbaar" in _day(client, room).content.decode()
