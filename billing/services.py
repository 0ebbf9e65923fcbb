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

from django.db import IntegrityError, connection, transaction
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


# -- routing in set form ------------------------------------------------------------------------
# A KIS referral goes to the zorggroep of the referring practice whatever else holds (the first
# rule of ``_decide``), so for those the whole decision is computable in the database: one
# INSERT ... SELECT per zorggroep for the decisions and one for their lines, with the same
# reason, copies and amounts ``billing_decide`` writes. Trajectories it cannot settle that way
# (no intake date, a prestatie without a tariff on the intake date) are left to
# ``billing_decide``, which turns them into exceptions as before.

_NRT = sorted(NICOTINE_REPLACEMENT)
_PRESCRIPTION = sorted(PRESCRIPTION_MEDICATION)


def _uses(alias: str, medication: list[str]) -> str:
    """SQL: the trajectory ``alias`` has one of ``medication`` in its plan or any contact."""
    names = ", ".join(f"'{m}'" for m in medication)  # the app's own constants
    if connection.vendor == "postgresql":
        listed = f"ARRAY[{names}]"
        return (
            f"({alias}.medication_plan ?| {listed} OR EXISTS (SELECT 1 FROM pathways_contact c "  # noqa: S608
            f"WHERE c.trajectory_id = {alias}.id AND c.medication ?| {listed}))"
        )
    return (
        f"(EXISTS (SELECT 1 FROM json_each({alias}.medication_plan) WHERE value IN ({names})) "  # noqa: S608
        f"OR EXISTS (SELECT 1 FROM pathways_contact c, json_each(c.medication) "
        f"WHERE c.trajectory_id = {alias}.id AND value IN ({names})))"
    )


def _tariff_sql(prestatie: str, contract: str, day: str) -> str:
    """SQL: the amount ``_tariff`` finds (the newest tariff of the contract valid on the day)."""
    return (
        f"(SELECT tf.amount FROM billing_tariff tf WHERE tf.prestatie_id = {prestatie} "  # noqa: S608
        f"AND tf.zorggroep_id = {contract} AND tf.valid_from <= {day} "
        f"AND (tf.valid_to IS NULL OR tf.valid_to >= {day}) ORDER BY tf.valid_from DESC LIMIT 1)"
    )


def _kis_routing(*, limit: int | None) -> int:
    """Decide the billable KIS trajectories in bulk; returns how many were decided."""
    from carechain.models import Zorggroep

    prestaties = {p.kind: p for p in Prestatie.objects.all()}
    programme = prestaties.get(Prestatie.Kind.PROGRAMME)
    if programme is None:
        return 0
    # Which prestaties a trajectory has: the programme, plus each supplement that exists.
    needed = [(programme, "TRUE")]
    for kind, medication in (
        (Prestatie.Kind.NRT_SUPPLEMENT, _NRT),
        (Prestatie.Kind.MEDICATION_SUPPLEMENT, _PRESCRIPTION),
    ):
        if kind in prestaties:
            needed.append((prestaties[kind], _uses("t", medication)))
    every_tariff = " AND ".join(
        f"(NOT ({uses}) OR {_tariff_sql(p.pk, 'pr.zorggroep_id', 't.intake_date')} IS NOT NULL)"
        for p, uses in needed
    )
    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    today = ops.adapt_datefield_value(timezone.localdate())
    billable = (
        f"t.intake_date IS NOT NULL AND (t.state IN ({', '.join(['%s'] * len(ENDED_WITH_CARE))}) "
        f"OR t.state IN ({', '.join(['%s'] * len(STOPPED_EARLY))}))"
    )
    decided = 0
    with transaction.atomic(), connection.cursor() as cursor:
        for zorggroep in Zorggroep.objects.order_by("pk"):
            if limit is not None and decided >= limit:
                break
            with translation.override("nl"):
                reason = _("ketenzorg: referred through the KIS of %(zg)s") % {"zg": zorggroep.name}
            decisions = (
                "INSERT INTO billing_billingdecision (trajectory_id, route, reason, "  # noqa: S608
                "reference_date, zorggroep_id, decided_at) "
                "SELECT t.id, %s, %s, t.intake_date, pr.zorggroep_id, %s "
                "FROM pathways_trajectory t "
                "JOIN referrals_referral f ON f.id = t.referral_id "
                "JOIN carechain_practice pr ON pr.organisation_ptr_id = t.practice_id "
                f"WHERE pr.zorggroep_id = %s AND f.channel = %s AND {billable} "
                "AND NOT EXISTS (SELECT 1 FROM billing_billingdecision d "
                "WHERE d.trajectory_id = t.id) "
                f"AND {every_tariff} ORDER BY t.id"
                + (f" LIMIT {int(limit - decided)}" if limit is not None else "")
                + " ON CONFLICT (trajectory_id) DO NOTHING"
            )
            params = [
                Route.ZORGGROEP,
                reason[:300],
                now,
                zorggroep.pk,
                Channel.KIS,
                *ENDED_WITH_CARE,
                *STOPPED_EARLY,
            ]
            if connection.vendor == "postgresql":
                # The lines come from exactly the decisions this statement made.
                cursor.execute(
                    f"WITH made AS ({decisions} RETURNING trajectory_id), "  # noqa: S608
                    f"lines AS ({_lines_sql('made', needed)}) SELECT count(*) FROM made",
                    [*params, today, now],
                )
                decided += cursor.fetchone()[0]
            else:
                cursor.execute(decisions, params)
                decided += cursor.rowcount
                # One writer: the decisions stamped with this moment are the ones just made.
                cursor.execute(
                    "WITH made AS (SELECT trajectory_id FROM billing_billingdecision "  # noqa: S608
                    f"WHERE decided_at = %s AND zorggroep_id = %s) {_lines_sql('made', needed)}",
                    [now, zorggroep.pk, today, now],
                )
    return decided


def _full_name(alias: str) -> str:
    """SQL: ``Patient.full_name`` (given name or initials, prefix, last name; empty ones left out)."""
    given = f"CASE WHEN {alias}.first_name <> '' THEN {alias}.first_name ELSE {alias}.initials END"
    return (
        f"ltrim({given} || CASE WHEN {alias}.name_prefix <> '' THEN ' ' || {alias}.name_prefix "
        f"ELSE '' END || CASE WHEN {alias}.last_name <> '' THEN ' ' || {alias}.last_name "
        "ELSE '' END)"
    )


def _lines_sql(made: str, needed) -> str:
    """One line per decided trajectory and prestatie it has, with the copies ``billing_decide``
    makes (end of care: the end date, else today). Parameters: today, now."""
    has = " OR ".join(f"(p.id = {int(p.pk)} AND {uses})" for p, uses in needed)
    return (
        "INSERT INTO billing_invoiceline (zorggroep_id, trajectory_id, prestatie_id, kind, "  # noqa: S608
        "amount, patient_name, patient_bsn, patient_birth_date, practice_name, start_date, "
        "end_date, over_budget, dispute_reason, created_at) "
        f"SELECT pr.zorggroep_id, t.id, p.id, 'original', "
        f"{_tariff_sql('p.id', 'pr.zorggroep_id', 't.intake_date')}, {_full_name('pa')}, pa.bsn, "
        "pa.birth_date, o.name, t.intake_date, COALESCE(t.end_date, %s), FALSE, '', %s "
        f"FROM {made} JOIN pathways_trajectory t ON t.id = {made}.trajectory_id "
        "JOIN carechain_patient pa ON pa.id = t.patient_id "
        "JOIN carechain_practice pr ON pr.organisation_ptr_id = t.practice_id "
        "JOIN carechain_organisation o ON o.id = t.practice_id "
        f"JOIN billing_prestatie p ON {has}"
    )


def billing_collect(*, limit: int | None = None) -> dict:
    """The periodic scan: decide every ended trajectory that has no decision yet; KIS referrals
    in bulk (``_kis_routing``), every other one through ``billing_decide``."""
    decided = skipped = 0
    decided += _kis_routing(limit=limit)
    if limit is not None:
        limit = max(0, limit - decided)
    ids = list(billable_trajectories().order_by("pk").values_list("pk", flat=True)[:limit])
    for trajectory_id in ids:
        try:
            decided += billing_decide(trajectory_id=trajectory_id) is not None
        except IntegrityError:
            skipped += 1  # another worker decided it at the same moment
    return {"decided": decided, "skipped": skipped}


def amount_sum(lines) -> Decimal:
    return sum((line.amount for line in lines), Decimal("0"))
