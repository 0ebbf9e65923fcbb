"""The closed loop over FHIR: the referrer reads where its referral stands, and only its own."""

import pytest

from audit.models import AuditEvent
from carechain.access import Actor
from carechain.models import OrganisationAPIKey
from referrals import services
from tests import factories

from .fhir_samples import AGB_SYSTEM, BSN_SYSTEM, ZD_NUMBER, ZD_NUMBER_SYSTEM, auth, outcome_issue

BSER = "http://hl7.org/fhir/us/bser/CodeSystem/TaskBusinessStatusCS"


@pytest.fixture
def referral(chain):
    """A ZorgDomein referral of practice A to the zorggroep's provider."""
    return factories.ReferralFactory(
        patient=factories.PatientFactory(practice=chain.practice_a),
        channel="zorgdomein",
        external_id=ZD_NUMBER,
    )


@pytest.fixture
def key_a(chain):
    return factories.api_key(chain.practice_a)


def get_task(api, referral, key):
    return api.get(f"/fhir/Task/{referral.public_id}", **auth(key))


def business_status(response) -> tuple[str, str, str]:
    task = response.json()
    coding = task["businessStatus"]["coding"][0]
    assert coding["system"] == BSER
    return task["status"], coding["code"], coding["display"]


def test_a_new_referral_reads_as_a_received_bser_task(api, chain, referral, key_a):
    response = get_task(api, referral, key_a)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    task = response.json()
    assert task["resourceType"] == "Task"
    assert task["id"] == str(referral.public_id)
    assert business_status(response) == ("received", "2.0", "Referral Created")
    assert task["focus"]["reference"] == f"ServiceRequest/{referral.public_id}"
    assert task["owner"]["identifier"] == {"system": AGB_SYSTEM, "value": chain.provider.agb}
    assert task["requester"]["identifier"] == {"system": AGB_SYSTEM, "value": chain.practice_a.agb}
    assert task["for"]["identifier"] == {"system": BSN_SYSTEM, "value": referral.patient.bsn}
    assert {"system": ZD_NUMBER_SYSTEM, "value": ZD_NUMBER} in task["identifier"]
    assert task["lastModified"]
    assert "statusReason" not in task


def test_an_accepted_referral_reads_as_accepted(api, referral, key_a, coach):
    services.referral_accept(actor=Actor.for_user(coach), referral_id=referral.pk)

    assert business_status(get_task(api, referral, key_a)) == (
        "accepted",
        "3.0",
        "Referral Accepted",
    )


def test_a_declined_referral_tells_the_referrer_why(api, referral, key_a, planner):
    services.referral_decline(
        actor=Actor.for_user(planner),
        referral_id=referral.pk,
        reason="not_in_region",
        note="Patiënt woont in Zeeland; verwezen naar regionale aanbieder.",
    )

    response = get_task(api, referral, key_a)

    assert business_status(response) == ("rejected", "4.0", "Referral Declined")
    reason = response.json()["statusReason"]
    assert reason["coding"][0]["code"] == "not_in_region"
    assert reason["text"] == "Patiënt woont in Zeeland; verwezen naar regionale aanbieder."
    assert response.json()["executionPeriod"]["end"]


def test_a_confirmed_cancellation_reads_as_cancelled_with_the_reason(
    api, chain, referral, key_a, coach
):
    practice_system = Actor.for_api_key(OrganisationAPIKey.objects.get(), channel="fhir", ip=None)
    services.referral_request_cancellation(
        actor=practice_system, referral_id=referral.pk, reason="Patiënt is zelf gestopt."
    )
    services.referral_confirm_cancellation(actor=Actor.for_user(coach), referral_id=referral.pk)

    response = get_task(api, referral, key_a)

    assert business_status(response) == ("cancelled", "6.0", "Referral Cancelled")
    assert response.json()["statusReason"]["text"] == "Patiënt is zelf gestopt."


def test_reading_a_task_is_audited_on_the_fhir_channel(api, referral, key_a):
    get_task(api, referral, key_a)

    event = AuditEvent.objects.get(action="view")
    assert (event.channel, event.patient_id) == ("fhir", referral.patient_id)
    assert (event.object_type, event.object_id) == ("referrals.referral", str(referral.pk))
    assert event.api_key


def test_the_service_request_describes_the_referral(api, chain, referral, key_a):
    response = api.get(f"/fhir/ServiceRequest/{referral.public_id}", **auth(key_a))

    assert response.status_code == 200
    request = response.json()
    assert request["resourceType"] == "ServiceRequest"
    assert request["status"] == "active"
    assert request["performer"][0]["identifier"]["value"] == chain.provider.agb
    assert request["reasonCode"][0]["text"] == referral.reason
    assert AuditEvent.objects.filter(action="view", channel="fhir").count() == 1


@pytest.mark.parametrize(
    "query",
    [
        "focus=ServiceRequest/{pk}",
        "_id={pk}",
        f"identifier={ZD_NUMBER}",
        f"identifier={ZD_NUMBER_SYSTEM}|{ZD_NUMBER}",
    ],
)
def test_the_referrer_finds_the_task_by_focus_id_or_zd_number(api, referral, key_a, query):
    response = api.get(f"/fhir/Task?{query.format(pk=referral.public_id)}", **auth(key_a))

    assert response.status_code == 200
    bundle = response.json()
    assert (bundle["resourceType"], bundle["type"], len(bundle["entry"])) == (
        "Bundle",
        "searchset",
        1,
    )
    entry = bundle["entry"][0]
    assert entry["resource"]["id"] == str(referral.public_id)
    assert entry["fullUrl"].endswith(f"/fhir/Task/{referral.public_id}")
    assert AuditEvent.objects.filter(action="list", channel="fhir").count() == 1


def test_searching_tasks_needs_a_search_parameter(api, key_a):
    response = api.get("/fhir/Task", **auth(key_a))

    assert response.status_code == 400
    assert outcome_issue(response)["code"] == "required"


def test_the_zorggroep_kis_sees_the_referrals_of_its_practices(api, chain, referral):
    response = get_task(api, referral, factories.api_key(chain.zorggroep))
    assert response.status_code == 200


def test_another_practice_gets_not_found_for_the_task(api, chain, referral):
    key_b = factories.api_key(chain.practice_b)

    task = get_task(api, referral, key_b)
    request = api.get(f"/fhir/ServiceRequest/{referral.public_id}", **auth(key_b))
    search = api.get(f"/fhir/Task?focus=ServiceRequest/{referral.public_id}", **auth(key_b))

    assert (task.status_code, request.status_code) == (404, 404)
    assert outcome_issue(task)["code"] == "not-found"
    assert "entry" not in search.json()
    assert not AuditEvent.objects.filter(action__in=["view", "list"]).exists()


def test_a_zorggroep_does_not_see_another_zorggroeps_referrals(api, chain):
    elsewhere = factories.ReferralFactory(
        patient=factories.PatientFactory(practice=chain.practice_other_zorggroep)
    )

    response = get_task(api, elsewhere, factories.api_key(chain.zorggroep))

    assert response.status_code == 404


def test_an_insurer_key_may_not_read_referral_status(api, chain, referral):
    key = factories.api_key(chain.insurer_a, purpose=OrganisationAPIKey.Purpose.CLAIMS)

    response = get_task(api, referral, key)

    assert response.status_code == 403
    assert outcome_issue(response)["code"] == "forbidden"


@pytest.mark.parametrize("task_id", ["999999", "abc", "²", "9" * 40])
def test_an_unknown_task_is_not_found(api, key_a, task_id):
    response = api.get(f"/fhir/Task/{task_id}", **auth(key_a))

    assert response.status_code == 404
    assert outcome_issue(response)["code"] == "not-found"


def test_reading_a_task_needs_an_api_key(api, referral):
    response = api.get(f"/fhir/Task/{referral.public_id}")

    assert response.status_code == 401
    assert outcome_issue(response)["code"] == "login"


def test_a_browser_referral_without_referrer_details_reads_as_well(api, chain, key_a):
    referral = factories.ReferralFactory(
        patient=factories.PatientFactory(practice=chain.practice_a),
        referrer_agb="01012345",
        referrer_name="",
        reason="",
    )

    task = get_task(api, referral, key_a)
    request = api.get(f"/fhir/ServiceRequest/{referral.public_id}", **auth(key_a))

    assert (task.status_code, request.status_code) == (200, 200)
    assert [i["value"] for i in task.json()["identifier"]] == [str(referral.public_id)]
    assert request.json()["requester"] == {
        "type": "Practitioner",
        "identifier": {"system": AGB_SYSTEM, "value": "01012345"},
    }
    assert "reasonCode" not in request.json()
