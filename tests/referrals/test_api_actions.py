"""The referral's status actions over the API: who may do what, and what the state allows.

A caller who cannot see the referral gets 404; one who sees it but is on the other side of it (the
referrer accepting, the coach cancelling) gets 403; an action the state does not allow gets 409.
"""

import datetime
import uuid

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from carechain.models import Role
from referrals.models import ContactAttempt, Referral, ReferralState
from tests import factories
from tests.referrals.api_support import action_url, claims_key, intake_key, referral_of

S = ReferralState


@pytest.fixture
def referral(chain):
    return referral_of(chain.practice_a)


def _post(api, referral, action, body=None, **headers):
    return api.post(action_url(referral, action), body or {}, format="json", **headers)


def _state(referral) -> str:
    return Referral.objects.get(pk=referral.pk).state


def _in_state(chain, state, **extra):
    return referral_of(chain.practice_a, state=state, **extra)


# -- accept ------------------------------------------------------------------------------------


def test_coach_accepts_and_becomes_the_coach(api, referral, coach):
    api.force_login(coach)
    response = _post(api, referral, "accept", {"note": "past in planning"})
    assert response.status_code == 200, response.data
    assert (response.data["state"], response.data["bser_status_code"]) == ("accepted", "3.0")
    assert response.data["coach"] == {"id": str(coach.public_id), "name": str(coach)}
    assert response.data["history"][-1]["action"] == "accept"
    assert response.data["history"][-1]["note"] == "past in planning"


def test_accepting_writes_a_change_audit_row(api, referral, coach):
    api.force_login(coach)
    _post(api, referral, "accept")
    row = AuditEvent.objects.get(action=AuditEvent.Action.CHANGE)
    assert (row.patient_id, row.object_id, row.detail, row.username) == (
        referral.patient_id,
        str(referral.pk),
        "accept",
        coach.username,
    )


def test_accepting_twice_is_a_conflict(api, referral, coach):
    api.force_login(coach)
    _post(api, referral, "accept")
    response = _post(api, referral, "accept")
    assert response.status_code == 409
    assert response.data["detail"]
    assert response.data["detail"].code == "invalid_transition"


@pytest.mark.parametrize("persona", ["poh", "gp", "poh_ggz"])
def test_referrer_may_see_but_not_accept(api, referral, persona, request):
    api.force_login(request.getfixturevalue(persona))
    response = _post(api, referral, "accept")
    assert response.status_code == 403
    assert _state(referral) == S.RECEIVED


def test_practice_key_may_not_accept(api, chain, referral):
    response = _post(api, referral, "accept", **intake_key(chain.practice_a))
    assert response.status_code == 403
    assert _state(referral) == S.RECEIVED


def test_coach_of_another_provider_gets_404_on_accept(api, referral, other_coach):
    api.force_login(other_coach)
    assert _post(api, referral, "accept").status_code == 404
    assert _state(referral) == S.RECEIVED


@pytest.mark.parametrize("persona", ["insurer_user", "zorggroep_admin"])
def test_insurers_and_zorggroep_admins_get_403_on_actions(api, referral, persona, request):
    api.force_login(request.getfixturevalue(persona))
    assert _post(api, referral, "accept").status_code == 403
    assert _post(api, referral, "request-cancellation", {"reason": "x"}).status_code == 403
    assert _state(referral) == S.RECEIVED


def test_claims_key_gets_403_on_actions(api, chain, referral):
    response = _post(api, referral, "accept", **claims_key(chain.insurer_a))
    assert response.status_code == 403


def test_unknown_referral_is_404(api, chain, coach):
    api.force_login(coach)
    assert api.post("/api/referrals/999999/accept/", {}, format="json").status_code == 404


# -- decline -----------------------------------------------------------------------------------


def test_planner_declines_with_a_reason_from_the_list(api, referral, planner):
    api.force_login(planner)
    response = _post(api, referral, "decline", {"reason": "not_in_region", "note": "Groningen"})
    assert response.status_code == 200, response.data
    assert (response.data["state"], response.data["bser_status_code"]) == ("declined", "4.0")
    assert response.data["decline_reason"] == "not_in_region"
    assert response.data["history"][-1]["note"] == "Groningen"


def test_decline_needs_a_reason_from_the_list(api, referral, coach):
    api.force_login(coach)
    response = _post(api, referral, "decline", {"reason": "because"})
    assert response.status_code == 400
    assert "reason" in response.data
    assert _state(referral) == S.RECEIVED


def test_accepted_referral_cannot_be_declined(api, chain, coach):
    accepted = _in_state(chain, S.ACCEPTED)
    api.force_login(coach)
    assert _post(api, accepted, "decline", {"reason": "capacity"}).status_code == 409
    assert _state(accepted) == S.ACCEPTED


def test_referrer_may_not_decline(api, referral, poh):
    api.force_login(poh)
    assert _post(api, referral, "decline", {"reason": "capacity"}).status_code == 403


# -- assign ------------------------------------------------------------------------------------


def test_planner_assigns_a_coach_of_the_provider_by_the_coach_lists_id(
    api, referral, planner, coach
):
    api.force_login(planner)
    listed = api.get("/api/coaches/").json()
    coach_id = next(row["id"] for row in listed if row["name"] == str(coach))
    response = _post(api, referral, "assign", {"coach": coach_id})
    assert response.status_code == 200, response.data
    assert response.data["coach"] == {"id": str(coach.public_id), "name": str(coach)}
    assert response.data["history"][-1]["action"] == "assigned"


def test_only_a_coach_of_this_provider_can_be_assigned(api, referral, planner, other_coach, poh):
    api.force_login(planner)
    for someone in (other_coach.public_id, poh.public_id, uuid.uuid4()):
        response = _post(api, referral, "assign", {"coach": str(someone)})
        assert response.status_code == 400
        assert "coach" in response.data
    assert Referral.objects.get(pk=referral.pk).coach is None


@pytest.mark.parametrize(
    "body", [{"coach_id": "COACH_PK"}, {"coach": "COACH_PK"}, {"coach_id": "COACH_UUID"}]
)
def test_a_database_id_of_the_coach_is_a_400_that_says_what_to_send(
    api, referral, planner, coach, body
):
    values = {"COACH_PK": coach.pk, "COACH_UUID": str(coach.public_id)}
    api.force_login(planner)
    response = _post(api, referral, "assign", {k: values[v] for k, v in body.items()})
    assert response.status_code == 400
    message = " ".join(str(m) for messages in response.data.values() for m in messages)
    if "coach_id" in body:
        assert "GET /api/coaches/" in message
    assert Referral.objects.get(pk=referral.pk).coach is None


def test_closed_referral_cannot_be_reassigned(api, chain, planner, coach):
    declined = _in_state(chain, S.DECLINED)
    api.force_login(planner)
    assert _post(api, declined, "assign", {"coach": str(coach.public_id)}).status_code == 409


def test_referrer_may_not_assign(api, referral, poh, coach):
    api.force_login(poh)
    assert _post(api, referral, "assign", {"coach": str(coach.public_id)}).status_code == 403


def test_other_providers_coach_gets_404_on_assign(api, referral, other_coach):
    api.force_login(other_coach)
    response = _post(api, referral, "assign", {"coach": str(other_coach.public_id)})
    assert response.status_code == 404


# -- contact attempts ----------------------------------------------------------------------------


def test_coach_records_a_contact_attempt(api, referral, coach):
    api.force_login(coach)
    response = _post(
        api,
        referral,
        "contact-attempts",
        {"method": "phone", "result": "voicemail", "note": "na 5"},
    )
    assert response.status_code == 201, response.data
    assert (response.data["result"], response.data["reached"], response.data["by"]) == (
        "voicemail",
        False,
        str(coach),
    )
    attempt = ContactAttempt.objects.get()
    assert (attempt.referral_id, attempt.by, attempt.note) == (referral.pk, coach, "na 5")
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.CHANGE, detail="contact attempt"
    ).exists()


def test_contact_attempt_at_an_earlier_moment(api, referral, coach):
    earlier = timezone.now() - datetime.timedelta(hours=3)
    api.force_login(coach)
    response = _post(
        api, referral, "contact-attempts", {"result": "no_answer", "at": earlier.isoformat()}
    )
    assert response.status_code == 201, response.data
    assert ContactAttempt.objects.get().at == earlier.replace(microsecond=earlier.microsecond)


def test_contact_attempt_cannot_lie_in_the_future(api, referral, coach):
    later = timezone.now() + datetime.timedelta(days=1)
    api.force_login(coach)
    response = _post(
        api, referral, "contact-attempts", {"result": "no_answer", "at": later.isoformat()}
    )
    assert response.status_code == 400
    assert "at" in response.data
    assert not ContactAttempt.objects.exists()


def test_contact_attempt_needs_a_known_result(api, referral, coach):
    api.force_login(coach)
    response = _post(api, referral, "contact-attempts", {"result": "maybe"})
    assert response.status_code == 400
    assert "result" in response.data


def test_no_contact_attempts_on_a_closed_referral(api, chain, coach):
    declined = _in_state(chain, S.DECLINED)
    api.force_login(coach)
    assert _post(api, declined, "contact-attempts", {"result": "reached"}).status_code == 409
    assert not ContactAttempt.objects.exists()


def test_referrer_may_not_record_contact_attempts(api, referral, poh):
    api.force_login(poh)
    assert _post(api, referral, "contact-attempts", {"result": "reached"}).status_code == 403


def test_other_providers_coach_gets_404_on_contact_attempts(api, referral, other_coach):
    api.force_login(other_coach)
    assert _post(api, referral, "contact-attempts", {"result": "reached"}).status_code == 404


# -- first contact -------------------------------------------------------------------------------


def test_first_contact_scheduled_missed_then_done(api, chain, coach):
    accepted = _in_state(chain, S.ACCEPTED)
    api.force_login(coach)
    scheduled = _post(api, accepted, "schedule-contact", {"note": "di 10:00"})
    assert (scheduled.status_code, scheduled.data["bser_status_code"]) == (200, "5.1.1")
    no_show = _post(api, accepted, "no-show")
    assert (no_show.status_code, no_show.data["bser_status_code"]) == (200, "5.1.2")
    done = _post(api, accepted, "contact-done")
    assert (done.status_code, done.data["state"]) == (200, "in_progress")
    assert done.data["first_contact_at"] is not None
    assert done.data["first_contact_overdue"] is False


def test_no_show_needs_a_scheduled_contact(api, chain, coach):
    accepted = _in_state(chain, S.ACCEPTED)
    api.force_login(coach)
    assert _post(api, accepted, "no-show").status_code == 409
    assert _state(accepted) == S.ACCEPTED


def test_contact_cannot_be_scheduled_before_acceptance(api, referral, coach):
    api.force_login(coach)
    assert _post(api, referral, "schedule-contact").status_code == 409
    assert _post(api, referral, "contact-done").status_code == 409
    assert _state(referral) == S.RECEIVED


def test_referrer_may_not_record_the_first_contact(api, chain, poh):
    accepted = _in_state(chain, S.ACCEPTED)
    api.force_login(poh)
    assert _post(api, accepted, "schedule-contact").status_code == 403
    assert _post(api, accepted, "contact-done").status_code == 403
    assert _post(api, accepted, "no-show").status_code == 403


# -- unreachable ---------------------------------------------------------------------------------


def test_close_unreachable_after_three_failed_attempts(api, referral, coach):
    api.force_login(coach)
    for result in ("no_answer", "voicemail"):
        _post(api, referral, "contact-attempts", {"result": result})
    assert _post(api, referral, "close-unreachable").status_code == 409
    _post(api, referral, "contact-attempts", {"result": "wrong_number"})
    response = _post(api, referral, "close-unreachable")
    assert response.status_code == 200, response.data
    assert (response.data["state"], response.data["bser_status_code"]) == ("unreachable", "6.0")


def test_referrer_may_not_close_as_unreachable(api, referral, poh):
    api.force_login(poh)
    assert _post(api, referral, "close-unreachable").status_code == 403


# -- cancellation --------------------------------------------------------------------------------


def test_referring_poh_asks_for_cancellation_and_the_coach_confirms(api, referral, poh, coach):
    api.force_login(poh)
    asked = _post(api, referral, "request-cancellation", {"reason": "Patiënt verhuisd"})
    assert asked.status_code == 200, asked.data
    assert (asked.data["state"], asked.data["bser_status_code"]) == (
        "cancellation_requested",
        "5.2",
    )
    assert asked.data["cancel_reason"] == "Patiënt verhuisd"
    api.force_login(coach)
    confirmed = _post(api, referral, "confirm-cancellation")
    assert confirmed.status_code == 200, confirmed.data
    assert (confirmed.data["state"], confirmed.data["bser_status_code"]) == ("cancelled", "6.0")


def test_practice_key_asks_for_cancellation(api, chain, referral):
    response = _post(
        api, referral, "request-cancellation", {"reason": "Dubbel"}, **intake_key(chain.practice_a)
    )
    assert response.status_code == 200, response.data
    assert _state(referral) == S.CANCELLATION_REQUESTED


def test_zorggroep_key_asks_for_cancellation_of_its_practices_referral(api, chain):
    referral = referral_of(chain.practice_b)
    response = _post(
        api, referral, "request-cancellation", {"reason": "Dubbel"}, **intake_key(chain.zorggroep)
    )
    assert response.status_code == 200, response.data


def test_cancellation_needs_a_reason(api, referral, poh):
    api.force_login(poh)
    response = _post(api, referral, "request-cancellation", {"reason": ""})
    assert response.status_code == 400
    assert "reason" in response.data
    assert _state(referral) == S.RECEIVED


def test_provider_may_not_ask_for_cancellation(api, referral, coach):
    api.force_login(coach)
    assert _post(api, referral, "request-cancellation", {"reason": "x"}).status_code == 403


def test_other_practice_gets_404_on_cancellation(api, referral, other_poh):
    api.force_login(other_poh)
    assert _post(api, referral, "request-cancellation", {"reason": "x"}).status_code == 404


def test_closed_referral_cannot_be_cancelled(api, chain, poh):
    completed = _in_state(chain, S.COMPLETED)
    api.force_login(poh)
    assert _post(api, completed, "request-cancellation", {"reason": "x"}).status_code == 409


def test_cancellation_can_only_be_confirmed_when_asked_for(api, referral, coach):
    api.force_login(coach)
    assert _post(api, referral, "confirm-cancellation").status_code == 409
    assert _state(referral) == S.RECEIVED


def test_referrer_may_not_confirm_its_own_cancellation(api, chain, poh):
    asked = _in_state(chain, S.CANCELLATION_REQUESTED, cancel_reason="x")
    api.force_login(poh)
    assert _post(api, asked, "confirm-cancellation").status_code == 403
    assert _state(asked) == S.CANCELLATION_REQUESTED


def test_coach_who_is_also_poh_elsewhere_acts_only_by_the_role_that_fits(api, chain, referral):
    """One person, two hats: coach of the provider and POH-S of practice B."""
    person = factories.member(Role.COACH, chain.provider)
    factories.MembershipFactory(user=person, role=Role.POH_S, organisation=chain.practice_b)
    api.force_login(person)
    assert _post(api, referral, "request-cancellation", {"reason": "x"}).status_code == 403
    assert _post(api, referral, "accept").status_code == 200
