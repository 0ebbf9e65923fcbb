"""The invitee's answer: on the public page (no login, rate-limited, nothing shown of the person)
or by phone to the practice; a yes becomes a referral draft the practice confirms with one click."""

import pytest
from django.core.cache import cache
from django.utils import timezone

from audit.models import AuditEvent
from campaigns import answers, services
from campaigns.models import Answer, Invitee, OptOut
from carechain.access import Actor
from carechain.models import Patient
from referrals.models import Channel, Referral
from tests import factories

ANSWER_URL = "/reactie/"


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def invitee(chain):
    campaign = factories.CampaignFactory(practice=chain.practice_a, name="Najaar")
    return factories.InviteeFactory(campaign=campaign, first_name="Wim", last_name="Geheimnaam")


def _answer(client, code, answer="yes", **extra):
    data = {
        "code": code,
        "answer": answer,
        "consent": "on",
        "best_time_to_call": "morning",
        **extra,
    }
    return client.post(ANSWER_URL, data)


def test_yes_on_the_public_page_becomes_a_draft_and_one_click_a_referral(client, poh, invitee):
    code = invitee.display_code.lower()  # typed in lower case with the dash: still the code
    response = _answer(client, code, phone="06 1234 5678")
    assert response.status_code == 302
    thanks = client.get(response["Location"]).content.decode()
    assert "Uw praktijk neemt contact met u op" in thanks
    invitee.refresh_from_db()
    assert invitee.is_draft_referral and invitee.answer_channel == "web"
    assert (invitee.phone, invitee.best_time_to_call) == ("06 1234 5678", "morning")

    client.force_login(poh)
    detail = client.get(f"/campaigns/{invitee.campaign_id}/").content.decode()
    assert f'id="draft-{invitee.pk}"' in detail
    response = client.post(
        f"/campaigns/people/{invitee.pk}/refer/",
        {"consent_data_exchange": "on", "best_time_to_call": "morning", "phone": "06 1234 5678"},
    )
    referral = Referral.objects.get()
    assert response["Location"] == f"/referrals/{referral.pk}/"
    assert referral.channel == Channel.WEB and referral.practice == invitee.campaign.practice
    assert "Najaar" in referral.reason and referral.best_time_to_call == "morning"
    patient = referral.patient
    assert (patient.bsn, patient.last_name, patient.postal_code, patient.phone) == (
        invitee.bsn,
        "Geheimnaam",
        "4701 AB",
        "06 1234 5678",
    )
    invitee.refresh_from_db()
    assert invitee.referral == referral and not invitee.is_draft_referral
    # the second click changes nothing
    client.post(f"/campaigns/people/{invitee.pk}/refer/", {"consent_data_exchange": "on"})
    assert Referral.objects.count() == 1


def test_the_public_page_shows_nothing_of_the_person(client, invitee):
    page = client.get(ANSWER_URL).content.decode()
    thanks = client.get(_answer(client, invitee.response_code)["Location"]).content.decode()
    for text in (page, thanks):
        for secret in ("Wim", "Geheimnaam", invitee.bsn, invitee.campaign.practice.name, "Najaar"):
            assert secret not in text


def test_an_unknown_code_is_a_form_error_and_guessing_is_rate_limited(client, invitee):
    response = _answer(client, "ABCDE-FGHJK")
    assert response.status_code == 200
    assert "onbekend" in response.content.decode()
    for _ in range(services_rate() - 1):
        _answer(client, "ABCDE-FGHJK")
    limited = _answer(client, invitee.response_code)  # even the right code, once over the limit
    assert limited.status_code == 429
    invitee.refresh_from_db()
    assert invitee.answered_at is None


def services_rate():
    from campaigns.views import ANSWER_RATE

    return ANSWER_RATE


def test_yes_without_consent_is_a_form_error(client, invitee):
    response = client.post(ANSWER_URL, {"code": invitee.response_code, "answer": "yes"})
    assert response.status_code == 200 and 'role="alert"' in response.content.decode()
    invitee.refresh_from_db()
    assert invitee.answered_at is None


def test_no_more_letters_is_an_opt_out_and_erases_the_person_from_the_list(client, invitee):
    bsn = invitee.bsn
    assert _answer(client, invitee.response_code, answer="no", consent="").status_code == 302
    invitee.refresh_from_db()
    assert invitee.answer == Answer.NO and invitee.erased_at is not None
    assert (invitee.bsn, invitee.last_name, invitee.response_code, invitee.birth_date) == (
        "",
        "",
        None,
        None,
    )
    opt_out = OptOut.objects.get()
    assert opt_out.bsn_hash == services.opt_out_hash(bsn) and bsn not in opt_out.bsn_hash


def test_a_second_answer_with_the_same_code_changes_nothing(client, invitee):
    _answer(client, invitee.response_code, answer="yes")
    _answer(client, invitee.response_code, answer="no", consent="")
    invitee.refresh_from_db()
    assert invitee.answer == Answer.YES and not OptOut.objects.exists()


def test_the_answer_is_audited_with_the_address(client, invitee):
    _answer(client, invitee.response_code)
    event = AuditEvent.objects.get(object_type="campaigns.invitee", action="change")
    assert event.ip == "127.0.0.1" and event.username == "" and "answer page" in event.detail


def test_the_practice_records_an_answer_by_phone(client, poh, chain):
    patient = factories.PatientFactory(practice=chain.practice_a)
    campaign = factories.CampaignFactory(practice=chain.practice_a)
    invitee = factories.InviteeFactory(campaign=campaign, patient=patient, bsn=patient.bsn)
    client.force_login(poh)
    response = client.post(
        f"/campaigns/people/{invitee.pk}/answer/",
        {"answer": "yes", "consent": "on", "phone": "0165 123456"},
    )
    assert response.status_code == 302
    invitee.refresh_from_db()
    assert invitee.answer_channel == "phone" and invitee.is_draft_referral
    referral = answers.invitee_refer(
        actor=Actor.for_user(poh), invitee_id=invitee.pk, consent_data_exchange=True
    )
    assert referral.patient == patient and Patient.objects.count() == 1


def test_only_a_yes_can_be_referred(poh, invitee):
    with pytest.raises(services.CampaignRefused):
        answers.invitee_refer(
            actor=Actor.for_user(poh), invitee_id=invitee.pk, consent_data_exchange=True
        )


def test_another_practice_cannot_answer_or_refer_for_the_list(client, other_poh, invitee):
    Invitee.objects.filter(pk=invitee.pk).update(answer="yes", answered_at=timezone.now())
    client.force_login(other_poh)
    assert (
        client.post(
            f"/campaigns/people/{invitee.pk}/refer/", {"consent_data_exchange": "on"}
        ).status_code
        == 404
    )
    assert (
        client.post(f"/campaigns/people/{invitee.pk}/answer/", {"answer": "no"}).status_code == 404
    )
    assert not Referral.objects.exists()
