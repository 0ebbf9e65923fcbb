"""Appointments in the rooms practices lend the provider: booking in the browser, no double
bookings of room or coach, the patient's e-mail confirmation, cancelling, the coach's agenda."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from audit.models import AuditEvent
from carechain.access import Actor
from carechain.models import Role
from pathways import appointments, services
from pathways.appointments import ConfirmationImpossible
from pathways.models import Appointment
from tests import factories

AMS = ZoneInfo("Europe/Amsterdam")
NOW = datetime.datetime(2026, 3, 2, 8, 0, tzinfo=AMS)  # Monday morning
DAY = "2026-03-04"  # the Wednesday after


def _nl(msgid: str) -> str:
    """What the Dutch page shows for a message (English until the translations are added)."""
    with translation.override("nl"):
        return gettext(msgid)


def at(day: str, hhmm: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=AMS)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def patient(chain):
    return factories.PatientFactory(
        practice=chain.practice_a, first_name="Els", last_name="Rookvrij", email="p@example.nl"
    )


@pytest.fixture
def trajectory(chain, coach, patient):
    return factories.trajectory_in("counselling", coach=coach, referral__patient=patient)


@pytest.fixture
def room(chain):
    practice = chain.practice_a
    practice.address, practice.postal_code, practice.city = "Markt 1", "4611 AB", "Bergen op Zoom"
    practice.save()
    provider = chain.provider
    provider.phone = "0164-123456"
    provider.save()
    return factories.LocationFactory(practice=practice, provider=provider, name="Spreekkamer 2")


@pytest.fixture
def second_room(chain):
    return factories.LocationFactory(
        practice=chain.practice_b, provider=chain.provider, name="Kamer 1"
    )


@pytest.fixture
def second_coach(chain):
    return factories.member(Role.COACH, chain.provider, user__first_name="Piet")


def _form(coach, room, /, **overrides):
    data = {
        "kind": "location",
        "date": DAY,
        "start_time": "10:00",
        "duration_minutes": "30",
        "coach": str(coach.pk),
        "location": str(room.pk) if room else "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _book(client, trajectory, coach, room, /, **overrides):
    return client.post(
        reverse("appointment-book", args=[trajectory.pk]), _form(coach, room, **overrides)
    )


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# -- booking ---------------------------------------------------------------------------------------
def test_coach_books_an_appointment_in_a_lent_room_at_amsterdam_time(
    client, coach, trajectory, room
):
    client.force_login(coach)
    response = _book(client, trajectory, coach, room)
    assert response.status_code == 302
    assert response["Location"] == reverse("appointment-book", args=[trajectory.pk])
    appointment = Appointment.objects.get()
    assert appointment.starts_at == at(DAY, "10:00")
    assert appointment.starts_at == datetime.datetime(2026, 3, 4, 9, 0, tzinfo=datetime.UTC)
    assert (appointment.kind, appointment.duration_minutes) == ("location", 30)
    assert (appointment.coach, appointment.location, appointment.status) == (
        coach,
        room,
        "planned",
    )
    assert appointment.confirmation_sent_at is None
    assert AuditEvent.objects.filter(detail="appointment", object_id=str(appointment.pk)).exists()
    assert mail.outbox == []


def test_planner_books_for_a_coach_of_the_provider(client, planner, second_coach, trajectory, room):
    client.force_login(planner)
    assert _book(client, trajectory, second_coach, room).status_code == 302
    assert Appointment.objects.get().coach == second_coach


def test_booking_page_offers_only_the_providers_coaches_and_active_rooms(
    client, chain, coach, other_coach, trajectory, room
):
    factories.LocationFactory(practice=chain.practice_a, provider=chain.other_provider)
    factories.LocationFactory(practice=chain.practice_b, provider=chain.provider, is_active=False)
    client.force_login(coach)
    response = client.get(reverse("appointment-book", args=[trajectory.pk]))
    form = response.context["form"]
    assert list(form.fields["coach"].queryset) == [coach]
    assert list(form.fields["location"].queryset) == [room]
    assert "Praktijk A, Spreekkamer 2" in response.content.decode()
    assert AuditEvent.objects.filter(
        patient_id=trajectory.patient_id, detail="appointments of the trajectory"
    ).exists()


def test_room_already_booked_at_an_overlapping_time_is_refused_on_the_room_field(
    client, coach, second_coach, trajectory, room
):
    client.force_login(coach)
    _book(client, trajectory, coach, room)
    response = _book(client, trajectory, second_coach, room, start_time="10:15")
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["location"] == [_nl("This room is already booked at that time.")]
    assert "coach" not in errors
    assert Appointment.objects.count() == 1


def test_appointment_inside_a_longer_one_clashes_too(client, coach, second_coach, trajectory, room):
    client.force_login(coach)
    _book(client, trajectory, coach, room, start_time="09:00", duration_minutes="120")
    response = _book(client, trajectory, second_coach, room, start_time="10:00")
    assert "location" in response.context["form"].errors
    assert Appointment.objects.count() == 1


def test_touching_appointments_do_not_clash(client, coach, trajectory, room):
    """10:00-10:30 and 10:30-11:00: same room, same coach, back to back."""
    client.force_login(coach)
    assert _book(client, trajectory, coach, room, start_time="10:00").status_code == 302
    assert _book(client, trajectory, coach, room, start_time="10:30").status_code == 302
    assert _book(client, trajectory, coach, room, start_time="09:30").status_code == 302
    assert [a.starts_at for a in Appointment.objects.order_by("starts_at")] == [
        at(DAY, "09:30"),
        at(DAY, "10:00"),
        at(DAY, "10:30"),
    ]


def test_coach_cannot_be_in_two_places_at_once(client, coach, trajectory, room, second_room):
    client.force_login(coach)
    _book(client, trajectory, coach, room)
    response = _book(client, trajectory, coach, second_room, start_time="10:15")
    assert response.context["form"].errors["coach"] == [
        _nl("This coach already has an appointment at that time.")
    ]
    phone = _book(client, trajectory, coach, None, kind="phone", start_time="10:20")
    assert "coach" in phone.context["form"].errors
    assert Appointment.objects.count() == 1


def test_appointment_in_the_past_is_refused_on_the_date(client, coach, trajectory, room):
    client.force_login(coach)
    response = _book(client, trajectory, coach, room, date="2026-03-01")
    assert response.context["form"].errors["date"] == [
        _nl("An appointment cannot be planned in the past.")
    ]
    earlier_today = _book(client, trajectory, coach, room, date="2026-03-02", start_time="07:00")
    assert "date" in earlier_today.context["form"].errors
    assert not Appointment.objects.exists()


def test_room_of_another_provider_is_refused(client, chain, coach, trajectory):
    foreign = factories.LocationFactory(practice=chain.practice_a, provider=chain.other_provider)
    client.force_login(coach)
    response = _book(client, trajectory, coach, foreign)
    assert response.status_code == 200
    assert "location" in response.context["form"].errors
    with pytest.raises(ValidationError) as refused:
        services.appointment_book(
            actor=Actor.for_user(coach),
            trajectory_id=trajectory.pk,
            kind="location",
            starts_at=at(DAY, "10:00"),
            duration_minutes=30,
            coach_id=coach.pk,
            location=foreign,
        )
    assert refused.value.message_dict == {
        "location": [_nl("This room is not available to your provider.")]
    }
    assert not Appointment.objects.exists()


def test_contact_on_location_needs_a_room(client, coach, trajectory):
    client.force_login(coach)
    response = _book(client, trajectory, coach, None, kind="location")
    assert "location" in response.context["form"].errors
    assert not Appointment.objects.exists()


@pytest.mark.parametrize(
    "overrides",
    [
        {"date": "2026-02-30"},
        {"date": "04-03-2026x"},
        {"date": "9999-12-31"},
        {"date": "2031-03-04"},
        {"start_time": "25:00"},
        {"start_time": ""},
        {"duration_minutes": "abc"},
        {"duration_minutes": "0"},
        {"duration_minutes": "100000000000000000000"},
        {"kind": "surgery"},
        {"coach": "999999"},
        {"coach": "abc"},
        {"location": "999999"},
        {"location": "100000000000000000000"},
        {"coach": "100000000000000000000"},
    ],
)
def test_bad_input_gives_form_errors_and_saves_nothing(client, coach, trajectory, room, overrides):
    client.force_login(coach)
    response = _book(client, trajectory, coach, room, **overrides)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not Appointment.objects.exists()


def test_other_coach_of_the_provider_not_a_member_is_refused(
    client, chain, coach, other_coach, trajectory, room
):
    client.force_login(coach)
    response = _book(client, trajectory, other_coach, room)
    assert "coach" in response.context["form"].errors
    assert not Appointment.objects.exists()


def test_ended_trajectory_takes_no_appointments(client, chain, coach, room):
    ended = factories.trajectory_in(
        "end_of_treatment",
        coach=coach,
        referral__patient=factories.PatientFactory(practice=chain.practice_a),
    )
    client.force_login(coach)
    response = _book(client, ended, coach, room)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        _nl("Appointments are for active trajectories.")
    ]
    assert not Appointment.objects.exists()


def test_practice_staff_may_not_book_and_other_providers_do_not_see_the_trajectory(
    client, poh, other_coach, coach, trajectory, room
):
    client.force_login(poh)
    assert client.get(reverse("appointment-book", args=[trajectory.pk])).status_code == 403
    assert _book(client, trajectory, coach, room).status_code == 403
    client.force_login(other_coach)
    assert client.get(reverse("appointment-book", args=[trajectory.pk])).status_code == 404
    assert _book(client, trajectory, coach, room).status_code == 404
    assert not Appointment.objects.exists()


# -- the confirmation e-mail -----------------------------------------------------------------------
def test_confirmation_is_sent_once_after_commit_with_when_where_who_and_how_to_cancel(
    client, coach, trajectory, room, django_capture_on_commit_callbacks
):
    client.force_login(coach)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = _book(client, trajectory, coach, room, send_confirmation="on")
    assert response.status_code == 302
    assert len(callbacks) == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["p@example.nl"]
    assert message.subject == "Bevestiging van uw afspraak op woensdag 4 maart 2026 om 10:00 uur"
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    for part in (message.body, html):
        assert "Beste Els Rookvrij" in part
        assert "woensdag 4 maart 2026" in part
        assert "10:00 uur" in part
        assert "30 minuten" in part
        assert "Spreekkamer 2, Praktijk A" in part
        assert "Markt 1" in part
        assert "4611 AB Bergen op Zoom" in part
        assert coach.get_full_name() in part
        assert "0164-123456" in part
        assert "Stoppen BV" in part
    everything = " ".join([message.subject, message.body, html])
    patient = trajectory.patient
    assert patient.bsn not in everything
    assert "1970" not in everything  # no date of birth
    assert "pleister" not in everything and "nrt" not in everything  # nothing from the intake
    appointment = Appointment.objects.get()
    assert appointment.confirmation_sent_at == NOW
    assert _nl("The patient has been sent a confirmation by e-mail.") in _messages(response)

    with django_capture_on_commit_callbacks(execute=True) as again:
        response = client.post(reverse("appointment-send-confirmation", args=[appointment.pk]))
    assert response.status_code == 302
    assert again == []
    assert len(mail.outbox) == 1
    assert _nl("A confirmation was already sent for this appointment.") in _messages(response)
    assert (
        AuditEvent.objects.filter(
            action="change", detail="appointment confirmation", patient_id=patient.pk
        ).count()
        == 1
    )


def test_confirmation_waits_for_the_commit(
    coach, trajectory, room, django_capture_on_commit_callbacks
):
    actor = Actor.for_user(coach)
    appointment = services.appointment_book(
        actor=actor,
        trajectory_id=trajectory.pk,
        kind="phone",
        starts_at=at(DAY, "14:00"),
        duration_minutes=15,
        coach_id=coach.pk,
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert appointments.appointment_send_confirmation(
            actor=actor, appointment_id=appointment.pk
        )
    assert mail.outbox == []  # still inside the (test's) transaction
    callbacks[0]()
    assert len(mail.outbox) == 1
    assert "Telefonisch" in mail.outbox[0].body
    assert "Spreekkamer" not in mail.outbox[0].body


def test_a_refused_booking_sends_no_confirmation(
    client, coach, second_coach, trajectory, room, django_capture_on_commit_callbacks
):
    client.force_login(coach)
    _book(client, trajectory, coach, room)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = _book(
            client, trajectory, second_coach, room, start_time="10:10", send_confirmation="on"
        )
    assert response.status_code == 200
    assert callbacks == []
    assert mail.outbox == []


def test_patient_without_email_gets_no_confirmation_and_the_coach_is_told(
    client, chain, coach, room, django_capture_on_commit_callbacks
):
    no_email = factories.trajectory_in(
        "counselling",
        coach=coach,
        referral__patient=factories.PatientFactory(practice=chain.practice_a, email=""),
    )
    client.force_login(coach)
    page = client.get(reverse("appointment-book", args=[no_email.pk]))
    assert page.context["form"].initial["send_confirmation"] is False
    with django_capture_on_commit_callbacks(execute=True):
        response = _book(client, no_email, coach, room, send_confirmation="on")
    assert response.status_code == 302
    appointment = Appointment.objects.get()  # the booking itself stands
    assert appointment.confirmation_sent_at is None
    assert mail.outbox == []
    assert _nl("The patient has no e-mail address, so no confirmation was sent.") in _messages(
        response
    )
    assert not AuditEvent.objects.filter(detail="appointment confirmation").exists()


def test_a_failed_send_releases_the_claim_so_it_can_be_sent_again(
    coach, trajectory, room, django_capture_on_commit_callbacks, monkeypatch
):
    actor = Actor.for_user(coach)
    appointment = services.appointment_book(
        actor=actor,
        trajectory_id=trajectory.pk,
        kind="video",
        starts_at=at(DAY, "14:00"),
        duration_minutes=15,
        coach_id=coach.pk,
    )

    def refuse(self, *args, **kwargs):
        raise ConnectionRefusedError

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        appointments.appointment_send_confirmation(actor=actor, appointment_id=appointment.pk)
    appointment.refresh_from_db()
    assert appointment.confirmation_sent_at is None


def test_no_confirmation_for_an_appointment_that_has_begun(coach, trajectory, room):
    actor = Actor.for_user(coach)
    appointment = services.appointment_book(
        actor=actor,
        trajectory_id=trajectory.pk,
        kind="location",
        starts_at=at(DAY, "10:00"),
        duration_minutes=30,
        coach_id=coach.pk,
        location=room,
    )
    with time_machine.travel(at(DAY, "10:05"), tick=False), pytest.raises(ConfirmationImpossible):
        appointments.appointment_send_confirmation(actor=actor, appointment_id=appointment.pk)
    appointment.refresh_from_db()
    assert appointment.confirmation_sent_at is None


def test_practice_staff_cannot_send_a_confirmation(client, coach, poh, trajectory, room):
    client.force_login(coach)
    _book(client, trajectory, coach, room)
    appointment = Appointment.objects.get()
    client.force_login(poh)
    response = client.post(reverse("appointment-send-confirmation", args=[appointment.pk]))
    assert response.status_code == 403
    assert mail.outbox == []


# -- cancelling ------------------------------------------------------------------------------------
def test_cancelling_frees_the_room(client, coach, second_coach, trajectory, room):
    client.force_login(coach)
    _book(client, trajectory, coach, room)
    appointment = Appointment.objects.get()
    page = client.get(reverse("appointment-cancel", args=[appointment.pk]))
    assert page.status_code == 200
    response = client.post(
        reverse("appointment-cancel", args=[appointment.pk]), {"reason": "patient ziek"}
    )
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == "cancelled"
    assert AuditEvent.objects.filter(
        action="change", detail="appointment cancelled", object_id=str(appointment.pk)
    ).exists()
    event = trajectory.events.get(action="appointment_cancelled")
    assert "patient ziek" in event.note

    assert _book(client, trajectory, second_coach, room).status_code == 302
    assert Appointment.objects.filter(status="planned").count() == 1


def test_a_cancelled_appointment_cannot_be_cancelled_again_or_confirmed(
    client, coach, trajectory, room
):
    client.force_login(coach)
    _book(client, trajectory, coach, room)
    appointment = Appointment.objects.get()
    url = reverse("appointment-cancel", args=[appointment.pk])
    client.post(url)
    response = client.post(url)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        _nl("Only a planned appointment can be cancelled.")
    ]
    response = client.post(reverse("appointment-send-confirmation", args=[appointment.pk]))
    assert _nl("Only a planned appointment can be confirmed.") in _messages(response)
    assert mail.outbox == []


def test_cancel_goes_back_to_the_page_it_came_from_but_never_off_site(
    client, coach, trajectory, room
):
    client.force_login(coach)
    _book(client, trajectory, coach, room)
    _book(client, trajectory, coach, room, start_time="11:00")
    first, second = Appointment.objects.order_by("starts_at")
    day_url = reverse("location-day", args=[room.pk, DAY])
    url = reverse("appointment-cancel", args=[first.pk])
    assert client.post(url, {"next": day_url})["Location"] == day_url
    url = reverse("appointment-cancel", args=[second.pk])
    assert client.post(url, {"next": "https://evil.example/"})["Location"] == reverse(
        "appointment-book", args=[trajectory.pk]
    )


def test_other_provider_cannot_cancel(client, coach, other_coach, poh, trajectory, room):
    client.force_login(coach)
    _book(client, trajectory, coach, room)
    appointment = Appointment.objects.get()
    client.force_login(other_coach)
    assert client.post(reverse("appointment-cancel", args=[appointment.pk])).status_code == 404
    client.force_login(poh)
    assert client.post(reverse("appointment-cancel", args=[appointment.pk])).status_code == 403
    appointment.refresh_from_db()
    assert appointment.status == "planned"


# -- the coach's agenda ----------------------------------------------------------------------------
def test_coach_agenda_shows_own_planned_appointments_across_rooms_in_time_order(
    client, chain, coach, second_coach, trajectory, room, second_room
):
    client.force_login(coach)
    _book(client, trajectory, coach, second_room, start_time="14:00")
    _book(client, trajectory, coach, None, kind="phone", start_time="08:30")
    _book(client, trajectory, coach, room, start_time="10:00")
    _book(client, trajectory, second_coach, room, start_time="11:00")  # someone else's
    _book(client, trajectory, coach, room, start_time="16:00")
    _book(client, trajectory, coach, room, date="2026-03-05")  # another day
    cancelled = Appointment.objects.get(starts_at=at(DAY, "16:00"))
    client.post(reverse("appointment-cancel", args=[cancelled.pk]))

    response = client.get(reverse("coach-agenda", args=[DAY]))
    assert [a.starts_at for a in response.context["appointments"]] == [
        at(DAY, "08:30"),
        at(DAY, "10:00"),
        at(DAY, "14:00"),
    ]
    assert trajectory.patient.full_name in response.content.decode()
    assert (
        AuditEvent.objects.filter(detail="coach agenda", patient_id=trajectory.patient_id).count()
        == 3
    )
    today = client.get(reverse("coach-agenda"))
    assert today.context["day"] == datetime.date(2026, 3, 2)
    assert today.context["next_day"] == "2026-03-03"


def test_coach_agenda_is_for_coaches(client, planner, poh):
    client.force_login(poh)
    assert client.get(reverse("coach-agenda")).status_code == 403


def test_coach_agenda_date_box(client, coach):
    client.force_login(coach)
    response = client.get(reverse("coach-agenda"), {"day": "2026-03-09"})
    assert response["Location"] == reverse("coach-agenda", args=["2026-03-09"])
    response = client.get(reverse("coach-agenda"), {"day": "not a date"})
    assert response.status_code == 200
    assert response.context["day_form"].errors
