"""KIS referrals are routed in bulk (one statement per zorggroep) with exactly the decision and
lines the one-by-one ``billing_decide`` writes; what the bulk cannot settle is left to it."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import BillingDecision, BillingException, InvoiceLine, Tariff
from billing.services import billing_collect, billing_decide
from pathways.models import Contact
from tests import factories
from tests.concurrency import at_once

from .test_routing import ended_trajectory

LINE_FIELDS = (
    "zorggroep_id",
    "prestatie__code",
    "kind",
    "amount",
    "patient_name",
    "patient_bsn",
    "patient_birth_date",
    "practice_name",
    "start_date",
    "end_date",
    "over_budget",
    "invoice_id",
)


def _lines(trajectory):
    return sorted(
        InvoiceLine.objects.filter(trajectory=trajectory).values_list(*LINE_FIELDS),
        key=lambda line: line[1],
    )


def _twins(chain, coach, **kwargs):
    """Two KIS trajectories of patients with the same names and dates."""
    made = []
    for _ in range(2):
        patient = factories.PatientFactory(
            practice=chain.practice_a,
            first_name="",
            initials="J.",
            name_prefix="van der",
            last_name="Berg",
            birth_date=datetime.date(1960, 5, 1),
        )
        trajectory = ended_trajectory(chain, coach, channel="kis", patient=patient, **kwargs)
        trajectory.refresh_from_db()
        made.append(trajectory)
    return made


def _add_contact(trajectory, coach, medication):
    Contact.objects.create(
        trajectory=trajectory,
        kind="phone",
        date=trajectory.intake_date,
        duration_minutes=10,
        coach=coach,
        smoking_status="smoke_free",
        medication=medication,
    )


def test_bulk_routing_writes_the_decision_and_lines_billing_decide_writes(chain, coach, prestaties):
    one, other = _twins(chain, coach)
    for trajectory in (one, other):
        _add_contact(trajectory, coach, ["varenicline"])
    billing_decide(trajectory_id=one.pk)
    assert billing_collect() == {"decided": 1, "skipped": 0}
    fields = ("route", "reason", "reference_date", "zorggroep_id", "insurance_id")
    by_one, by_bulk = (
        BillingDecision.objects.filter(trajectory=t).values(*fields).get() for t in (one, other)
    )
    assert by_one == by_bulk
    assert by_bulk["route"] == "zorggroep" and "KIS" in by_bulk["reason"]
    assert _lines(other) == [
        line[:5] + (line[5].replace(one.patient.bsn, other.patient.bsn),) + line[6:]
        for line in _lines(one)
    ]
    assert [line[1] for line in _lines(other)] == ["SMR01", "SMR02", "SMR03"]
    assert _lines(other)[0][4] == "J. van der Berg"


def test_bulk_routing_bills_no_supplement_without_its_medication(chain, coach, prestaties):
    (trajectory,) = _twins(chain, coach, medication=())[:1]
    billing_collect()
    assert [line[1] for line in _lines(trajectory)] == ["SMR01"]


def test_a_kis_trajectory_without_a_tariff_becomes_the_same_exception_as_before(
    chain, coach, prestaties
):
    one, other = _twins(chain, coach)
    Tariff.objects.filter(zorggroep=chain.zorggroep, prestatie=prestaties["nrt"]).delete()
    billing_decide(trajectory_id=one.pk)
    billing_collect()
    for trajectory in (one, other):
        assert BillingDecision.objects.get(trajectory=trajectory).route == "exception"
        assert BillingException.objects.get(trajectory=trajectory).reason == "no_tariff"
    assert not InvoiceLine.objects.exists()


def test_bulk_routing_runs_the_same_statements_for_one_or_many(chain, coach, prestaties):
    ended_trajectory(chain, coach, channel="kis")
    with CaptureQueriesContext(connection) as one:
        assert billing_collect()["decided"] == 1
    for _ in range(4):
        ended_trajectory(chain, coach, channel="kis")
    with CaptureQueriesContext(connection) as four:
        assert billing_collect()["decided"] == 4
    assert len(four.captured_queries) == len(one.captured_queries)
    assert billing_collect() == {"decided": 0, "skipped": 0}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_routing_kis_at_once_decide_each_once(
    postgresql_only, chain, coach, prestaties
):
    trajectories = [ended_trajectory(chain, coach, channel="kis") for _ in range(4)]
    results = at_once(billing_collect)
    assert sum(r["decided"] for r in results) == 4
    assert BillingDecision.objects.count() == 4
    assert InvoiceLine.objects.count() == 8
    assert {line.trajectory_id for line in InvoiceLine.objects.all()} == {
        t.pk for t in trajectories
    }
