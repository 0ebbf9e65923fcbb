"""Demo history for the reports: fifteen months of earlier referrals and trajectories, so the
zorggroep's and the provider's figures have something to show after ``make run``.

Earlier care is written straight into its final state (it happened before the demo starts, as if
migrated from the provider's former system: no letters are sent for it); billing then runs on it
through the real services (routing, the year's monthly invoices, sent by the planner), and a
relapse-prevention group is planned by the POH-GGZ through the groups service. Idempotent: a
chain that already has the history is left alone.
"""

from __future__ import annotations

import datetime
import random

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils import timezone

from carechain.access import Actor
from carechain.demo import FIRST_NAMES, LAST_NAMES, make_bsn
from carechain.models import Insurance, KetenzorgEnrolment, Patient, Role, User
from pathways.models import Attendance, Escalation, GroupParticipant, Trajectory
from referrals.models import Channel, Referral
from referrals.workdays import add_working_days

HISTORY_PREFIX = "DEMO-H-"
HISTORY_SIZE = 240
MONTHS_BACK = 15
REFERRERS = ["POH-S A. Verhoeven", "POH-S M. Claassen", "Huisarts R. de Bruijn", "POH-S L. Aerts"]


def seed(chain) -> None:
    if Referral.objects.filter(external_id__startswith=HISTORY_PREFIX).exists():
        return
    with transaction.atomic():
        trajectories = _history(chain, today=timezone.localdate())
    _bill(chain)
    _group(chain, trajectories)


def _at(day: datetime.date, hour: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def _history(chain, *, today: datetime.date) -> list[Trajectory]:
    rng = random.Random(2026)
    known = set(Patient.objects.values_list("bsn", flat=True))
    start = today - relativedelta(months=MONTHS_BACK)
    span = (today - start).days
    patients, plans = [], []
    for i in range(HISTORY_SIZE):
        practice = chain.practices[i % len(chain.practices)]
        bsn = make_bsn(rng)
        while bsn in known:
            bsn = make_bsn(rng)
        known.add(bsn)
        prefix, last = rng.choice(LAST_NAMES)
        patients.append(
            Patient(
                bsn=bsn,
                first_name=rng.choice(FIRST_NAMES),
                name_prefix=prefix,
                last_name=last,
                birth_date=datetime.date(1950 + rng.randint(0, 50), rng.randint(1, 12), 12),
                practice=practice,
            )
        )
        plans.append(start + datetime.timedelta(days=rng.randint(0, span - 10)))
    Patient.objects.bulk_create(patients)
    patients = list(Patient.objects.filter(bsn__in=[p.bsn for p in patients]).order_by("pk"))
    insurances, enrolments, referrals = [], [], []
    pohs = {
        m.organisation_id: m.user
        for m in chain.practices[0]
        .memberships.model.objects.filter(role=Role.POH_S, organisation__in=chain.practices)
        .select_related("user")
    }
    for i, (patient, received) in enumerate(zip(patients, plans, strict=True)):
        practice = next(p for p in chain.practices if p.pk == patient.practice_id)
        insurances.append(
            Insurance(
                patient=patient,
                insurer=chain.insurers[i % len(chain.insurers)],
                policy_number=f"H{patient.pk:07d}",
                valid_from=datetime.date(2020, 1, 1),
            )
        )
        ketenzorg = practice.channel == "kis" and i % 3 != 0
        if ketenzorg:
            enrolments.append(
                KetenzorgEnrolment(
                    patient=patient,
                    zorggroep=chain.zorggroep,
                    programme="dm2" if i % 2 else "copd",
                    start=datetime.date(2020, 1, 1),
                )
            )
        channel = Channel.KIS if ketenzorg else (Channel.ZORGDOMEIN if i % 2 else Channel.WEB)
        received_at = _at(received, 8 + i % 9)
        hours = rng.choice([2, 3, 5, 20, 26, 30, 44, 50, 70, 96, 140])
        by_poh = channel == Channel.WEB and practice.pk in pohs
        referrals.append(
            Referral(
                patient=patient,
                practice=practice,
                provider=chain.provider,
                channel=channel,
                external_id=f"{HISTORY_PREFIX}{patient.pk}",
                referred_by=pohs.get(practice.pk) if by_poh else None,
                referrer_name="" if by_poh else REFERRERS[(i // 4) % len(REFERRERS)],
                received_at=received_at,
                first_contact_due=add_working_days(received, 2),
                first_contact_at=received_at + datetime.timedelta(hours=hours),
                reason="Wil stoppen met roken.",
                cigarettes_per_day=10 + i % 20,
                years_smoked=10 + i % 30,
                motivation="motivated",
                is_ketenzorg=ketenzorg,
                consent_data_exchange=True,
                state="in_progress",
                coach=chain.coaches[i % len(chain.coaches)],
            )
        )
    Insurance.objects.bulk_create(insurances)
    KetenzorgEnrolment.objects.bulk_create(enrolments)
    Referral.objects.bulk_create(referrals)
    referrals = list(Referral.objects.filter(external_id__startswith=HISTORY_PREFIX).order_by("pk"))
    trajectories = [_trajectory(r, rng, today) for r in referrals]
    Referral.objects.filter(
        pk__in=[t.referral_id for t in trajectories if t.state not in ("counselling", "escalated")]
    ).update(state="completed")
    Trajectory.objects.bulk_create(trajectories)
    trajectories = list(
        Trajectory.objects.filter(referral__external_id__startswith=HISTORY_PREFIX).order_by("pk")
    )
    _escalations(chain, trajectories, rng)
    return trajectories


def _trajectory(referral: Referral, rng: random.Random, today: datetime.date) -> Trajectory:
    received = timezone.localdate(referral.received_at)
    intake = received + datetime.timedelta(days=rng.randint(4, 12))
    quit_date = intake + datetime.timedelta(days=7)
    end = intake + datetime.timedelta(days=84)
    fields = {
        "referral": referral,
        "patient_id": referral.patient_id,
        "practice_id": referral.practice_id,
        "provider_id": referral.provider_id,
        "coach_id": referral.coach_id,
        "created_at": referral.received_at,
        "intake_date": intake,
        "quit_date": quit_date,
        "cigarettes_per_day": referral.cigarettes_per_day,
        "years_smoked": referral.years_smoked,
        "medication_plan": ["nrt_patch"] if rng.random() < 0.6 else ["varenicline"],
    }
    roll = rng.random()
    if end >= today:
        return Trajectory(state="escalated" if roll < 0.1 else "counselling", **fields)
    if roll < 0.1:
        return Trajectory(
            state="dropped_out", end_date=intake + datetime.timedelta(days=30), **fields
        )
    if roll < 0.18:
        return Trajectory(
            state="stopped_unmotivated",
            is_motivated=False,
            end_date=intake + datetime.timedelta(days=40),
            **fields,
        )
    quit_ = rng.random() < 0.62
    follow_up_due = quit_date + relativedelta(years=1)
    fields |= {
        "end_date": end,
        "end_result": "smoke_free" if quit_ else "smoking",
        "end_co_ppm": rng.choice([2, 3, 4, 6, 8, 12]) if quit_ else rng.randint(12, 30),
        "follow_up_due": follow_up_due,
    }
    if rng.random() < 0.12:
        fields["end_co_ppm"] = None  # not measured
    if follow_up_due < today:
        result = (
            rng.choice(["smoke_free", "smoke_free", "smoking", "not_reached"])
            if quit_
            else "smoking"
        )
        return Trajectory(
            state="closed",
            follow_up_date=follow_up_due,
            follow_up_result=result,
            follow_up_co_ppm=rng.choice([3, 5, 11]) if result == "smoke_free" else None,
            **fields,
        )
    return Trajectory(state="end_of_treatment", **fields)


def _escalations(chain, trajectories, rng) -> None:
    rows = []
    for t in trajectories:
        if t.state == "escalated" or (t.state != "dropped_out" and rng.random() < 0.14):
            status = (
                "open"
                if t.state == "escalated"
                else ("stopped" if t.state == "stopped_unmotivated" else "returned")
            )
            rows.append(
                Escalation(
                    trajectory=t,
                    practice_id=t.practice_id,
                    reason=rng.choice(["thoughts", "anxiety", "relapse"]),
                    explanation="Demo: belemmerende gedachten.",
                    created_at=_at(t.intake_date + datetime.timedelta(days=21), 11),
                    created_by_id=t.coach_id,
                    status=status,
                    report="" if status == "open" else "Demo: terug naar de coach.",
                )
            )
    Escalation.objects.bulk_create(rows)


def _bill(chain) -> None:
    """Routing and the monthly invoices of this year so far, through billing's own services."""
    from billing.invoicing import invoice_issue_month, invoice_send
    from billing.models import Invoice, InvoiceState
    from billing.services import billing_collect

    billing_collect()
    today = timezone.localdate()
    planner = User.objects.filter(
        memberships__role=Role.PLANNER, memberships__organisation=chain.provider
    ).first()
    for month in range(1, today.month):
        invoice_issue_month(zorggroep_id=chain.zorggroep.pk, year=today.year, month=month)
    if planner is None:
        return
    actor = Actor.for_user(planner)
    for invoice in Invoice.objects.filter(zorggroep=chain.zorggroep, state=InvoiceState.DRAFT):
        invoice_send(actor=actor, invoice_id=invoice.pk)


def _group(chain, trajectories) -> None:
    """A relapse-prevention group this year at the first practice, planned by its POH-GGZ, with
    the practice's quitters as participants and the attendance of the meetings held so far."""
    from pathways import groups

    practice = chain.practices[0]
    poh_ggz = practice.memberships.filter(role=Role.POH_GGZ).select_related("user").first()
    location = practice.locations.first()
    year = timezone.localdate().year
    if poh_ggz is None or location is None or location.groups.filter(year=year).exists():
        return
    group = groups.group_create(
        actor=Actor.for_user(poh_ggz.user),
        location=location,
        year=year,
        meetings=[(at, theme, poh_ggz.user) for at, theme in groups.default_meetings(year)],
    )
    meetings = list(group.meetings.order_by("number"))
    quitters = [
        t for t in trajectories if t.practice_id == practice.pk and t.end_result == "smoke_free"
    ]
    participants = GroupParticipant.objects.bulk_create(
        GroupParticipant(group=group, trajectory=t, joined_at=meetings[i % 3])
        for i, t in enumerate(quitters[:14])
    )
    now = timezone.now()
    rng = random.Random(8)
    attendance = []
    for meeting in meetings:
        if meeting.starts_at > now:
            continue
        for participant in participants:
            if participant.joined_at.number <= meeting.number:
                status = rng.choice(["present"] * 4 + ["absent_notice", "no_show"])
                attendance.append(
                    Attendance(meeting=meeting, participant=participant, status=status)
                )
    Attendance.objects.bulk_create(attendance)
