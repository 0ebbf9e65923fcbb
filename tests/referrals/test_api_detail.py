"""One referral over the API: what it shows, to whom, and the audit row it leaves."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from audit.models import AuditEvent
from carechain.access import Actor
from referrals import services
from referrals.models import ContactAttempt, ReferralDocument
from tests.referrals.api_support import claims_key, detail_url, intake_key, referral_of

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@pytest.fixture
def referral(chain):
    return referral_of(chain.practice_a, ketenzorg_programme="copd", is_ketenzorg=True)


def test_detail_shows_patient_smoking_profile_and_bser_status(api, referral, coach):
    api.force_login(coach)
    response = api.get(detail_url(referral))
    assert response.status_code == 200
    body = response.json()
    patient = referral.patient
    assert {k: body["patient"][k] for k in ("bsn", "last_name", "birth_date")} == {
        "bsn": patient.bsn,
        "last_name": patient.last_name,
        "birth_date": "1970-05-17",
    }
    assert (body["cigarettes_per_day"], body["years_smoked"], body["pack_years"]) == (20, 30, 30.0)
    assert (body["motivation"], body["is_ketenzorg"], body["ketenzorg_programme"]) == (
        "motivated",
        True,
        "copd",
    )
    assert (body["state"], body["bser_status_code"], body["bser_status_display"]) == (
        "received",
        "2.0",
        "Referral Created",
    )
    assert body["best_time_to_call"] == "any"
    assert body["coach"] is None
    assert body["decline_reason"] is None


def test_detail_shows_history_contact_attempts_and_coach(api, referral, coach):
    actor = Actor.for_user(coach)
    services.referral_record_attempt(
        actor=actor, referral_id=referral.pk, method="phone", result="no_answer", note="geen gehoor"
    )
    services.referral_accept(actor=actor, referral_id=referral.pk, note="ingepland")
    api.force_login(coach)
    body = api.get(detail_url(referral)).json()
    assert [(e["action"], e["from_state"], e["to_state"]) for e in body["history"]] == [
        ("contact_attempt", "", ""),
        ("accept", "received", "accepted"),
    ]
    assert body["history"][1]["by_label"] == str(coach)
    assert body["history"][1]["note"] == "ingepland"
    [attempt] = body["contact_attempts"]
    assert (attempt["method"], attempt["result"], attempt["reached"], attempt["by"]) == (
        "phone",
        "no_answer",
        False,
        str(coach),
    )
    assert body["coach"] == {"id": str(coach.public_id), "name": str(coach)}
    assert (body["state"], body["bser_status_code"]) == ("accepted", "3.0")


def test_detail_lists_document_metadata_but_not_the_payload(api, referral, coach):
    ReferralDocument.objects.create(
        referral=referral,
        kind=ReferralDocument.Kind.REFERRAL_LETTER,
        source_id="bundle-1",
        title="Verwijsbrief",
        text="Geachte collega, ...",
        payload={"resourceType": "Bundle", "secret": "clinical content"},
    )
    api.force_login(coach)
    [document] = api.get(detail_url(referral)).json()["documents"]
    assert set(document) == {"kind", "title", "received_at"}
    assert (document["kind"], document["title"]) == ("referral-letter", "Verwijsbrief")


def test_decline_and_cancel_reasons_are_shown(api, chain, coach, poh):
    declined = referral_of(chain.practice_a)
    services.referral_decline(
        actor=Actor.for_user(coach), referral_id=declined.pk, reason="capacity"
    )
    cancelled = referral_of(chain.practice_a)
    services.referral_request_cancellation(
        actor=Actor.for_user(poh), referral_id=cancelled.pk, reason="Patiënt verhuisd"
    )
    api.force_login(coach)
    assert api.get(detail_url(declined)).json()["decline_reason"] == "capacity"
    assert api.get(detail_url(cancelled)).json()["cancel_reason"] == "Patiënt verhuisd"


def test_first_contact_overdue_after_two_working_days(api, chain):
    headers = intake_key(chain.practice_a)  # a key: a session would expire across these days
    with time_machine.travel(datetime.datetime(2025, 3, 7, 10, 0, tzinfo=AMSTERDAM)):  # a Friday
        referral = referral_of(chain.practice_a)
    with time_machine.travel(datetime.datetime(2025, 3, 11, 16, 0, tzinfo=AMSTERDAM)):
        body = api.get(detail_url(referral), **headers).json()
        assert (body["first_contact_due"], body["first_contact_overdue"]) == ("2025-03-11", False)
    with time_machine.travel(datetime.datetime(2025, 3, 12, 9, 0, tzinfo=AMSTERDAM)):
        assert api.get(detail_url(referral), **headers).json()["first_contact_overdue"] is True


def test_viewing_a_referral_writes_a_view_audit_row(api, referral, coach):
    api.force_login(coach)
    api.get(detail_url(referral))
    row = AuditEvent.objects.get(action=AuditEvent.Action.VIEW)
    assert (row.patient_id, row.object_type, row.object_id, row.username) == (
        referral.patient_id,
        "referrals.referral",
        str(referral.pk),
        coach.username,
    )


@pytest.mark.parametrize("persona", ["poh", "gp", "poh_ggz", "coach", "planner"])
def test_referring_practice_and_the_provider_see_the_referral(api, referral, persona, request):
    api.force_login(request.getfixturevalue(persona))
    assert api.get(detail_url(referral)).status_code == 200


def test_practice_and_zorggroep_keys_see_their_referral(api, chain, referral):
    assert api.get(detail_url(referral), **intake_key(chain.practice_a)).status_code == 200
    assert api.get(detail_url(referral), **intake_key(chain.zorggroep)).status_code == 200


@pytest.mark.parametrize("persona", ["other_poh", "other_coach"])
def test_referral_outside_the_callers_scope_is_404(api, referral, persona, request):
    api.force_login(request.getfixturevalue(persona))
    assert api.get(detail_url(referral)).status_code == 404
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.VIEW).exists()


def test_key_of_another_practice_gets_404(api, chain, referral):
    assert api.get(detail_url(referral), **intake_key(chain.practice_b)).status_code == 404


@pytest.mark.parametrize("persona", ["insurer_user", "zorggroep_admin"])
def test_insurers_and_zorggroep_admins_get_403_on_a_referral(api, referral, persona, request):
    api.force_login(request.getfixturevalue(persona))
    assert api.get(detail_url(referral)).status_code == 403


def test_claims_key_gets_403_on_a_referral(api, chain, referral):
    assert api.get(detail_url(referral), **claims_key(chain.insurer_a)).status_code == 403


def test_contact_attempt_by_is_empty_when_the_person_is_gone(api, referral, coach, planner):
    ContactAttempt.objects.create(referral=referral, result="voicemail", by=None)
    api.force_login(planner)
    [attempt] = api.get(detail_url(referral)).json()["contact_attempts"]
    assert attempt["by"] is None
