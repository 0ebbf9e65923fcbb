"""Domain actions on patients. Views, the API, the referral channels and the admin come through here.

A BSN is one person, and the platform keeps one record per BSN. The practice that registers or refers
a patient is that patient's practice: a BSN the platform knows under another practice means the
patient has changed GP, and the record moves to the new practice (a *take-over*). Registering or
referring a patient therefore answers the same whether the platform knew the BSN or not: that it knows
a BSN at all says the person is, or was, in stop-smoking care, which no other practice may learn.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import audit_record

from .access import Actor, practices_for_referring
from .models import (
    Insurance,
    KetenzorgEnrolment,
    OrganisationAPIKey,
    Patient,
    Practice,
    first_overlap,
    subtract_periods,
)

# What a take-over updates when the new practice sends it; the person's identity (names, date of
# birth, gender) stays as stored, because the BSN identifies the person.
CONTACT_FIELDS = ("phone", "email", "address", "postal_code", "city")


def _span(row) -> tuple:
    """A period row's (start, end); an empty end runs on."""
    return getattr(row, row.START), getattr(row, row.END)


def _check_periods(rows: list, field: str, message: str) -> None:
    if first_overlap([_span(r) for r in rows]):
        raise ValidationError({field: message})


def _new_patient(practice: Practice, fields: dict) -> Patient:
    """The patient as sent, checked field by field but not against the stored records, so that bad
    input gets the same errors whether another practice knows the BSN or not."""
    patient = Patient(practice=practice, **fields)
    # The practice is the caller's own, already read: no query to check that it exists.
    patient.full_clean(validate_unique=False, exclude=["practice"])
    return patient


def _locked_by_bsn(bsn: str) -> Patient | None:
    return Patient.objects.select_for_update().filter(bsn=bsn).first()


def _stored_or_inserted(candidate: Patient, stored: Patient | None) -> tuple[Patient, bool]:
    """The stored patient with the candidate's BSN, or the candidate saved (then True)."""
    if stored is not None:
        return stored, False
    try:
        with transaction.atomic():
            candidate.save()
    except IntegrityError:  # the same BSN registered by another request at this very moment
        return _locked_by_bsn(candidate.bsn), False
    return candidate, True


def _take_over(patient: Patient, sent: Patient) -> list[str]:
    """The patient now belongs to the sender's practice, and the contact details it sent are
    current; returns the names of the fields that changed."""
    changed = []
    if patient.practice_id != sent.practice_id:
        patient.practice = sent.practice
        changed.append("practice")
    for name in CONTACT_FIELDS:
        value = getattr(sent, name)
        if value and getattr(patient, name) != value:
            setattr(patient, name, value)
            changed.append(name)
    if changed:
        patient.save()
    return changed


@transaction.atomic
def patient_for_referral(*, actor: Actor, practice: Practice, fields: dict) -> Patient:
    """The referred patient: registered with the referring practice, or taken over by it.

    A patient the practice already has needs only the BSN; anyone else needs what a new patient
    needs, whether another practice knows the BSN or not.
    """
    stored = _locked_by_bsn(fields["bsn"])
    if stored is not None and stored.practice_id == practice.pk:
        patient, created, sent = stored, False, Patient(practice=practice, **fields)
    else:
        sent = _new_patient(practice, fields)
        patient, created = _stored_or_inserted(sent, stored)
    if created:
        audit_record(who=actor, action=AuditEvent.Action.CREATE, patient_id=patient.pk, obj=patient)
    elif changed := _take_over(patient, sent):
        audit_record(
            who=actor,
            action=AuditEvent.Action.CHANGE,
            patient_id=patient.pk,
            obj=patient,
            detail="referral updated: " + ",".join(changed),
        )
    return patient


def _in_use(row: models.Model) -> bool:
    """Whether another record refers to this period (billing's routing of a trajectory does)."""
    return any(
        rel.related_model._base_manager.filter(**{rel.field.name: row}).exists()
        for rel in row._meta.related_objects
    )


def _save_span(row, span: tuple) -> None:
    setattr(row, row.START, span[0])
    setattr(row, row.END, span[1])
    row.save()


def _merge_periods(patient: Patient, stored: list, sent: list) -> int:
    """Add the sent periods to a patient; they replace what the stored periods say for their dates.

    The registering practice is the patient's practice now, so what it states is the newer truth:
    stored periods are shortened, cut in two or removed where the sent ones overlap them. A stored
    period another record refers to (a billed trajectory's insurance) is never removed: where the
    sent periods cover it whole, it stays and they give way around it. Billing copies what it used,
    so shortening a period changes no claim or invoice. Returns how many stored periods changed.
    """
    stated = [_span(row) for row in sent]
    kept = []
    changed = 0
    for row in stored:
        span = _span(row)
        pieces = subtract_periods(span, stated)
        if pieces == [span]:
            continue
        if not pieces and _in_use(row):
            kept.append(span)
            continue
        changed += 1
        if not pieces:
            row.delete()
        for piece in pieces:  # a period cut in two keeps its row for the first piece
            _save_span(row, piece)
            row.pk, row._state.adding = None, True
    for row in sent:
        row.patient = patient
        for piece in subtract_periods(_span(row), kept):
            row.pk, row._state.adding = None, True
            _save_span(row, piece)
    return changed


@transaction.atomic
def patient_register(
    *,
    actor: Actor,
    practice: Practice,
    fields: dict,
    insurances: list[dict] = (),
    enrolments: list[dict] = (),
) -> Patient:
    """Register a patient with a practice the actor may refer for; all or nothing.

    Ketenzorg enrolments are with the zorggroep of the practice. A BSN already registered at this
    practice is a field error (the practice sees its own patients); one known under another practice
    is taken over, as a referral would (see the module's docstring).
    """
    if not practices_for_referring(actor).filter(pk=practice.pk).exists():
        raise PermissionDenied
    candidate = _new_patient(practice, fields)
    policy_rows = [Insurance(**data) for data in insurances]
    enrolment_rows = [
        KetenzorgEnrolment(**{**data, "zorggroep": practice.zorggroep}) for data in enrolments
    ]
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
        "insurances",
        _("Two insurance periods overlap; a patient has one basic insurance at a time."),
    )
    programmes = {r.programme for r in enrolment_rows}
    for programme in programmes:
        _check_periods(
            [r for r in enrolment_rows if r.programme == programme],
            "ketenzorg_enrolments",
            _("Two enrolments in the same programme overlap."),
        )
    patient, created = _stored_or_inserted(candidate, _locked_by_bsn(candidate.bsn))
    if not created and patient.practice_id == practice.pk:
        raise ValidationError({"bsn": _("This patient is already registered at your practice.")})
    changed = [] if created else _take_over(patient, candidate)
    replaced = _merge_periods(patient, list(patient.insurances.all()), policy_rows)
    for programme in programmes:
        replaced += _merge_periods(
            patient,
            list(patient.ketenzorg_enrolments.filter(programme=programme)),
            [r for r in enrolment_rows if r.programme == programme],
        )
    if created:
        audit_record(who=actor, action=AuditEvent.Action.CREATE, patient_id=patient.pk, obj=patient)
    else:
        audit_record(
            who=actor,
            action=AuditEvent.Action.CHANGE,
            patient_id=patient.pk,
            obj=patient,
            detail=(
                f"registration by {practice.agb}: {','.join(changed) or 'no field'} updated, "
                f"{len(policy_rows)} insurance and {len(enrolment_rows)} enrolment periods sent, "
                f"{replaced} stored periods changed"
            ),
        )
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


def coach_choices_of_providers(provider_ids) -> list[tuple[int, str]]:
    """``coaches_of_providers`` as (user id, name) pairs, for a filter's options."""
    from .models import Membership, Role, User

    return [
        (user_id, User.display_name(first_name, last_name, username))
        for user_id, first_name, last_name, username in Membership.objects.filter(
            organisation_id__in=list(provider_ids), role=Role.COACH, is_active=True
        )
        .order_by("user__last_name")
        .values_list("user_id", "user__first_name", "user__last_name", "user__username")
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


# -- API keys (security events in the audit log, like logins) ------------------------------------
def _describe(api_key: OrganisationAPIKey) -> str:
    """The key as the log names it: by its prefix (its primary key is longer than the log's
    object column, and is half the key's hash)."""
    return f"API key {api_key.prefix} ({api_key.purpose}) of {api_key.organisation.name}"


@transaction.atomic
def api_key_issue(*, by: Actor, api_key: OrganisationAPIKey) -> str:
    """Store a new organisation API key (unsaved, its fields filled) and return the key itself.

    Only its hash is stored: the key is shown once, to whoever made it.
    """
    api_key.full_clean(exclude=["id", "prefix", "hashed_key"])
    key = OrganisationAPIKey.objects.assign_key(api_key)
    api_key.save()
    until = f", expires {api_key.expiry_date:%Y-%m-%d %H:%M}" if api_key.expiry_date else ""
    audit_record(
        who=by,
        action=AuditEvent.Action.SECURITY,
        patient_id=None,
        detail=f"{_describe(api_key)} made{until}",
    )
    return key


@transaction.atomic
def api_key_change(*, by: Actor, api_key: OrganisationAPIKey, changed: list[str]) -> None:
    """Save a changed key (revoked, another expiry, a new name); each change is audited."""
    api_key.save()
    change = (
        "revoked" if "revoked" in changed and api_key.revoked else "changed: " + ",".join(changed)
    )
    audit_record(
        who=by,
        action=AuditEvent.Action.SECURITY,
        patient_id=None,
        detail=f"{_describe(api_key)} {change}",
    )
