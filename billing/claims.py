"""Claims to insurers: what an insurer pulls, how it answers each claim, how a rejection is corrected.

In reality claims travel as Vektis files through VECOZO; insurers asked to pull them over an API as
well and answer each one (accept, or reject with a Vektis-style reason code). The REST API and the
FHIR ClaimResponse both answer through ``claim_answer_many``: one transaction, row locks, all or
nothing, and the same answer twice is harmless (an insurer's batch job retries after a time-out).

A claim holds only what a claim needs (``billing.models.Claim``); the trajectory behind it is used
for scoping and for the patient id of the audit log, never shown.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Case, F, OuterRef, Q, QuerySet, Subquery, When
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.models import AuditEvent
from audit.services import Touch, audit_record, audit_record_many
from carechain.access import Actor
from carechain.models import Organisation, OrganisationAPIKey, Role
from carechain.validators import normalise_bsn, validate_agb, validate_bsn

from .models import Claim, RejectionReason
from .services import claim_number_next_version

MAX_ANSWERS = 500
CENT = Decimal("0.01")


class Outcome(models.TextChoices):
    ACCEPTED = "accepted", gettext_lazy("accepted")
    REJECTED = "rejected", gettext_lazy("rejected")


class ClaimConflict(ValidationError):
    """The claims' current state does not allow this: answered otherwise, superseded, not rejected.

    Carries the claim numbers, so an insurer's batch knows which answers to look at (a 409).
    """

    def __init__(self, message: str, *, claim_numbers: Sequence[str]):
        super().__init__(message, code="conflict")
        self.claim_numbers = list(claim_numbers)


class ClaimAnswersInvalid(ValidationError):
    """Answers that name an unknown claim or reason, or miss a reason; nothing was saved (a 400).

    ``item_errors`` maps the position of an answer in the request to ``{field: [message, ...]}``.
    """

    def __init__(self, item_errors: dict[int, dict[str, list[str]]]):
        self.item_errors = item_errors
        super().__init__(
            [
                f"#{index} {field}: {message}"
                for index, fields in sorted(item_errors.items())
                for field, messages in fields.items()
                for message in messages
            ],
            code="invalid",
        )


@dataclass(frozen=True)
class ClaimAnswer:
    claim_number: str
    outcome: str
    reason_code: str = ""
    reason_text: str = ""


@dataclass(frozen=True)
class AnswerResult:
    claim: Claim
    changed: bool


# -- who ------------------------------------------------------------------------------------------
def insurer_ids(actor: Actor) -> set[int]:
    """The insurers an actor reads and answers claims for: only through an insurer's claims key."""
    key = actor.api_key
    if key is None or key.purpose != OrganisationAPIKey.Purpose.CLAIMS:
        return set()
    return {
        grant.organisation_id
        for grant in actor.grants
        if grant.role == Role.INSURER and grant.organisation_kind == Organisation.Kind.INSURER
    }


def is_claims_client(actor: Actor) -> bool:
    return bool(insurer_ids(actor))


# -- reads ----------------------------------------------------------------------------------------
# Where a claim can have a neighbouring version: versions count from 1, and ``claim_resubmit`` is
# the only way to a next version, turning the one before ``superseded`` in the same transaction.
CAN_REPLACE = Q(version__gt=1)
CAN_BE_REPLACED = Q(status=Claim.Status.SUPERSEDED)


def with_versions(claims: QuerySet[Claim]) -> QuerySet[Claim]:
    """Adds the neighbouring versions' claim numbers (``replaces``/``replaced_by``), in one query.

    They use the unique (trajectory, prestatie, version) index, and only where there can be one
    (``CAN_REPLACE``, ``CAN_BE_REPLACED``): a pull of first versions looks nothing up.
    """
    versions = Claim.objects.filter(
        trajectory_id=OuterRef("trajectory_id"), prestatie_id=OuterRef("prestatie_id")
    ).order_by()  # at most one row: no sort, so an index answers it directly
    return claims.annotate(
        replaces=Case(
            When(
                CAN_REPLACE,
                then=Subquery(
                    versions.filter(version=OuterRef("version") - 1).values("claim_number")[:1]
                ),
            ),
            default=None,
        ),
        replaced_by=Case(
            When(
                CAN_BE_REPLACED,
                then=Subquery(
                    versions.filter(version=OuterRef("version") + 1).values("claim_number")[:1]
                ),
            ),
            default=None,
        ),
    )


def with_links(claims: QuerySet[Claim]) -> QuerySet[Claim]:
    """``with_versions`` and the audit log's patient id, from the trajectory's foreign key column
    only (a join, no trajectory row is loaded)."""
    return with_versions(claims).annotate(patient_id=F("trajectory__patient_id"))


def claims_for_insurer(actor: Actor) -> QuerySet[Claim]:
    """Claims addressed to the calling insurer; nothing for anyone else."""
    return with_links(Claim.objects.filter(insurer_id__in=insurer_ids(actor)))


def claims_for_provider(actor: Actor) -> QuerySet[Claim]:
    """Claims of trajectories of the provider(s) the actor plans for."""
    return with_links(Claim.objects.filter(trajectory__provider_id__in=actor.org_ids(Role.PLANNER)))


# -- answering ------------------------------------------------------------------------------------
def _is_same_answer(claim: Claim, answer: ClaimAnswer) -> bool:
    if answer.outcome == Outcome.ACCEPTED:
        return claim.status == Claim.Status.ACCEPTED
    return claim.status == Claim.Status.REJECTED and claim.rejection_code == answer.reason_code


def _check_answers(answers: Sequence[ClaimAnswer]) -> dict[int, dict[str, list[str]]]:
    errors: dict[int, dict[str, list[str]]] = {}

    def add(index: int, field: str, message: str) -> None:
        errors.setdefault(index, {}).setdefault(field, []).append(message)

    first_at: dict[str, int] = {}
    for index, answer in enumerate(answers):
        if answer.claim_number in first_at:
            add(
                index,
                "claim_number",
                _("Claim %(number)s is answered twice in this request (also answer #%(other)s).")
                % {"number": answer.claim_number, "other": first_at[answer.claim_number]},
            )
        first_at.setdefault(answer.claim_number, index)
        if answer.outcome not in Outcome.values:
            add(index, "outcome", _("Answer accepted or rejected."))
        elif answer.outcome == Outcome.REJECTED and not answer.reason_code:
            add(index, "reason_code", _("A rejection needs a reason code."))
        elif answer.outcome == Outcome.ACCEPTED and answer.reason_code:
            add(index, "reason_code", _("An accepted claim has no rejection reason."))
    return errors


@transaction.atomic
def claim_answer_many(*, actor: Actor, answers: Sequence[ClaimAnswer]) -> list[AnswerResult]:
    """Apply an insurer's answers to its claims: all of them, or none.

    Rows are locked in primary-key order, so two batches answering overlapping claims at once wait
    for each other instead of deadlocking. An answer equal to the stored one (same outcome, same
    reason code; the text may differ) changes nothing; a different answer to an answered claim, or
    any answer to a superseded claim, is a conflict.
    """
    insurers = insurer_ids(actor)
    if not insurers:
        raise PermissionDenied
    if len(answers) > MAX_ANSWERS:
        raise ValidationError(
            _("At most %(max)s answers per request.") % {"max": MAX_ANSWERS}, code="too_many"
        )
    errors = _check_answers(answers)
    codes = {answer.reason_code for answer in answers if answer.reason_code}
    reasons = dict(
        RejectionReason.objects.filter(code__in=codes).values_list("code", "description")
    )
    claims = {
        claim.claim_number: claim
        for claim in Claim.objects.select_for_update(of=("self",))
        .filter(insurer_id__in=insurers, claim_number__in={a.claim_number for a in answers})
        .annotate(patient_id=F("trajectory__patient_id"))
        .order_by("pk")
    }
    for index, answer in enumerate(answers):
        if answer.claim_number not in claims:
            errors.setdefault(index, {}).setdefault("claim_number", []).append(
                _("No claim %(number)s is addressed to you.") % {"number": answer.claim_number}
            )
        if answer.reason_code and answer.reason_code not in reasons:
            errors.setdefault(index, {}).setdefault("reason_code", []).append(
                _("Unknown rejection reason %(code)s.") % {"code": answer.reason_code}
            )
    if errors:
        raise ClaimAnswersInvalid(errors)

    conflicts = [
        answer.claim_number
        for answer in answers
        if claims[answer.claim_number].status == Claim.Status.SUPERSEDED
        or (
            claims[answer.claim_number].status != Claim.Status.SUBMITTED
            and not _is_same_answer(claims[answer.claim_number], answer)
        )
    ]
    if conflicts:
        raise ClaimConflict(
            _(
                "These claims were already answered differently or have been superseded by a "
                "corrected version; nothing was saved: %(numbers)s"
            )
            % {"numbers": ", ".join(conflicts)},
            claim_numbers=conflicts,
        )

    now = timezone.now()
    results, changed = [], []
    for answer in answers:
        claim = claims[answer.claim_number]
        if claim.status != Claim.Status.SUBMITTED:
            results.append(AnswerResult(claim, changed=False))
            continue
        claim.status = answer.outcome
        if answer.outcome == Outcome.REJECTED:
            claim.rejection_code = answer.reason_code
            claim.rejection_text = (answer.reason_text or reasons[answer.reason_code])[:500]
        claim.answered_at = claim.updated_at = now
        changed.append(claim)
        results.append(AnswerResult(claim, changed=True))
    if changed:
        Claim.objects.bulk_update(
            changed, ["status", "rejection_code", "rejection_text", "answered_at", "updated_at"]
        )
        audit_record_many(
            who=actor,
            action=AuditEvent.Action.CHANGE,
            touches=[
                Touch(claim.patient_id, claim, f"claim answered: {claim.status}")
                for claim in changed
            ],
        )
    return results


# -- correcting a rejection ------------------------------------------------------------------------
_CORRECTABLE = (
    "amount",
    "policy_number",
    "bsn",
    "patient_name",
    "birth_date",
    "performer_agb",
    "start_date",
    "end_date",
)


def _check_corrections(claim: Claim, corrections: dict) -> None:
    errors: dict[str, list[str]] = {}
    amount = corrections.get("amount")
    if amount is not None and not (
        Decimal("0") <= amount < Decimal("10000000") and amount == amount.quantize(CENT)
    ):
        errors["amount"] = [_("Give an amount in euros and cents, from 0 to 9,999,999.99.")]
    if "bsn" in corrections:
        try:
            validate_bsn(corrections["bsn"])
        except ValidationError as exc:
            errors["bsn"] = exc.messages
    if "performer_agb" in corrections:
        try:
            validate_agb(corrections["performer_agb"])
        except ValidationError as exc:
            errors["performer_agb"] = exc.messages
    for field in ("policy_number", "patient_name"):
        if field in corrections and not str(corrections[field]).strip():
            errors[field] = [_("This field cannot be empty.")]
    start = corrections.get("start_date", claim.start_date)
    end = corrections.get("end_date", claim.end_date)
    if end < start:
        errors["end_date"] = [_("The end date lies before the start date.")]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def claim_resubmit(
    *,
    actor: Actor,
    claim_id: int,
    amount: Decimal | None = None,
    policy_number: str | None = None,
    bsn: str | None = None,
    patient_name: str | None = None,
    birth_date: datetime.date | None = None,
    performer_agb: str | None = None,
    start_date: datetime.date | None = None,
    end_date: datetime.date | None = None,
) -> Claim:
    """The provider's planner corrects a rejected claim: a new version with a new claim number.

    The rejected version becomes superseded; both rows get a new ``updated_at``, so an insurer
    pulling with ``changed_since`` sees the old one withdrawn and the new one submitted.
    """
    try:
        claim = (
            Claim.objects.select_for_update(of=("self",))
            .select_related("prestatie")
            .annotate(
                provider_id=F("trajectory__provider_id"), patient_id=F("trajectory__patient_id")
            )
            .get(pk=claim_id)
        )
    except (Claim.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if claim.provider_id not in actor.org_ids(Role.PLANNER):
        raise PermissionDenied
    if claim.status != Claim.Status.REJECTED:
        raise ClaimConflict(
            _("Only a rejected claim can be corrected and resubmitted; %(number)s is %(status)s.")
            % {"number": claim.claim_number, "status": claim.get_status_display()},
            claim_numbers=[claim.claim_number],
        )
    given = {
        "amount": amount,
        "policy_number": policy_number,
        "bsn": normalise_bsn(bsn) if bsn is not None else None,
        "patient_name": patient_name,
        "birth_date": birth_date,
        "performer_agb": performer_agb,
        "start_date": start_date,
        "end_date": end_date,
    }
    corrections = {field: value for field, value in given.items() if value is not None}
    _check_corrections(claim, corrections)

    now = timezone.now()
    version = claim.version + 1
    fields = {field: getattr(claim, field) for field in _CORRECTABLE} | corrections
    new = Claim.objects.create(
        trajectory_id=claim.trajectory_id,
        prestatie=claim.prestatie,
        version=version,
        insurer_id=claim.insurer_id,
        claim_number=claim_number_next_version(claim.claim_number, version),
        uzovi=claim.uzovi,
        provider_agb=claim.provider_agb,
        prestatie_code=claim.prestatie_code,
        status=Claim.Status.SUBMITTED,
        created_at=now,
        updated_at=now,
        **fields,
    )
    claim.status = Claim.Status.SUPERSEDED
    claim.updated_at = now
    claim.save(update_fields=["status", "updated_at"])
    audit_record(
        who=actor,
        action=AuditEvent.Action.CHANGE,
        patient_id=claim.patient_id,
        obj=new,
        detail=f"claim {claim.claim_number} corrected and resubmitted as {new.claim_number}",
    )
    return new
