"""Routing is a compliance rule: ketenzorg to the zorggroep, regular to the insurer, never both."""

import datetime

import pytest

from billing.models import BillingDecision, BillingException, Claim, InvoiceLine
from billing.services import billing_collect, billing_decide
from tests import factories
from tests.concurrency import at_once

D = datetime.date
MARCH_2 = D(2026, 3, 2)
LONG_AGO = D(2020, 1, 1)


def ended_trajectory(
    chain,
    coach,
    *,
    intake=MARCH_2,
    channel="web",
    is_ketenzorg=False,
    medication=("nrt_patch",),
    patient=None,
    state="end_of_treatment",
):
    from carechain.access import Actor
    from pathways import services

    patient = patient or factories.PatientFactory(practice=chain.practice_a)
    trajectory = factories.trajectory_in(
        "intake_planned",
        coach=coach,
        referral__patient=patient,
        referral__channel=channel,
        referral__is_ketenzorg=is_ketenzorg,
    )
    actor = Actor.for_user(coach)
    services.trajectory_record_intake(
        actor=actor,
        trajectory_id=trajectory.pk,
        intake_date=intake,
        duration_minutes=45,
        cigarettes_per_day=20,
        years_smoked=20,
        earlier_quit_attempts=0,
        is_motivated=True,
        medication_plan=list(medication),
        quit_date=intake,
    )
    if state == "stopped_unmotivated":
        services.trajectory_stop_unmotivated(
            actor=actor, trajectory_id=trajectory.pk, reason="Geen zin"
        )
    else:
        services.trajectory_start_counselling(actor=actor, trajectory_id=trajectory.pk)
        services.trajectory_end_treatment(
            actor=actor,
            trajectory_id=trajectory.pk,
            end_date=intake + datetime.timedelta(days=70),
            result="smoke_free",
        )
    return trajectory


def insured(chain, patient, insurer=None, start=LONG_AGO, end=None):
    return factories.InsuranceFactory(
        patient=patient, insurer=insurer or chain.insurer_a, valid_from=start, valid_to=end
    )


def test_kis_referral_is_invoiced_to_the_zorggroep_never_claimed(chain, coach, prestaties):
    patient = factories.PatientFactory(practice=chain.practice_a)
    insured(chain, patient)
    trajectory = ended_trajectory(chain, coach, channel="kis", patient=patient)
    decision = billing_decide(trajectory_id=trajectory.pk)
    assert decision.route == "zorggroep" and "KIS" in decision.reason
    lines = InvoiceLine.objects.filter(trajectory=trajectory)
    assert sorted(line.prestatie.code for line in lines) == ["SMR01", "SMR02"]
    assert sum(line.amount for line in lines) == 258 + 85
    assert not Claim.objects.exists()


def test_enrolled_ketenzorg_patient_goes_to_the_zorggroep(chain, coach, prestaties):
    patient = factories.PatientFactory(practice=chain.practice_a)
    insured(chain, patient)
    factories.KetenzorgEnrolmentFactory(patient=patient, programme="copd", start=D(2025, 6, 1))
    trajectory = ended_trajectory(chain, coach, patient=patient)
    decision = billing_decide(trajectory_id=trajectory.pk)
    assert decision.route == "zorggroep" and "COPD" in decision.reason
    assert not Claim.objects.exists()


def test_enrolment_ended_before_the_intake_means_a_regular_claim(chain, coach, prestaties):
    patient = factories.PatientFactory(practice=chain.practice_a)
    insured(chain, patient)
    factories.KetenzorgEnrolmentFactory(patient=patient, start=D(2024, 1, 1), end=D(2026, 3, 1))
    trajectory = ended_trajectory(chain, coach, patient=patient, intake=D(2026, 3, 2))
    assert billing_decide(trajectory_id=trajectory.pk).route == "insurer"


def test_regular_patient_is_claimed_from_the_insurer_with_only_claim_data(chain, coach, prestaties):
    patient = factories.PatientFactory(practice=chain.practice_a)
    policy = insured(chain, patient)
    trajectory = ended_trajectory(chain, coach, patient=patient, medication=("varenicline",))
    decision = billing_decide(trajectory_id=trajectory.pk)
    assert decision.route == "insurer" and chain.insurer_a.uzovi in decision.reason
    claims = Claim.objects.filter(trajectory=trajectory).order_by("prestatie_code")
    assert [c.prestatie_code for c in claims] == ["SMR01", "SMR03"]
    claim = claims[0]
    assert (claim.bsn, claim.uzovi, claim.policy_number) == (
        patient.bsn,
        chain.insurer_a.uzovi,
        policy.policy_number,
    )
    assert claim.provider_agb == chain.provider.agb
    assert not InvoiceLine.objects.exists()


def test_no_insurance_on_the_intake_date_is_an_exception_not_a_guess(chain, coach, prestaties):
    patient = factories.PatientFactory(practice=chain.practice_a)
    insured(chain, patient, start=D(2026, 4, 1))
    trajectory = ended_trajectory(chain, coach, patient=patient, intake=D(2026, 3, 2))
    assert billing_decide(trajectory_id=trajectory.pk).route == "exception"
    assert BillingException.objects.get().reason == "no_insurance"
    assert not Claim.objects.exists() and not InvoiceLine.objects.exists()


def test_insurer_change_on_1_january_uses_the_insurer_of_the_intake_date(chain, coach, prestaties):
    patient = factories.PatientFactory(practice=chain.practice_a)
    insured(chain, patient, insurer=chain.insurer_a, start=D(2020, 1, 1), end=D(2025, 12, 31))
    insured(chain, patient, insurer=chain.insurer_b, start=D(2026, 1, 1))
    trajectory = ended_trajectory(chain, coach, patient=patient, intake=D(2026, 1, 1))
    billing_decide(trajectory_id=trajectory.pk)
    assert {c.insurer for c in Claim.objects.all()} == {chain.insurer_b}


def test_second_programme_in_a_calendar_year_is_an_exception(chain, coach, prestaties):
    patient = factories.PatientFactory(practice=chain.practice_a)
    insured(chain, patient)
    first = ended_trajectory(
        chain, coach, patient=patient, intake=D(2026, 1, 10), state="stopped_unmotivated"
    )
    second = ended_trajectory(chain, coach, patient=patient, intake=D(2026, 9, 1))
    billing_decide(trajectory_id=first.pk)
    assert billing_decide(trajectory_id=second.pk).route == "exception"
    assert BillingException.objects.get(trajectory=second).reason == "second_programme"
    assert Claim.objects.filter(trajectory=second).count() == 0


def test_a_programme_in_the_next_year_is_claimed_again(chain, coach, prestaties):
    patient = factories.PatientFactory(practice=chain.practice_a)
    insured(chain, patient)
    first = ended_trajectory(chain, coach, patient=patient, intake=D(2025, 11, 10))
    second = ended_trajectory(chain, coach, patient=patient, intake=D(2026, 2, 1))
    billing_decide(trajectory_id=first.pk)
    assert billing_decide(trajectory_id=second.pk).route == "insurer"


def test_referral_claiming_ketenzorg_without_enrolment_is_an_exception(chain, coach, prestaties):
    patient = factories.PatientFactory(practice=chain.practice_a)
    insured(chain, patient)
    trajectory = ended_trajectory(chain, coach, patient=patient, is_ketenzorg=True)
    assert billing_decide(trajectory_id=trajectory.pk).route == "exception"
    assert BillingException.objects.get().reason == "ketenzorg_unconfirmed"


def test_stopped_before_the_intake_is_not_billable_but_after_it_is(chain, coach, prestaties):
    from carechain.access import Actor
    from pathways import services

    dropped = factories.trajectory_in(
        "intake_planned",
        coach=coach,
        referral__patient=factories.PatientFactory(practice=chain.practice_a),
    )
    services.trajectory_drop_out(
        actor=Actor.for_user(coach), trajectory_id=dropped.pk, reason="weg"
    )
    patient = factories.PatientFactory(practice=chain.practice_a)
    insured(chain, patient)
    stopped = ended_trajectory(chain, coach, patient=patient, state="stopped_unmotivated")
    assert billing_collect() == {"decided": 1, "skipped": 0}
    assert BillingDecision.objects.get().trajectory_id == stopped.pk


def test_collecting_twice_creates_nothing_twice(chain, coach, prestaties):
    patient = factories.PatientFactory(practice=chain.practice_a)
    insured(chain, patient)
    ended_trajectory(chain, coach, patient=patient)
    billing_collect()
    billing_collect()
    assert Claim.objects.count() == 2 and BillingDecision.objects.count() == 1


def test_the_database_refuses_a_second_line_for_the_same_prestatie(chain, coach, prestaties):
    from django.db import IntegrityError, transaction

    trajectory = ended_trajectory(chain, coach, channel="kis")
    billing_decide(trajectory_id=trajectory.pk)
    line = InvoiceLine.objects.filter(trajectory=trajectory).first()
    line.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        line.save()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_collecting_at_once_create_each_claim_once(
    postgresql_only, chain, coach, prestaties
):
    for _ in range(4):
        patient = factories.PatientFactory(practice=chain.practice_a)
        insured(chain, patient)
        ended_trajectory(chain, coach, patient=patient)
    at_once(billing_collect)
    assert BillingDecision.objects.count() == 4
    assert Claim.objects.count() == 8
