"""ZorgDomein over FHIR: document Bundles create, complete and cancel one referral per ZD number."""

import pytest

from audit.models import AuditEvent
from referrals.models import Referral, ReferralDocument

from .fhir_samples import (
    BSN,
    OTHER_BSN,
    REFERRER_AGB,
    ZD_NUMBER,
    appointment_request,
    intake_key,
    outcome_issue,
    post_document,
    stored_counts,
    zorgdomein_document,
)


@pytest.fixture
def key(chain):
    """The ZorgDomein connection of practice A."""
    return intake_key(chain.practice_a)


@pytest.fixture
def request_bundle(chain):
    return appointment_request(practice_agb=chain.practice_a.agb, provider_agb=chain.provider.agb)


@pytest.fixture
def referral(api, key, request_bundle):
    response = post_document(api, request_bundle, key=key)
    assert response.status_code == 201, response.json()
    return Referral.objects.get()


def test_appointment_request_creates_the_referral_and_answers_with_its_task(
    api, chain, key, request_bundle
):
    response = post_document(api, request_bundle, key=key)

    assert response.status_code == 201, response.json()
    assert response["Content-Type"].startswith("application/fhir+json")
    referral = Referral.objects.select_related("patient").get()
    assert response["Location"].endswith(f"/fhir/Task/{referral.public_id}")
    task = response.json()
    assert task["resourceType"] == "Task"
    assert task["focus"]["reference"] == f"ServiceRequest/{referral.public_id}"
    assert task["businessStatus"]["coding"][0]["code"] == "2.0"
    assert task["owner"]["identifier"]["value"] == chain.provider.agb
    assert task["requester"]["identifier"]["value"] == chain.practice_a.agb
    assert (referral.channel, referral.external_id) == ("zorgdomein", ZD_NUMBER)
    assert (referral.practice, referral.provider) == (chain.practice_a, chain.provider)
    assert (referral.referrer_name, referral.referrer_agb) == ("P. Jansen", REFERRER_AGB)
    assert "longontsteking" in referral.reason
    assert not referral.is_ketenzorg


def test_appointment_request_registers_the_patient_with_dutch_name_parts(api, key, referral):
    patient = referral.patient
    assert patient.bsn == BSN
    assert (patient.first_name, patient.initials, patient.name_prefix, patient.last_name) == (
        "Marieke",
        "M.J.",
        "de",
        "Vries",
    )
    assert str(patient.birth_date) == "1968-03-14"
    assert (patient.phone, patient.email) == ("06-12345678", "m.devries@example.nl")
    assert (patient.postal_code, patient.city) == ("4701 AB", "Roosendaal")


def test_smoking_profile_observations_fill_the_referral(referral):
    assert referral.cigarettes_per_day == 20
    assert referral.years_smoked == 30
    assert referral.earlier_quit_attempts == 2
    assert referral.motivation == "motivated"
    assert referral.pack_years == 30


def test_the_document_is_kept_as_received_with_title_and_plain_text(referral, request_bundle):
    document = ReferralDocument.objects.get(referral=referral)
    assert document.kind == "appointment-request"
    assert document.source_id == request_bundle["id"]
    assert document.title == "Afspraakbericht stoppen met roken"
    assert "Aanmelding voor begeleiding bij stoppen met roken." in document.text
    assert "<p>" not in document.text
    assert document.payload == request_bundle


def test_a_redelivered_appointment_request_is_the_same_referral(api, key, referral, request_bundle):
    response = post_document(api, request_bundle, key=key)

    assert response.status_code == 200
    assert response.json()["id"] == str(referral.public_id)
    assert response["Location"].endswith(f"/fhir/Task/{referral.public_id}")
    assert stored_counts() == (1, 1, 1)


def test_plain_json_content_type_is_accepted_too(api, key, request_bundle):
    response = post_document(api, request_bundle, key=key, content_type="application/json")
    assert response.status_code == 201


@pytest.mark.parametrize("kind", ["referral-letter", "supplement"])
def test_a_later_document_attaches_to_the_referral_with_that_zd_number(api, key, referral, kind):
    bundle = zorgdomein_document(kind)

    response = post_document(api, bundle, key=key)

    assert response.status_code == 201, response.json()
    assert response.json()["id"] == str(referral.public_id)
    document = referral.documents.get(kind=kind)
    assert document.source_id == bundle["id"]
    assert document.payload == bundle
    assert referral.events.filter(action="document").count() == 1


def test_a_redelivered_referral_letter_is_stored_once(api, key, referral):
    bundle = zorgdomein_document("referral-letter")
    assert post_document(api, bundle, key=key).status_code == 201

    response = post_document(api, bundle, key=key)

    assert response.status_code == 200
    assert referral.documents.filter(kind="referral-letter").count() == 1


def test_a_referral_letter_for_an_unknown_zd_number_is_refused(api, key, referral):
    before = stored_counts()

    response = post_document(
        api, zorgdomein_document("referral-letter", zd_number="ZD000000001"), key=key
    )

    assert response.status_code == 404
    issue = outcome_issue(response)
    assert issue["code"] == "not-found"
    assert "ZD000000001" in issue["diagnostics"]
    assert issue["expression"] == ["Bundle.entry[0].resource.identifier"]
    assert stored_counts() == before


def test_a_referral_letter_about_another_patient_is_refused(api, key, referral):
    before = stored_counts()

    response = post_document(api, zorgdomein_document("referral-letter", bsn=OTHER_BSN), key=key)

    assert response.status_code == 422
    assert outcome_issue(response)["code"] == "business-rule"
    assert stored_counts() == before


def test_a_practice_cannot_add_documents_to_another_practices_referral(api, chain, referral):
    response = post_document(
        api, zorgdomein_document("referral-letter"), key=intake_key(chain.practice_b)
    )

    assert response.status_code == 404
    assert referral.documents.count() == 1


def test_cancellation_asks_the_provider_to_cancel_with_the_reason(api, key, referral):
    bundle = zorgdomein_document("cancellation")

    response = post_document(api, bundle, key=key)

    assert response.status_code == 201, response.json()
    referral.refresh_from_db()
    assert referral.state == "cancellation_requested"
    assert "zelf gestopt met roken" in referral.cancel_reason
    task = response.json()
    assert task["businessStatus"]["coding"][0]["code"] == "5.2"
    assert "zelf gestopt met roken" in task["statusReason"]["text"]
    assert referral.documents.filter(kind="cancellation").count() == 1


def test_a_redelivered_cancellation_is_answered_without_a_second_request(api, key, referral):
    bundle = zorgdomein_document("cancellation")
    assert post_document(api, bundle, key=key).status_code == 201

    response = post_document(api, bundle, key=key)

    assert response.status_code == 200
    assert referral.events.filter(action="request_cancellation").count() == 1


def test_cancelling_a_closed_referral_stores_nothing(api, key, referral):
    Referral.objects.filter(pk=referral.pk).update(state="completed")
    before = stored_counts()

    response = post_document(api, zorgdomein_document("cancellation"), key=key)

    assert response.status_code == 422
    assert outcome_issue(response)["code"] == "business-rule"
    assert stored_counts() == before


def test_the_intake_is_audited_on_the_fhir_channel(referral):
    created = AuditEvent.objects.get(
        action="create", object_type="referrals.referral", object_id=str(referral.pk)
    )
    assert created.channel == "fhir"
    assert created.api_key
