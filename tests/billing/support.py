"""Helpers for the invoice tests: billable ketenzorg trajectories, as the routing tests make them."""

import datetime

from billing.models import InvoiceLine
from billing.services import billing_decide
from carechain.access import Actor
from pathways import services
from tests import factories

D = datetime.date
MAY_2026 = (2026, 5)
# Intake 2 March 2026, end of treatment 70 days later: 11 May 2026.
INTAKE = D(2026, 3, 2)


def ended_trajectory(
    chain,
    coach,
    *,
    intake=INTAKE,
    channel="kis",
    medication=("nrt_patch",),
    patient=None,
    practice=None,
):
    """A ketenzorg (KIS) trajectory ended through the coach's own services, 70 days after intake."""
    patient = patient or factories.PatientFactory(practice=practice or chain.practice_a)
    trajectory = factories.trajectory_in(
        "intake_planned",
        coach=coach,
        referral__patient=patient,
        referral__channel=channel,
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
    services.trajectory_start_counselling(actor=actor, trajectory_id=trajectory.pk)
    services.trajectory_end_treatment(
        actor=actor,
        trajectory_id=trajectory.pk,
        end_date=intake + datetime.timedelta(days=70),
        result="smoke_free",
    )
    return trajectory


def billed(chain, coach, **kwargs):
    """An ended ketenzorg trajectory with its invoice lines (SMR01 258.00 + SMR02 85.00)."""
    trajectory = ended_trajectory(chain, coach, **kwargs)
    billing_decide(trajectory_id=trajectory.pk)
    return trajectory, list(InvoiceLine.objects.filter(trajectory=trajectory).order_by("pk"))


def issue_may(chain):
    from billing.invoicing import invoice_issue_month

    return invoice_issue_month(zorggroep_id=chain.zorggroep.pk, year=2026, month=5)


def sent_may_invoice(chain, coach, planner, *, trajectories=2):
    """May 2026's invoice, sent by the planner: 343.00 per trajectory (SMR01 + SMR02)."""
    from billing.invoicing import invoice_send

    for _ in range(trajectories):
        billed(chain, coach)
    invoice = issue_may(chain)
    return invoice_send(actor=Actor.for_user(planner), invoice_id=invoice.pk)
