"""Routing: decide once per ended trajectory who pays, and create its lines or claims.

Run by a periodic scan (``billing_collect``) and safe to run any number of times, also at once on
two workers: the decision is one row per trajectory (OneToOne) and lines and claims are unique per
trajectory and prestatie in the database, so a second run finds everything done.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from carechain.models import Insurance, Membership, Role
from pathways.models import (
    NICOTINE_REPLACEMENT,
    PRESCRIPTION_MEDICATION,
    Trajectory,
)
from pathways.models import TrajectoryState as T
from referrals.models import Channel

from .models import (
    BillingDecision,
    BillingException,
    Claim,
    InvoiceLine,
    Prestatie,
    Route,
    Tariff,
)

logger = logging.getLogger(__name__)

ENDED_WITH_CARE = [T.END_OF_TREATMENT, T.FOLLOW_UP_DUE, T.CLOSED]
STOPPED_EARLY = [T.STOPPED_UNMOTIVATED, T.DROPPED_OUT]


def billable_trajectories():
    """Ended trajectories without a decision: end of treatment, or stopped after at least the intake."""
    return Trajectory.objects.filter(
        Q(state__in=ENDED_WITH_CARE) | Q(state__in=STOPPED_EARLY, intake_date__isnull=False),
        billing_decision__isnull=True,
    )


def prestaties_for(trajectory: Trajectory) -> list[Prestatie]:
    """The programme, plus each supplement whose medication was recorded (plan or contacts)."""
    used = set(trajectory.medication_plan)
    for contact in trajectory.contacts.all():
        used.update(contact.medication)
    kinds = [Prestatie.Kind.PROGRAMME]
    if used & NICOTINE_REPLACEMENT:
        kinds.append(Prestatie.Kind.NRT_SUPPLEMENT)
    if used & PRESCRIPTION_MEDICATION:
        kinds.append(Prestatie.Kind.MEDICATION_SUPPLEMENT)
    by_kind = {p.kind: p for p in Prestatie.objects.filter(kind__in=kinds)}
    return [by_kind[k] for k in kinds if k in by_kind]


def _tariff(prestatie: Prestatie, day: datetime.date, **contract) -> Tariff | None:
    return (
        Tariff.objects.filter(prestatie=prestatie, valid_from__lte=day, **contract)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day))
        .order_by("-valid_from")
        .first()
    )


@dataclass
class Decision:
    route: str
    reason: str
    zorggroep_id: int | None = None
    insurance: Insurance | None = None
    exception: str | None = None


def _decide(trajectory: Trajectory, day: datetime.date) -> Decision:
    referral = trajectory.referral
    zorggroep = trajectory.practice.zorggroep
    if referral.channel == Channel.KIS:
        return Decision(
            Route.ZORGGROEP,
            _("ketenzorg: referred through the KIS of %(zg)s") % {"zg": zorggroep.name},
            zorggroep_id=zorggroep.pk,
        )
    enrolment = trajectory.patient.ketenzorg_on(day, zorggroep_id=zorggroep.pk).first()
    if enrolment is not None:
        return Decision(
            Route.ZORGGROEP,
            _("ketenzorg: enrolled in %(programme)s of %(zg)s on %(day)s")
            % {
                "programme": enrolment.get_programme_display(),
                "zg": zorggroep.name,
                "day": day.strftime("%d-%m-%Y"),
            },
            zorggroep_id=zorggroep.pk,
        )
    if referral.is_ketenzorg:
        return Decision(
            Route.EXCEPTION,
            _(
                "the referral names a ketenzorg programme, but the patient "
                "has no enrolment with %(zg)s on %(day)s"
            )
            % {"zg": zorggroep.name, "day": day.strftime("%d-%m-%Y")},
            exception=BillingException.Reason.KETENZORG_UNCONFIRMED,
        )
    insurance = trajectory.patient.insurance_on(day)
    if insurance is None:
        return Decision(
            Route.EXCEPTION,
            _("no valid insurance on the intake date %(day)s") % {"day": day.strftime("%d-%m-%Y")},
            exception=BillingException.Reason.NO_INSURANCE,
        )
    earlier = (
        Claim.objects.filter(
            trajectory__patient=trajectory.patient,
            prestatie__kind=Prestatie.Kind.PROGRAMME,
            trajectory__intake_date__year=day.year,
        )
        .exclude(trajectory=trajectory)
        .exclude(status__in=[Claim.Status.REJECTED, Claim.Status.SUPERSEDED])
    )
    if earlier.exists():
        return Decision(
            Route.EXCEPTION,
            _(
                "a stop-smoking programme was already claimed for this insured in %(year)s "
                "(basic insurance covers one programme per calendar year)"
            )
            % {"year": day.year},
            exception=BillingException.Reason.SECOND_PROGRAMME,
        )
    return Decision(
        Route.INSURER,
        _("regular patient: insured with %(insurer)s (%(uzovi)s) on %(day)s")
        % {
            "insurer": insurance.insurer.name,
            "uzovi": insurance.insurer.uzovi,
            "day": day.strftime("%d-%m-%Y"),
        },
        insurance=insurance,
    )


def _performer_agb(trajectory: Trajectory) -> str:
    membership = Membership.objects.filter(
        user_id=trajectory.coach_id, organisation_id=trajectory.provider_id, role=Role.COACH
    ).first()
    return (
        membership.agb if membership and getattr(membership, "agb", "") else ""
    ) or trajectory.provider.agb


def claim_number(trajectory: Trajectory, prestatie: Prestatie, version: int) -> str:
    """The number the insurer sees: random per trajectory (from its referral's public id, never a
    database id), then the prestatie and the version, e.g. SMR-3F9A0C21B7E4-SMR01-1."""
    series = trajectory.referral.public_id.hex[:12].upper()
    return f"SMR-{series}-{prestatie.code}-{version}"


def claim_number_next_version(number: str, version: int) -> str:
    """A corrected claim keeps its series and prestatie; only the version changes."""
    return f"{number.rsplit('-', 1)[0]}-{version}"


@transaction.atomic
def billing_decide(*, trajectory_id: int) -> BillingDecision | None:
    """Decide the route of one ended trajectory and create its lines or claims (all or nothing)."""
    trajectory = (
        Trajectory.objects.select_for_update()
        .select_related("referral", "patient", "practice__zorggroep", "provider")
        .get(pk=trajectory_id)
    )
    if BillingDecision.objects.filter(trajectory=trajectory).exists():
        return None
    day = trajectory.intake_date
    with translation.override("nl"):
        decision = _decide(trajectory, day)
        prestaties = prestaties_for(trajectory)
        contract = (
            {"zorggroep_id": decision.zorggroep_id}
            if decision.route == Route.ZORGGROEP
            else (
                {"insurer_id": decision.insurance.insurer_id}
                if decision.route == Route.INSURER
                else None
            )
        )
        tariffs = {p.pk: _tariff(p, day, **contract) for p in prestaties} if contract else {}
        if contract and (not prestaties or any(t is None for t in tariffs.values())):
            missing = ", ".join(p.code for p in prestaties if tariffs.get(p.pk) is None) or _(
                "all prestaties"
            )
            decision = Decision(
                Route.EXCEPTION,
                _("no tariff on %(day)s for %(codes)s")
                % {"day": day.strftime("%d-%m-%Y"), "codes": missing},
                exception=BillingException.Reason.NO_TARIFF,
            )
        record = BillingDecision.objects.create(
            trajectory=trajectory,
            route=decision.route,
            reason=decision.reason[:300],
            reference_date=day,
            zorggroep_id=decision.zorggroep_id,
            insurance=decision.insurance,
        )
    if decision.route == Route.EXCEPTION:
        BillingException.objects.get_or_create(
            trajectory=trajectory,
            reason=decision.exception,
            defaults={"message": decision.reason[:500]},
        )
        return record
    end = trajectory.end_date or timezone.localdate()
    patient = trajectory.patient
    for prestatie in prestaties:
        amount = tariffs[prestatie.pk].amount
        if decision.route == Route.ZORGGROEP:
            InvoiceLine.objects.create(
                zorggroep_id=decision.zorggroep_id,
                trajectory=trajectory,
                prestatie=prestatie,
                amount=amount,
                patient_name=patient.full_name,
                patient_bsn=patient.bsn,
                patient_birth_date=patient.birth_date,
                practice_name=trajectory.practice.name,
                start_date=day,
                end_date=end,
            )
        else:
            insurance = decision.insurance
            Claim.objects.create(
                trajectory=trajectory,
                prestatie=prestatie,
                version=1,
                insurer=insurance.insurer,
                claim_number=claim_number(trajectory, prestatie, 1),
                bsn=patient.bsn,
                patient_name=patient.full_name,
                birth_date=patient.birth_date,
                uzovi=insurance.insurer.uzovi,
                policy_number=insurance.policy_number,
                provider_agb=trajectory.provider.agb,
                performer_agb=_performer_agb(trajectory),
                prestatie_code=prestatie.code,
                start_date=day,
                end_date=end,
                amount=amount,
            )
    return record


def billing_collect(*, limit: int | None = None) -> dict:
    """The periodic scan: decide every ended trajectory that has no decision yet."""
    decided = skipped = 0
    ids = list(billable_trajectories().order_by("pk").values_list("pk", flat=True)[:limit])
    for trajectory_id in ids:
        try:
            decided += billing_decide(trajectory_id=trajectory_id) is not None
        except IntegrityError:
            skipped += 1  # another worker decided it at the same moment
    return {"decided": decided, "skipped": skipped}


def amount_sum(lines) -> Decimal:
    return sum((line.amount for line in lines), Decimal("0"))
