"""Structured feedback: every feedback letter is also a FHIR document Bundle in the Task's output,
read by the referrer's systems only, audited, and never carrying the POH-GGZ's content."""

import base64
import datetime
import io

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from pypdf import PdfReader

from audit.models import AuditEvent
from carechain.access import Actor
from carechain.models import OrganisationAPIKey
from pathways import services
from referrals.models import FeedbackLetter
from tests import factories

from .fhir_samples import BSN_SYSTEM, auth, outcome_issue

TODAY = datetime.date.today()
LOINC, SNOMED = "http://loinc.org", "http://snomed.info/sct"
ATC = "http://www.whocc.no/atc"
SESSION_NOTE = "SESSIE-NOTITIE-7781 angstig voor terugval"
EXPLANATION = "UITLEG-3390 somber sinds de scheiding"
REPORT = "TERUGKOPPELING-GGZ-2204 piekeren minder"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def key_a(chain):
    return factories.api_key(chain.practice_a)


@pytest.fixture
def patient(chain):
    return factories.PatientFactory(practice=chain.practice_a)


def full_trajectory(coach, poh_ggz, patient):
    """Intake, escalation with GGZ sessions, back, a contact with CO, end of treatment."""
    trajectory = factories.trajectory_in("counselling", coach=coach, referral__patient=patient)
    coach_actor, ggz_actor = Actor.for_user(coach), Actor.for_user(poh_ggz)
    escalation = services.trajectory_escalate(
        actor=coach_actor, trajectory_id=trajectory.pk, reason="thoughts", explanation=EXPLANATION
    )
    services.escalation_record_session(
        actor=ggz_actor,
        escalation_id=escalation.pk,
        date=TODAY,
        duration_minutes=45,
        notes=SESSION_NOTE,
    )
    services.escalation_report_back(actor=ggz_actor, escalation_id=escalation.pk, report=REPORT)
    services.trajectory_record_contact(
        actor=coach_actor,
        trajectory_id=trajectory.pk,
        kind="phone",
        date=TODAY,
        duration_minutes=15,
        smoking_status="smoke_free",
        co_ppm=3,
        medication=["nrt_patch", "varenicline"],
    )
    services.trajectory_end_treatment(
        actor=coach_actor,
        trajectory_id=trajectory.pk,
        end_date=TODAY,
        result="smoke_free",
        co_ppm=4,
    )
    return trajectory


def get_task(api, referral, key):
    return api.get(f"/fhir/Task/{referral.public_id}", **auth(key))


def bundles_of(api, task: dict, key) -> dict[str, dict]:
    """The Bundle of every Task.output, by feedback moment."""
    found = {}
    for output in task["output"]:
        response = api.get(f"/fhir/{output['valueReference']['reference']}", **auth(key))
        assert response.status_code == 200, response.json()
        found[output["type"]["coding"][0]["code"]] = response.json()
    return found


def resources(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def observation(bundle: dict, system: str, code: str) -> dict:
    (found,) = [
        o
        for o in resources(bundle, "Observation")
        if {"system": system, "code": code}.items() <= o["code"]["coding"][0].items()
    ]
    return found


def assert_valid_fhir(bundle: dict) -> None:
    """The Bundle and every resource in it validate with fhir.resources (R4B)."""
    Bundle.model_validate(bundle)
    for entry in bundle["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        assert entry["fullUrl"] == f"urn:uuid:{resource['id']}"


def test_every_feedback_moment_is_a_document_bundle_in_the_task_output(
    api, coach, poh_ggz, patient, key_a
):
    trajectory = full_trajectory(coach, poh_ggz, patient)

    task = get_task(api, trajectory.referral, key_a).json()
    bundles = bundles_of(api, task, key_a)

    assert set(bundles) == {
        "intake_done",
        "escalated",
        "escalation_returned",
        "end_of_treatment",
    }
    for bundle in bundles.values():
        assert_valid_fhir(bundle)
        assert bundle["type"] == "document"
        composition = bundle["entry"][0]["resource"]
        assert composition["resourceType"] == "Composition"
        assert composition["subject"]["identifier"] == {"system": BSN_SYSTEM, "value": patient.bsn}
        assert composition["section"][0]["focus"]["reference"] == (
            f"ServiceRequest/{trajectory.referral.public_id}"
        )
        (document,) = resources(bundle, "DocumentReference")
        assert document["content"][0]["attachment"]["contentType"] == "application/pdf"
        referenced = {e["reference"] for e in composition["section"][0]["entry"]}
        assert referenced == {e["fullUrl"] for e in bundle["entry"][1:]}


def test_the_intake_bundle_codes_smoking_status_quit_date_and_planned_medication(
    api, coach, patient, key_a
):
    trajectory = factories.trajectory_in("intake_done", coach=coach, referral__patient=patient)

    task = get_task(api, trajectory.referral, key_a).json()
    intake = bundles_of(api, task, key_a)["intake_done"]

    status = observation(intake, LOINC, "72166-2")
    assert status["valueCodeableConcept"]["coding"][0]["code"] == "77176002"  # smoker
    assert observation(intake, SNOMED, "390901002")["valueDateTime"] == TODAY.isoformat()
    (medication,) = resources(intake, "MedicationStatement")
    codes = {(c["system"], c["code"]) for c in medication["medicationCodeableConcept"]["coding"]}
    assert codes == {(ATC, "N07BA01"), (SNOMED, "151159008")}
    assert medication["status"] == "intended"


def test_the_end_of_treatment_bundle_gives_outcome_co_contacts_and_medication(
    api, coach, poh_ggz, patient, key_a
):
    trajectory = full_trajectory(coach, poh_ggz, patient)

    end = bundles_of(api, get_task(api, trajectory.referral, key_a).json(), key_a)[
        "end_of_treatment"
    ]

    status = observation(end, LOINC, "72166-2")
    assert status["valueCodeableConcept"]["coding"][0]["code"] == "8517006"  # ex-smoker
    co = [o for o in resources(end, "Observation") if "valueQuantity" in o]
    assert [(o["valueQuantity"]["value"], o["valueQuantity"]["code"]) for o in co] == [(4, "[ppm]")]
    contacts = [o for o in resources(end, "Observation") if "valueInteger" in o]
    assert [o["valueInteger"] for o in contacts] == [trajectory.contacts.count()]
    taken = {
        m["medicationCodeableConcept"]["coding"][0]["code"]: m["status"]
        for m in resources(end, "MedicationStatement")
    }
    assert taken == {"N07BA01": "completed", "N07BA03": "completed"}


def test_the_escalation_is_only_its_fact_and_date_never_the_poh_ggz_content(
    api, coach, poh_ggz, patient, key_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        trajectory = full_trajectory(coach, poh_ggz, patient)
    assert not FeedbackLetter.objects.exclude(status="sent").exists()  # every PDF is in its Bundle

    bundles = bundles_of(api, get_task(api, trajectory.referral, key_a).json(), key_a)

    escalated = bundles["escalated"]
    assert [o["valueDateTime"] for o in resources(escalated, "Observation")] == [TODAY.isoformat()]
    for moment, bundle in bundles.items():
        (document,) = resources(bundle, "DocumentReference")
        pdf = base64.b64decode(document["content"][0]["attachment"]["data"])
        letter_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
        everything = str(bundle) + letter_text
        for secret in (SESSION_NOTE, EXPLANATION, REPORT):
            assert secret not in everything, (moment, secret)
        assert "thoughts" not in str(bundle)  # not even the reason for escalating


def test_care_stopped_by_the_poh_ggz_does_not_quote_her_in_letter_or_bundle(
    api, coach, poh_ggz, patient, key_a
):
    trajectory = factories.trajectory_in("escalated", coach=coach, referral__patient=patient)
    services.escalation_stop_care(
        actor=Actor.for_user(poh_ggz),
        escalation_id=trajectory.escalations.get().pk,
        reason=REPORT,
    )

    letter = FeedbackLetter.objects.get(kind="care_stopped")
    bundle = bundles_of(api, get_task(api, trajectory.referral, key_a).json(), key_a)[
        "care_stopped"
    ]

    assert REPORT not in str(letter.facts) and REPORT not in str(bundle)
    assert_valid_fhir(bundle)


def test_reading_a_feedback_bundle_is_audited(api, coach, patient, key_a):
    trajectory = factories.trajectory_in("intake_done", coach=coach, referral__patient=patient)
    letter = trajectory.referral.letters.get(kind="intake_done")

    response = api.get(f"/fhir/Bundle/{letter.public_id}", **auth(key_a))

    assert response.status_code == 200
    event = AuditEvent.objects.get(action="view", detail="FHIR feedback Bundle")
    assert (event.channel, event.patient_id) == ("fhir", patient.pk)
    assert event.api_key


def test_another_organisation_gets_not_found_for_the_bundle(api, chain, coach, patient):
    trajectory = factories.trajectory_in("intake_done", coach=coach, referral__patient=patient)
    letter = trajectory.referral.letters.get(kind="intake_done")
    elsewhere = factories.api_key(chain.practice_b)

    response = api.get(f"/fhir/Bundle/{letter.public_id}", **auth(elsewhere))

    assert response.status_code == 404
    assert outcome_issue(response)["code"] == "not-found"
    assert not AuditEvent.objects.filter(action="view").exists()


@pytest.mark.parametrize("bundle_id", ["1", "not-a-uuid", "00000000-0000-4000-8000-000000000000"])
def test_an_unknown_bundle_is_an_operation_outcome_404(api, key_a, bundle_id):
    response = api.get(f"/fhir/Bundle/{bundle_id}", **auth(key_a))

    assert response.status_code == 404
    assert outcome_issue(response)["code"] == "not-found"


def test_a_feedback_key_reads_tasks_and_bundles_but_cannot_refer(api, chain, coach, patient):
    trajectory = factories.trajectory_in("intake_done", coach=coach, referral__patient=patient)
    key = factories.api_key(chain.practice_a, purpose=OrganisationAPIKey.Purpose.FEEDBACK)

    task = get_task(api, trajectory.referral, key)
    bundles = bundles_of(api, task.json(), key)
    referral = api.post("/fhir/Bundle", {}, format="json", **auth(key))
    rest = api.get("/api/patients/", **auth(key))

    assert task.status_code == 200 and "intake_done" in bundles
    assert referral.status_code == 403
    assert outcome_issue(referral)["code"] == "forbidden"
    assert rest.status_code == 403


def test_ids_sent_outside_are_not_database_ids(api, coach, patient, key_a):
    trajectory = factories.trajectory_in("intake_done", coach=coach, referral__patient=patient)
    referral = trajectory.referral

    task = get_task(api, referral, key_a).json()

    assert task["id"] == str(referral.public_id)
    assert str(referral.pk) not in [i["value"] for i in task["identifier"]]
    for output in task["output"]:
        letter_id = output["valueReference"]["reference"].removeprefix("Bundle/")
        assert FeedbackLetter.objects.get(public_id=letter_id).referral == referral
