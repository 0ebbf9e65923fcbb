"""Registering a patient never tells a practice whether the platform knows a BSN.

That the platform knows a BSN says the person is, or was, in stop-smoking care. A BSN known under
another practice is that patient changing GP: the record moves to the registering practice, and the
answer is the same as for a new patient (carechain/services.py).
"""

import datetime

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from audit.models import AuditEvent
from billing.models import BillingDecision
from carechain.models import Insurance, KetenzorgEnrolment, Patient, subtract_periods
from tests import factories
from tests.concurrency import at_once

D = datetime.date
URL = "/api/patients/"
KNOWN_BSN = "111222333"
NEW_BSN = "123456782"


def _body(chain, bsn, **overrides):
    body = {
        "bsn": bsn,
        "practice_agb": chain.practice_a.agb,
        "last_name": "Visser",
        "birth_date": "1960-01-01",
        "phone": "06-99998888",
        "insurances": [
            {"uzovi": chain.insurer_b.uzovi, "policy_number": "NEW-1", "valid_from": "2026-01-01"}
        ],
    }
    body.update(overrides)
    return body


@pytest.fixture
def known_elsewhere(chain):
    """A patient of practice B, insured with insurer A since 2024."""
    patient = factories.PatientFactory(
        bsn=KNOWN_BSN, practice=chain.practice_b, last_name="Geheim", email="geheim@example.nl"
    )
    factories.InsuranceFactory(patient=patient, insurer=chain.insurer_a, valid_from=D(2024, 1, 1))
    return patient


@pytest.fixture
def key_a(chain):
    return {"HTTP_AUTHORIZATION": f"Api-Key {factories.api_key(chain.practice_a)}"}


def _answer_shape(response):
    return response.status_code, sorted(response.data)


def test_a_bsn_known_at_another_practice_gets_the_answer_a_new_bsn_gets(
    api, chain, key_a, known_elsewhere
):
    new = api.post(URL, _body(chain, NEW_BSN), format="json", **key_a)
    known = api.post(URL, _body(chain, KNOWN_BSN), format="json", **key_a)

    assert new.status_code == 201, new.data
    assert _answer_shape(known) == _answer_shape(new)
    assert "already" not in str(known.data)


def test_the_patient_changes_gp_to_the_registering_practice(api, chain, key_a, known_elsewhere):
    response = api.post(URL, _body(chain, KNOWN_BSN), format="json", **key_a)

    assert response.status_code == 201, response.data
    patient = Patient.objects.get(bsn=KNOWN_BSN)
    assert patient.practice == chain.practice_a
    # the identity stays as stored; the contact details sent are current
    assert (patient.last_name, patient.birth_date) == ("Geheim", D(1970, 5, 17))
    assert (patient.phone, patient.email) == ("06-99998888", "geheim@example.nl")
    assert Patient.objects.count() == 1
    change = AuditEvent.objects.get(patient_id=patient.pk, action=AuditEvent.Action.CHANGE)
    assert change.detail.startswith(f"registration by {chain.practice_a.agb}: practice,phone")
    assert change.api_key


def test_the_old_practice_no_longer_sees_a_patient_who_changed_gp(
    api, chain, key_a, known_elsewhere
):
    key_b = {"HTTP_AUTHORIZATION": f"Api-Key {factories.api_key(chain.practice_b)}"}
    api.post(URL, _body(chain, KNOWN_BSN), format="json", **key_a)

    assert api.get(f"{URL}{known_elsewhere.public_id}/", **key_b).status_code == 404
    assert api.get(f"{URL}{known_elsewhere.public_id}/", **key_a).status_code == 200


def test_the_insurer_sent_replaces_the_stored_one_from_its_start(
    api, chain, key_a, known_elsewhere
):
    api.post(URL, _body(chain, KNOWN_BSN), format="json", **key_a)

    periods = [
        (i.insurer, i.valid_from, i.valid_to)
        for i in Insurance.objects.filter(patient=known_elsewhere).order_by("valid_from")
    ]
    assert periods == [
        (chain.insurer_a, D(2024, 1, 1), D(2025, 12, 31)),
        (chain.insurer_b, D(2026, 1, 1), None),
    ]


def test_a_billed_insurance_period_stays_and_the_sent_period_gives_way(
    api, chain, key_a, known_elsewhere
):
    billed = known_elsewhere.insurances.get()
    billed.valid_to = D(2024, 12, 31)
    billed.save()
    trajectory = factories.TrajectoryFactory(referral__patient=known_elsewhere)
    BillingDecision.objects.create(
        trajectory=trajectory,
        route="insurer",
        reason="regular patient",
        reference_date=D(2024, 6, 1),
        insurance=billed,
    )
    insurances = [
        {"uzovi": chain.insurer_b.uzovi, "policy_number": "X", "valid_from": "2023-01-01"}
    ]

    response = api.post(URL, _body(chain, KNOWN_BSN, insurances=insurances), format="json", **key_a)

    assert response.status_code == 201, response.data
    periods = [
        (i.insurer, i.valid_from, i.valid_to)
        for i in Insurance.objects.filter(patient=known_elsewhere).order_by("valid_from")
    ]
    assert periods == [
        (chain.insurer_b, D(2023, 1, 1), D(2023, 12, 31)),
        (chain.insurer_a, D(2024, 1, 1), D(2024, 12, 31)),
        (chain.insurer_b, D(2025, 1, 1), None),
    ]
    assert BillingDecision.objects.get().insurance == billed


def test_enrolments_are_with_the_new_practice_zorggroep(chain, key_a, api):
    patient = factories.PatientFactory(bsn=KNOWN_BSN, practice=chain.practice_other_zorggroep)
    factories.KetenzorgEnrolmentFactory(patient=patient, start=D(2022, 1, 1))
    body = _body(
        chain, KNOWN_BSN, ketenzorg_enrolments=[{"programme": "dm2", "start": "2026-02-01"}]
    )

    assert api.post(URL, body, format="json", **key_a).status_code == 201

    enrolments = [
        (e.zorggroep, e.start, e.end) for e in KetenzorgEnrolment.objects.order_by("start")
    ]
    assert enrolments == [
        (chain.practice_other_zorggroep.zorggroep, D(2022, 1, 1), D(2026, 1, 31)),
        (chain.zorggroep, D(2026, 2, 1), None),
    ]


@pytest.mark.parametrize(
    "overrides",
    [
        {"birth_date": "2999-01-01"},
        {"last_name": ""},
        {
            "insurances": [
                {"uzovi": "REPLACE", "policy_number": "1", "valid_from": "2024-01-01"},
                {"uzovi": "REPLACE", "policy_number": "2", "valid_from": "2025-01-01"},
            ]
        },
    ],
)
def test_bad_input_gets_the_same_errors_whether_the_bsn_is_known_or_not(
    api, chain, key_a, known_elsewhere, overrides
):
    for insurance in overrides.get("insurances", []):
        insurance["uzovi"] = chain.insurer_a.uzovi
    new = api.post(URL, _body(chain, NEW_BSN, **overrides), format="json", **key_a)
    known = api.post(URL, _body(chain, KNOWN_BSN, **overrides), format="json", **key_a)

    assert new.status_code == 400
    assert (known.status_code, known.data) == (new.status_code, new.data)
    known_elsewhere.refresh_from_db()
    assert known_elsewhere.practice == chain.practice_b
    assert known_elsewhere.insurances.count() == 1
    assert not Patient.objects.filter(bsn=NEW_BSN).exists()


def test_a_bsn_already_registered_at_your_own_practice_is_a_field_error(api, chain, key_a):
    mine = factories.PatientFactory(bsn=KNOWN_BSN, practice=chain.practice_a, phone="06-1")

    response = api.post(URL, _body(chain, KNOWN_BSN), format="json", **key_a)

    assert response.status_code == 400
    assert "bsn" in response.data
    mine.refresh_from_db()
    assert mine.phone == "06-1"
    assert not mine.insurances.exists()


def _form(bsn):
    return {
        "bsn": bsn,
        "last_name": "Visser",
        "birth_date": "1960-01-01",
        "gender": "female",
        "best_time_to_call": "morning",
        "ins-TOTAL_FORMS": "0",
        "ins-INITIAL_FORMS": "0",
        "enr-TOTAL_FORMS": "0",
        "enr-INITIAL_FORMS": "0",
    }


def test_the_patient_form_answers_a_known_bsn_as_a_new_one(client, poh, chain, known_elsewhere):
    client.force_login(poh)

    new = client.post(reverse("patient-create"), _form(NEW_BSN))
    known = client.post(reverse("patient-create"), _form(KNOWN_BSN))

    assert new.status_code == known.status_code == 302
    assert known["Location"] == reverse("patient-detail", args=[known_elsewhere.pk])
    known_elsewhere.refresh_from_db()
    assert known_elsewhere.practice == chain.practice_a


def test_the_patient_form_says_when_the_patient_is_already_yours(client, poh, chain):
    factories.PatientFactory(bsn=KNOWN_BSN, practice=chain.practice_a)
    client.force_login(poh)

    response = client.post(reverse("patient-create"), _form(KNOWN_BSN))

    assert response.status_code == 200
    assert "al ingeschreven" in response.content.decode()
    assert Patient.objects.count() == 1


def test_a_referral_for_a_patient_of_another_practice_moves_the_patient(
    api, chain, key_a, known_elsewhere
):
    from tests.referrals.api_support import referral_body

    body = referral_body(chain.practice_a)
    body["patient"]["bsn"] = KNOWN_BSN
    response = api.post("/api/referrals/", body, format="json", **key_a)

    assert response.status_code == 201, response.data
    known_elsewhere.refresh_from_db()
    assert known_elsewhere.practice == chain.practice_a
    assert known_elsewhere.last_name == "Geheim"


@pytest.mark.parametrize(
    ("period", "others", "left"),
    [
        ((D(2024, 1, 1), None), [(D(2026, 1, 1), None)], [(D(2024, 1, 1), D(2025, 12, 31))]),
        ((D(2024, 1, 1), D(2024, 12, 31)), [(D(2023, 1, 1), None)], []),
        (
            (D(2024, 1, 1), None),
            [(D(2024, 3, 1), D(2024, 3, 31))],
            [(D(2024, 1, 1), D(2024, 2, 29)), (D(2024, 4, 1), None)],
        ),
        (
            (D(2024, 1, 1), D(2024, 1, 31)),
            [(D(2025, 1, 1), None)],
            [(D(2024, 1, 1), D(2024, 1, 31))],
        ),
        (
            (D(2024, 1, 1), D(2024, 1, 31)),
            [(D(2024, 1, 31), D(2024, 1, 31))],
            [(D(2024, 1, 1), D(2024, 1, 30))],
        ),
    ],
)
def test_what_remains_of_a_period(period, others, left):
    assert subtract_periods(period, others) == left


@pytest.mark.django_db(transaction=True)
def test_two_registrations_of_one_new_bsn_at_once_make_one_patient(postgresql_only, chain):
    key = {"HTTP_AUTHORIZATION": f"Api-Key {factories.api_key(chain.practice_a)}"}

    def register():
        response = APIClient().post(URL, _body(chain, NEW_BSN), format="json", **key)
        return response.status_code

    statuses = at_once(register)

    assert sorted(statuses) == [201, 400]
    assert Patient.objects.filter(bsn=NEW_BSN).count() == 1
    assert Insurance.objects.count() == 1
