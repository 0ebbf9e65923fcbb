"""Domain actions on patients. Views, the API and the admin all come through here."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import audit_record

from .access import Actor, practices_for_referring
from .models import Insurance, KetenzorgEnrolment, Patient, Practice, first_overlap


def _check_periods(rows: list, start: str, end: str, field: str, message: str) -> None:
    clash = first_overlap([(getattr(r, start), getattr(r, end)) for r in rows])
    if clash:
        raise ValidationError({field: message})


@transaction.atomic
def patient_register(
    *,
    actor: Actor,
    practice: Practice,
    fields: dict,
    insurances: list[dict] = (),
    enrolments: list[dict] = (),
) -> Patient:
    """Register a new patient of a practice the actor may refer for; all or nothing."""
    if not practices_for_referring(actor).filter(pk=practice.pk).exists():
        raise PermissionDenied
    patient = Patient(practice=practice, **fields)
    patient.full_clean()
    policy_rows = [Insurance(patient=patient, **data) for data in insurances]
    enrolment_rows = [KetenzorgEnrolment(patient=patient, **data) for data in enrolments]
    errors: dict[str, list] = {}
    for name, rows in (("insurances", policy_rows), ("ketenzorg_enrolments", enrolment_rows)):
        for row in rows:
            try:
                row.full_clean(exclude=["patient"], validate_unique=False)
            except ValidationError as exc:
                errors.setdefault(name, []).extend(exc.messages)
    if errors:
        raise ValidationError(errors)
    _check_periods(
        policy_rows,
        "valid_from",
        "valid_to",
        "insurances",
        _("Two insurance periods overlap; a patient has one basic insurance at a time."),
    )
    for programme in {r.programme for r in enrolment_rows}:
        _check_periods(
            [r for r in enrolment_rows if r.programme == programme],
            "start",
            "end",
            "ketenzorg_enrolments",
            _("Two enrolments in the same programme overlap."),
        )
    patient.save()
    for row in (*policy_rows, *enrolment_rows):
        row.patient = patient
        row.save()
    audit_record(who=actor, action=AuditEvent.Action.CREATE, patient_id=patient.pk, obj=patient)
    return patient


@transaction.atomic
def insurance_add(*, actor: Actor, patient_id: int, data: dict) -> Insurance:
    """Add an insurance period; the patient row is locked so two clerks cannot add overlapping ones."""
    patient = Patient.objects.select_for_update().get(pk=patient_id)
    insurance = Insurance(patient=patient, **data)
    insurance.full_clean()
    insurance.save()
    audit_record(who=actor, action=AuditEvent.Action.CHANGE, patient_id=patient.pk, obj=insurance)
    return insurance


def coaches_of_providers(provider_ids) -> list:
    """The active SMR coaches of the given providers, for choosing one in a form."""
    from .models import Membership, Role

    return [
        m.user
        for m in Membership.objects.filter(
            organisation_id__in=list(provider_ids), role=Role.COACH, is_active=True
        )
        .select_related("user")
        .order_by("user__last_name")
    ]


def coach_of_provider(*, provider_id, user_id):
    """The user as an active coach of the provider, or a form error on the coach field."""
    from .models import Membership, Role

    membership = (
        Membership.objects.filter(
            user_id=user_id, organisation_id=provider_id, role=Role.COACH, is_active=True
        )
        .select_related("user")
        .first()
    )
    if membership is None:
        raise ValidationError({"coach": _("Choose a coach of this provider.")})
    return membership.user
