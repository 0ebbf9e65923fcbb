"""Demo referrals and trajectories in every stage, made through the real services (idempotent:
a chain that already has referrals is left alone)."""

import datetime

from carechain.access import Actor
from carechain.models import Role
from referrals import services as referral_services
from referrals.models import Channel, Referral
from referrals.services import ReferralData

from . import services


def _refer(chain, patient, *, channel, coach, reason):
    practice = patient.practice
    poh = practice.memberships.filter(role=Role.POH_S).select_related("user").first()
    actor = Actor.for_user(poh.user) if poh else Actor.system()
    data = ReferralData(
        practice=practice,
        provider=chain.provider,
        channel=channel,
        patient_bsn=patient.bsn,
        referrer_name=str(poh.user) if poh else practice.name,
        reason=reason,
        cigarettes_per_day=15 + patient.pk % 15,
        years_smoked=10 + patient.pk % 25,
        earlier_quit_attempts=patient.pk % 4,
        motivation="motivated",
        is_ketenzorg=channel == Channel.KIS,
        consent_data_exchange=True,
        external_id=f"DEMO-{patient.pk}" if channel != Channel.WEB else "",
    )
    referral, _created = referral_services.referral_create(actor=actor, data=data)
    Referral.objects.filter(pk=referral.pk).update(coach=coach)
    return referral


def seed(chain) -> None:
    if Referral.objects.filter(provider=chain.provider).exists():
        return
    today = datetime.date.today()
    coaches = chain.coaches
    stages = (
        ["received"] * 6
        + ["accepted"] * 3
        + ["counselling"] * 8
        + ["escalated"] * 2
        + ["end_of_treatment"] * 4
        + ["follow_up"] * 3
    )
    for i, stage in enumerate(stages):
        patient = chain.patients[i]
        coach = coaches[i % len(coaches)]
        channel = (
            Channel.KIS
            if patient.practice.channel == "kis"
            else (Channel.WEB if i % 3 else Channel.ZORGDOMEIN)
        )
        referral = _refer(
            chain,
            patient,
            channel=channel,
            coach=coach if stage != "received" else None,
            reason="Wil stoppen met roken; verwezen door de POH-S.",
        )
        if stage == "received":
            continue
        actor = Actor.for_user(coach)
        referral_services.referral_accept(actor=actor, referral_id=referral.pk)
        if stage == "accepted":
            continue
        trajectory = referral.trajectory
        back = 380 if stage == "follow_up" else (120 if stage == "end_of_treatment" else 30 + i)
        intake = today - datetime.timedelta(days=back)
        services.trajectory_record_intake(
            actor=actor,
            trajectory_id=trajectory.pk,
            intake_date=intake,
            duration_minutes=45,
            cigarettes_per_day=referral.cigarettes_per_day,
            years_smoked=referral.years_smoked,
            earlier_quit_attempts=referral.earlier_quit_attempts,
            is_motivated=True,
            medication_plan=["nrt_patch"] if i % 2 else ["varenicline"],
            quit_date=intake + datetime.timedelta(days=7),
        )
        services.trajectory_start_counselling(actor=actor, trajectory_id=trajectory.pk)
        services.trajectory_record_contact(
            actor=actor,
            trajectory_id=trajectory.pk,
            kind="phone",
            date=intake + datetime.timedelta(days=14),
            duration_minutes=20,
            smoking_status="smoke_free",
            co_ppm=4,
            medication=["nrt_patch"],
        )
        if stage == "escalated":
            services.trajectory_escalate(
                actor=actor,
                trajectory_id=trajectory.pk,
                reason="thoughts",
                explanation="Denkt: ik kan het toch niet, ik verlies mijn vrienden.",
            )
        if stage in ("end_of_treatment", "follow_up"):
            services.trajectory_end_treatment(
                actor=actor,
                trajectory_id=trajectory.pk,
                end_date=intake + datetime.timedelta(days=84),
                result="smoke_free",
                co_ppm=3,
            )
