"""The benchmarks' region builder writes rows the app itself would accept."""

import datetime
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django_fsm import can_proceed

from carechain.models import Insurance, KetenzorgEnrolment, Membership, Patient
from pathways.models import Trajectory, TrajectoryState
from referrals.models import Referral, ReferralState

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from population import build_region  # noqa: E402

pytestmark = pytest.mark.django_db


def _valid(obj, exclude=()):
    try:
        obj.full_clean(exclude=list(exclude))
    except ValidationError as error:  # pragma: no cover - the message is the point
        pytest.fail(f"{obj._meta.label} {obj.pk}: {error.message_dict}")


def test_every_row_of_a_small_region_passes_the_models_own_validation():
    region = build_region(1200, practices=12, providers=2, coaches_per_provider=5, coach_active=20)
    assert Trajectory.objects.count() == 1200
    assert Patient.objects.count() == Insurance.objects.count() == 1200 + 500
    for patient in Patient.objects.all():
        _valid(patient)
    for referral in Referral.objects.all():
        _valid(referral, exclude=["state"])  # protected FSM field; checked below
        assert referral.state in ReferralState.values
    for trajectory in Trajectory.objects.select_related("referral"):
        # the one-to-one's uniqueness check is a query per row; the database holds it anyway
        _valid(trajectory, exclude=["referral", "state"])
        assert trajectory.state in TrajectoryState.values
        assert trajectory.patient_id == trajectory.referral.patient_id
        assert trajectory.coach_id == trajectory.referral.coach_id
        if trajectory.quit_date and trajectory.follow_up_due:
            assert trajectory.follow_up_due == trajectory.compute_follow_up_due()
        if trajectory.state == TrajectoryState.FOLLOW_UP_DUE:
            assert trajectory.follow_up_due <= region.today
    for enrolment in KetenzorgEnrolment.objects.all():
        _valid(enrolment)
    for membership in Membership.objects.select_related("organisation"):
        _valid(membership)
    assert Membership.objects.filter(role="coach").count() == 10


def test_the_named_coach_has_exactly_the_active_trajectories_asked_for():
    region = build_region(1000, practices=10, providers=2, coaches_per_provider=4, coach_active=30)
    mine = Trajectory.objects.filter(coach=region.coach)
    assert mine.count() == 30
    assert set(mine.values_list("state", flat=True)) <= set(
        ["intake_planned", "intake_done", "counselling", "escalated"]
    )
    assert set(region.states) <= set(TrajectoryState.values)
    assert sum(region.states.values()) == 1000


def test_end_of_treatment_rows_due_for_the_call_can_be_marked_by_the_fsm():
    region = build_region(10_000, practices=10, providers=2, coaches_per_provider=4)
    due = Trajectory.objects.filter(
        state=TrajectoryState.END_OF_TREATMENT,
        follow_up_due__lte=region.today + datetime.timedelta(days=7),
    )
    assert due.exists()
    assert all(can_proceed(t.mark_follow_up_due) for t in due)


@pytest.mark.postgres
def test_the_region_builds_on_postgresql(postgresql_only):
    region = build_region(3000, practices=10, providers=2, coaches_per_provider=4)
    assert sum(region.states.values()) == 3000
    for patient in Patient.objects.all()[:500]:
        _valid(patient)
