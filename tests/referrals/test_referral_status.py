"""The closed-loop status: who may move a referral, and which moves are impossible."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse
from django_fsm import TransitionNotAllowed

from carechain.access import Actor
from referrals import services
from referrals.models import ContactAttempt, Referral
from tests import factories


@pytest.fixture
def referral(chain):
    return factories.ReferralFactory(patient=factories.PatientFactory(practice=chain.practice_a))


def act(user):
    return Actor.for_user(user)


def test_coach_accepts_and_the_history_records_who_and_when(referral, coach):
    services.referral_accept(actor=act(coach), referral_id=referral.pk, note="past in planning")
    referral.refresh_from_db()
    assert referral.state == "accepted"
    assert referral.coach == coach
    event = referral.events.get(action="accept")
    assert (event.by, event.from_state, event.to_state, event.note) == (
        coach,
        "received",
        "accepted",
        "past in planning",
    )


def test_decline_needs_a_reason_from_the_list(referral, planner):
    with pytest.raises(services.ValidationError):
        services.referral_decline(actor=act(planner), referral_id=referral.pk, reason="because")
    services.referral_decline(
        actor=act(planner), referral_id=referral.pk, reason="capacity", note="vol"
    )
    referral.refresh_from_db()
    assert (referral.state, referral.decline_reason) == ("declined", "capacity")


def test_a_declined_referral_cannot_be_accepted(referral, coach):
    services.referral_decline(actor=act(coach), referral_id=referral.pk, reason="capacity")
    with pytest.raises(services.TransitionRefused):
        services.referral_accept(actor=act(coach), referral_id=referral.pk)


def test_the_state_field_cannot_be_written_directly(referral):
    with pytest.raises(AttributeError):
        referral.state = "completed"


def test_referrer_cannot_accept_and_other_provider_cannot_see(referral, poh, other_coach):
    with pytest.raises(PermissionDenied):
        services.referral_accept(actor=act(poh), referral_id=referral.pk)
    with pytest.raises(Http404):
        services.referral_accept(actor=act(other_coach), referral_id=referral.pk)
    referral.refresh_from_db()
    assert referral.state == "received"


def test_unreachable_only_after_three_failed_attempts(referral, coach):
    for result in ("no_answer", "voicemail"):
        services.referral_record_attempt(
            actor=act(coach), referral_id=referral.pk, method="phone", result=result
        )
    with pytest.raises(services.TransitionRefused):
        services.referral_close_unreachable(actor=act(coach), referral_id=referral.pk)
    services.referral_record_attempt(
        actor=act(coach), referral_id=referral.pk, method="phone", result="no_answer"
    )
    services.referral_close_unreachable(actor=act(coach), referral_id=referral.pk)
    referral.refresh_from_db()
    assert referral.state == "unreachable"
    assert referral.contact_attempts.count() == 3


def test_contact_flow_to_in_progress(referral, coach):
    services.referral_accept(actor=act(coach), referral_id=referral.pk)
    services.referral_schedule_contact(actor=act(coach), referral_id=referral.pk)
    services.referral_record_no_show(actor=act(coach), referral_id=referral.pk)
    services.referral_schedule_contact(actor=act(coach), referral_id=referral.pk)
    services.referral_record_contact_done(actor=act(coach), referral_id=referral.pk)
    referral.refresh_from_db()
    assert referral.state == "in_progress"
    assert referral.first_contact_at is not None
    assert [e.to_state for e in referral.events.all()] == [
        "accepted",
        "scheduled",
        "no_show",
        "scheduled",
        "in_progress",
    ]


def test_cancellation_is_requested_by_the_referrer_and_confirmed_by_the_provider(
    referral, poh, coach
):
    with pytest.raises(services.ValidationError):
        services.referral_request_cancellation(actor=act(poh), referral_id=referral.pk, reason=" ")
    with pytest.raises(PermissionDenied):
        services.referral_request_cancellation(
            actor=act(coach), referral_id=referral.pk, reason="x"
        )
    services.referral_request_cancellation(
        actor=act(poh), referral_id=referral.pk, reason="Patiënt verhuisd"
    )
    with pytest.raises(PermissionDenied):
        services.referral_confirm_cancellation(actor=act(poh), referral_id=referral.pk)
    services.referral_confirm_cancellation(actor=act(coach), referral_id=referral.pk)
    referral.refresh_from_db()
    assert (referral.state, referral.cancel_reason) == ("cancelled", "Patiënt verhuisd")


def test_completed_only_from_in_progress(referral):
    with pytest.raises(TransitionNotAllowed):
        referral.complete()


def test_assign_only_to_a_coach_of_the_provider(referral, planner, coach, other_coach):
    with pytest.raises(services.ValidationError):
        services.referral_assign(
            actor=act(planner), referral_id=referral.pk, coach_id=other_coach.pk
        )
    services.referral_assign(actor=act(planner), referral_id=referral.pk, coach_id=coach.pk)
    assert Referral.objects.get(pk=referral.pk).coach == coach


def test_buttons_offer_exactly_the_allowed_actions(client, referral, coach, poh):
    client.force_login(coach)
    page = client.get(reverse("referral-detail", args=[referral.pk])).content.decode()
    assert 'id="accept"' in page
    assert "/request-cancellation/" not in page
    client.force_login(poh)
    page = client.get(reverse("referral-detail", args=[referral.pk])).content.decode()
    assert 'id="accept"' not in page
    assert "/request-cancellation/" in page


def test_posting_an_illegal_action_shows_a_message_and_changes_nothing(client, referral, coach):
    client.force_login(coach)
    client.post(reverse("referral-action", args=[referral.pk, "contact-done"]))
    response = client.post(
        reverse("referral-action", args=[referral.pk, "confirm-cancellation"]), follow=True
    )
    assert "niet mogelijk" in response.content.decode()
    referral.refresh_from_db()
    assert referral.state == "in_progress" or referral.state == "received"


def test_coach_of_another_provider_gets_404_on_the_page_and_the_action(
    client, referral, other_coach
):
    client.force_login(other_coach)
    assert client.get(reverse("referral-detail", args=[referral.pk])).status_code == 404
    response = client.post(reverse("referral-action", args=[referral.pk, "accept"]))
    assert response.status_code == 404
    assert Referral.objects.get(pk=referral.pk).state == "received"


def test_contact_attempt_form_rejects_unknown_result(client, referral, coach):
    client.force_login(coach)
    client.post(
        reverse("referral-action", args=[referral.pk, "attempt"]),
        {"method": "phone", "result": "??"},
    )
    assert not ContactAttempt.objects.exists()
