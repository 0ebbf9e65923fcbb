"""Helpers of the claims API tests: claims made by routing, or rows with realistic values."""

import datetime
from decimal import Decimal

from django.urls import reverse

from billing.models import Claim
from billing.services import billing_decide, claim_number
from carechain.access import Actor
from carechain.models import OrganisationAPIKey
from pathways import services
from tests import factories

D = datetime.date
MARCH_2 = D(2026, 3, 2)
LONG_AGO = D(2020, 1, 1)
LIST_URL = "/api/claims/"
ANSWERS_URL = "/api/claims/answers/"

# Clinical details a claim must never carry; the trajectory behind the claims gets all of them.
CLINICAL_SECRETS = (
    "Rookt sinds zijn vijftiende",  # intake note
    "Denkt: ik kan het toch niet",  # escalation to the POH-GGZ
    "Paniekaanvallen bij craving",  # contact note
    "Terugval na verjaardag",  # end of treatment note
)


def detail_url(claim) -> str:
    return reverse("api:claim-detail", args=[claim.claim_number])


def resubmit_url(claim) -> str:
    return reverse("api:claim-resubmit", args=[claim.claim_number])


def fhir_claim_url(claim) -> str:
    return f"/fhir/Claim/{claim.claim_number}"


def key_header(key: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Api-Key {key}"}


def claims_key(insurer) -> dict:
    """Headers of an insurer's claims API key."""
    return key_header(factories.api_key(insurer, OrganisationAPIKey.Purpose.CLAIMS))


def intake_key(organisation) -> dict:
    return key_header(factories.api_key(organisation))


def insured(chain, patient, insurer=None, start=LONG_AGO, end=None):
    return factories.InsuranceFactory(
        patient=patient, insurer=insurer or chain.insurer_a, valid_from=start, valid_to=end
    )


def ended_trajectory(
    chain,
    coach,
    *,
    intake=MARCH_2,
    channel="web",
    medication=("nrt_patch",),
    patient=None,
    poh_ggz=None,
):
    """A trajectory ended through the coach's services (copied from test_routing).

    With ``poh_ggz`` it also goes through everything clinical a claim must not show: an intake
    note, a contact with CO and medication, an escalation to the POH-GGZ and its report back.
    """
    from pathways.models import Escalation

    patient = patient or factories.PatientFactory(practice=chain.practice_a)
    trajectory = factories.trajectory_in(
        "intake_planned",
        coach=coach,
        referral__patient=patient,
        referral__channel=channel,
        referral__reason="COPD; " + CLINICAL_SECRETS[0],
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
        note=CLINICAL_SECRETS[0],
    )
    services.trajectory_start_counselling(actor=actor, trajectory_id=trajectory.pk)
    if poh_ggz is not None:
        services.trajectory_record_contact(
            actor=actor,
            trajectory_id=trajectory.pk,
            kind="phone",
            date=intake + datetime.timedelta(days=14),
            duration_minutes=30,
            smoking_status="lapse",
            cigarettes_per_day=3,
            co_ppm=17,
            medication=["varenicline"],
            notes=CLINICAL_SECRETS[2],
        )
        services.trajectory_escalate(
            actor=actor,
            trajectory_id=trajectory.pk,
            reason="thoughts",
            explanation=CLINICAL_SECRETS[1],
        )
        services.escalation_report_back(
            actor=Actor.for_user(poh_ggz),
            escalation_id=Escalation.objects.get(trajectory=trajectory).pk,
            report="Gesprekken over somberheid gevoerd.",
        )
    services.trajectory_end_treatment(
        actor=actor,
        trajectory_id=trajectory.pk,
        end_date=intake + datetime.timedelta(days=70),
        result="smoke_free",
        co_ppm=4,
        note=CLINICAL_SECRETS[3],
    )
    return trajectory


def routed_claims(chain, coach, *, insurer=None, medication=("nrt_patch",), poh_ggz=None):
    """Claims as they come into existence: an insured regular patient's ended trajectory, routed."""
    patient = factories.PatientFactory(practice=chain.practice_a)
    insured(chain, patient, insurer=insurer)
    trajectory = ended_trajectory(
        chain, coach, patient=patient, medication=medication, poh_ggz=poh_ggz
    )
    billing_decide(trajectory_id=trajectory.pk)
    return list(Claim.objects.filter(trajectory=trajectory).order_by("pk"))


def claim_row(chain, prestatie, *, insurer=None, trajectory=None, version=1, **fields) -> Claim:
    """A claim row with the values routing would copy, without going through a whole trajectory."""
    insurer = insurer or chain.insurer_a
    if trajectory is None:
        patient = factories.PatientFactory(practice=chain.practice_a)
        trajectory = factories.TrajectoryFactory(referral__patient=patient)
    patient = trajectory.patient
    values = {
        "trajectory": trajectory,
        "prestatie": prestatie,
        "version": version,
        "insurer": insurer,
        "claim_number": claim_number(trajectory, prestatie, version),
        "bsn": patient.bsn,
        "patient_name": patient.full_name,
        "birth_date": patient.birth_date,
        "uzovi": insurer.uzovi,
        "policy_number": f"POL-{trajectory.pk:08d}",
        "provider_agb": trajectory.provider.agb,
        "performer_agb": "90123456",
        "prestatie_code": prestatie.code,
        "start_date": MARCH_2,
        "end_date": MARCH_2 + datetime.timedelta(days=70),
        "amount": Decimal("268.00"),
    }
    values.update(fields)
    return Claim.objects.create(**values)


def claim_rows(chain, prestatie, count: int, *, insurer=None) -> list[Claim]:
    return [claim_row(chain, prestatie, insurer=insurer) for _ in range(count)]


def many_claim_rows(chain, prestaties, count: int, *, insurer=None) -> list[Claim]:
    """``count`` claims on three trajectories, in bulk: every prestatie in versions 1, 2, 3..."""
    insurer = insurer or chain.insurer_a
    trajectories = [
        factories.TrajectoryFactory(
            referral__patient=factories.PatientFactory(practice=chain.practice_a)
        )
        for _ in range(3)
    ]
    rows = []
    for i in range(count):
        trajectory = trajectories[i % 3]
        prestatie = prestaties[(i // 3) % len(prestaties)]
        version = i // (3 * len(prestaties)) + 1
        rows.append(
            Claim(
                trajectory=trajectory,
                prestatie=prestatie,
                version=version,
                insurer=insurer,
                claim_number=claim_number(trajectory, prestatie, version),
                bsn=trajectory.patient.bsn,
                patient_name=trajectory.patient.full_name,
                birth_date=trajectory.patient.birth_date,
                uzovi=insurer.uzovi,
                policy_number=f"POL-{trajectory.pk:08d}",
                provider_agb=trajectory.provider.agb,
                performer_agb="90123456",
                prestatie_code=prestatie.code,
                start_date=MARCH_2,
                end_date=MARCH_2 + datetime.timedelta(days=70),
                amount=Decimal("268.00"),
            )
        )
    return Claim.objects.bulk_create(rows)
