"""The trajectory state machine: every move, every refusal, and who may make it."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from carechain.access import Actor
from pathways import services
from pathways.models import Escalation, Trajectory
from referrals import services as referral_services
from tests import factories

TODAY = datetime.date.today()


@pytest.fixture
def patient(chain):
    return factories.PatientFactory(practice=chain.practice_a)


def in_state(state, coach, patient, **kwargs):
    return factories.trajectory_in(state, coach=coach, referral__patient=patient, **kwargs)


def fresh(trajectory):
    return Trajectory.objects.get(pk=trajectory.pk)


def test_accepting_a_referral_opens_one_trajectory(chain, coach, patient):
    referral = factories.ReferralFactory(patient=patient)
    referral_services.referral_accept(actor=Actor.for_user(coach), referral_id=referral.pk)
    trajectory = Trajectory.objects.get(referral=referral)
    assert (trajectory.state, trajectory.coach, trajectory.cigarettes_per_day) == (
        "intake_planned",
        coach,
        20,
    )
    services.trajectory_open_for_referral(referral=referral, actor=Actor.for_user(coach))
    assert Trajectory.objects.filter(referral=referral).count() == 1


def test_intake_records_plan_and_quit_date_and_moves_the_referral_to_in_progress(coach, patient):
    trajectory = in_state("intake_done", coach, patient)
    assert trajectory.medication_plan == ["nrt_patch"]
    assert trajectory.quit_date == TODAY
    assert trajectory.contacts.get().kind == "intake"
    assert trajectory.referral.state == "in_progress"
    event = trajectory.events.get(action="record_intake")
    assert (event.by, event.from_state, event.to_state) == (coach, "intake_planned", "intake_done")


def test_quit_date_before_intake_is_refused(coach, patient):
    trajectory = in_state("intake_planned", coach, patient)
    with pytest.raises(services.ValidationError):
        services.trajectory_record_intake(
            actor=Actor.for_user(coach),
            trajectory_id=trajectory.pk,
            intake_date=TODAY,
            duration_minutes=45,
            cigarettes_per_day=10,
            years_smoked=5,
            earlier_quit_attempts=0,
            is_motivated=True,
            medication_plan=[],
            quit_date=TODAY - datetime.timedelta(days=1),
        )
    assert fresh(trajectory).state == "intake_planned"


@pytest.mark.parametrize("persona", ["planner", "poh", "poh_ggz", "gp"])
def test_only_a_coach_of_the_provider_moves_a_trajectory(request, coach, patient, persona):
    trajectory = in_state("intake_done", coach, patient)
    with pytest.raises(PermissionDenied):
        services.trajectory_start_counselling(
            actor=Actor.for_user(request.getfixturevalue(persona)), trajectory_id=trajectory.pk
        )
    assert fresh(trajectory).state == "intake_done"


@pytest.mark.parametrize("persona", ["other_coach", "other_poh", "insurer_user", "zorggroep_admin"])
def test_outsiders_get_404(request, coach, patient, persona):
    trajectory = in_state("intake_done", coach, patient)
    with pytest.raises(Http404):
        services.trajectory_start_counselling(
            actor=Actor.for_user(request.getfixturevalue(persona)), trajectory_id=trajectory.pk
        )


def test_escalation_round_trip_returns_the_patient_to_counselling(coach, poh_ggz, patient):
    trajectory = in_state("counselling", coach, patient)
    escalation = services.trajectory_escalate(
        actor=Actor.for_user(coach),
        trajectory_id=trajectory.pk,
        reason="anxiety",
        explanation="Somber, rookt bij stress",
    )
    assert fresh(trajectory).state == "escalated"
    assert escalation.practice == patient.practice
    services.escalation_record_session(
        actor=Actor.for_user(poh_ggz),
        escalation_id=escalation.pk,
        date=TODAY,
        duration_minutes=45,
        notes="Gedachten uitgedaagd",
    )
    services.escalation_report_back(
        actor=Actor.for_user(poh_ggz),
        escalation_id=escalation.pk,
        report="Beter voorbereid; terug naar coach",
    )
    escalation.refresh_from_db()
    assert escalation.status == "returned"
    assert fresh(trajectory).state == "counselling"
    assert [e.to_state for e in fresh(trajectory).events.all()][-2:] == ["escalated", "counselling"]


def test_escalation_only_while_motivated(coach, patient):
    trajectory = in_state("counselling", coach, patient)
    Trajectory.objects.filter(pk=trajectory.pk).update(is_motivated=False)
    with pytest.raises(services.TransitionRefused):
        services.trajectory_escalate(
            actor=Actor.for_user(coach),
            trajectory_id=trajectory.pk,
            reason="thoughts",
            explanation="x",
        )


def test_escalation_needs_a_reason_from_the_list(coach, patient):
    trajectory = in_state("counselling", coach, patient)
    with pytest.raises(services.ValidationError):
        services.trajectory_escalate(
            actor=Actor.for_user(coach),
            trajectory_id=trajectory.pk,
            reason="boredom",
            explanation="x",
        )
    assert not Escalation.objects.exists()


def test_only_the_poh_ggz_of_the_practice_records_sessions(coach, patient, chain):
    trajectory = in_state("escalated", coach, patient)
    escalation = trajectory.escalations.get()
    other_ggz = factories.member("poh_ggz", chain.practice_b)
    for actor in (Actor.for_user(other_ggz), Actor.for_user(coach)):
        with pytest.raises(Http404):
            services.escalation_record_session(
                actor=actor, escalation_id=escalation.pk, date=TODAY, duration_minutes=30
            )


def test_smoking_again_and_unmotivated_stops_care_also_during_escalation(coach, poh_ggz, patient):
    trajectory = in_state("escalated", coach, patient)
    services.trajectory_record_contact(
        actor=Actor.for_user(coach),
        trajectory_id=trajectory.pk,
        kind="phone",
        date=TODAY,
        duration_minutes=15,
        smoking_status="smoking",
        cigarettes_per_day=15,
        still_motivated=False,
    )
    trajectory = fresh(trajectory)
    assert trajectory.state == "stopped_unmotivated"
    assert trajectory.escalations.get().status == "stopped"
    assert trajectory.referral.state == "completed"


def test_poh_ggz_stops_care_for_both_when_the_patient_smokes_again(coach, poh_ggz, patient):
    trajectory = in_state("escalated", coach, patient)
    services.escalation_stop_care(
        actor=Actor.for_user(poh_ggz),
        escalation_id=trajectory.escalations.get().pk,
        reason="Rookt weer, geen motivatie",
    )
    assert fresh(trajectory).state == "stopped_unmotivated"


def test_a_lapse_while_motivated_keeps_the_patient_in_care(coach, patient):
    trajectory = in_state("counselling", coach, patient)
    services.trajectory_record_contact(
        actor=Actor.for_user(coach),
        trajectory_id=trajectory.pk,
        kind="phone",
        date=TODAY,
        duration_minutes=15,
        smoking_status="lapse",
        cigarettes_per_day=2,
        co_ppm=8,
    )
    assert fresh(trajectory).state == "counselling"


@pytest.mark.parametrize("co", [-1, 101])
def test_co_out_of_range_is_an_error(coach, patient, co):
    trajectory = in_state("counselling", coach, patient)
    with pytest.raises(services.ValidationError) as exc:
        services.trajectory_record_contact(
            actor=Actor.for_user(coach),
            trajectory_id=trajectory.pk,
            kind="phone",
            date=TODAY,
            duration_minutes=15,
            smoking_status="smoke_free",
            co_ppm=co,
        )
    assert "co_ppm" in exc.value.message_dict
    assert trajectory.contacts.count() == 1  # only the intake


def test_end_of_treatment_sets_the_follow_up_a_year_after_the_quit_date(coach, patient):
    trajectory = in_state(
        "counselling",
        coach,
        patient,
        intake_date=datetime.date(2024, 2, 1),
        quit_date=datetime.date(2024, 2, 29),
    )
    services.trajectory_end_treatment(
        actor=Actor.for_user(coach),
        trajectory_id=trajectory.pk,
        end_date=TODAY,
        result="smoke_free",
        co_ppm=3,
    )
    assert fresh(trajectory).follow_up_due == datetime.date(2025, 2, 28)


def test_without_quit_date_the_follow_up_is_a_year_after_end_of_treatment(coach, patient):
    trajectory = in_state("intake_planned", coach, patient)
    services.trajectory_record_intake(
        actor=Actor.for_user(coach),
        trajectory_id=trajectory.pk,
        intake_date=datetime.date(2023, 3, 1),
        duration_minutes=45,
        cigarettes_per_day=10,
        years_smoked=5,
        earlier_quit_attempts=0,
        is_motivated=True,
        medication_plan=[],
        quit_date=None,
    )
    services.trajectory_start_counselling(actor=Actor.for_user(coach), trajectory_id=trajectory.pk)
    services.trajectory_end_treatment(
        actor=Actor.for_user(coach),
        trajectory_id=trajectory.pk,
        end_date=datetime.date(2024, 2, 29),
        result="smoking",
    )
    assert fresh(trajectory).follow_up_due == datetime.date(2025, 2, 28)


def test_follow_up_call_closes_with_the_12_month_result(coach, patient):
    trajectory = in_state("end_of_treatment", coach, patient)
    services.trajectory_record_follow_up(
        actor=Actor.for_user(coach),
        trajectory_id=trajectory.pk,
        call_date=TODAY,
        result="not_reached",
    )
    trajectory = fresh(trajectory)
    assert (trajectory.state, trajectory.follow_up_result) == ("closed", "not_reached")
    assert trajectory.referral.state == "completed"


def test_wrong_state_is_refused(coach, patient):
    trajectory = in_state("intake_planned", coach, patient)
    with pytest.raises(services.TransitionRefused):
        services.trajectory_end_treatment(
            actor=Actor.for_user(coach),
            trajectory_id=trajectory.pk,
            end_date=TODAY,
            result="smoke_free",
        )


def test_the_second_person_gets_changed_meanwhile(coach, patient):
    trajectory = in_state("counselling", coach, patient)
    colleague = factories.member("coach", trajectory.provider)
    services.trajectory_escalate(
        actor=Actor.for_user(coach),
        trajectory_id=trajectory.pk,
        reason="thoughts",
        explanation="x",
        expected_state="counselling",
    )
    with pytest.raises(services.ChangedMeanwhile):
        services.trajectory_end_treatment(
            actor=Actor.for_user(colleague),
            trajectory_id=trajectory.pk,
            end_date=TODAY,
            result="smoke_free",
            expected_state="counselling",
        )
    assert fresh(trajectory).state == "escalated"


def test_state_cannot_be_written_directly(coach, patient):
    trajectory = in_state("counselling", coach, patient)
    with pytest.raises(AttributeError):
        trajectory.state = "closed"


def test_planner_reassigns_to_a_coach_of_the_provider_only(coach, planner, other_coach, patient):
    trajectory = in_state("counselling", coach, patient)
    colleague = factories.member("coach", trajectory.provider)
    with pytest.raises(services.ValidationError):
        services.trajectory_reassign(
            actor=Actor.for_user(planner), trajectory_id=trajectory.pk, coach_id=other_coach.pk
        )
    services.trajectory_reassign(
        actor=Actor.for_user(planner), trajectory_id=trajectory.pk, coach_id=colleague.pk
    )
    assert fresh(trajectory).coach == colleague
    with pytest.raises(PermissionDenied):
        services.trajectory_reassign(
            actor=Actor.for_user(coach), trajectory_id=trajectory.pk, coach_id=coach.pk
        )


def test_drop_out_before_the_intake(coach, patient):
    trajectory = in_state("intake_planned", coach, patient)
    services.trajectory_drop_out(
        actor=Actor.for_user(coach), trajectory_id=trajectory.pk, reason="Niet bereikbaar"
    )
    assert fresh(trajectory).state == "dropped_out"
