"""The one access policy: who may see which patients, and the Actor every action is done by.

An Actor is a person logged in through the browser (with one or more memberships) or an API client
authenticated by an organisation API key. Rooms higher up (referrals, pathways) extend the patient
scope of the provider roles through ``register_patient_scope``; this module never imports them.
Denials on objects are 404s (the object's existence is not revealed); denials on pages are 403s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from .models import Membership, OrganisationAPIKey, Patient, Practice, Role

# Pseudo-role of a referral-intake API key (a practice's or zorggroep's system, not a person).
INTAKE = "intake"
# Pseudo-role of a feedback key: the referrer's system reading its referrals' status and feedback.
FEEDBACK = "feedback"
_KEY_ROLES = {
    OrganisationAPIKey.Purpose.CLAIMS: Role.INSURER,
    OrganisationAPIKey.Purpose.REFERRAL_INTAKE: INTAKE,
    OrganisationAPIKey.Purpose.FEEDBACK: FEEDBACK,
}


@dataclass(frozen=True)
class Grant:
    role: str
    organisation_id: int
    organisation_name: str
    organisation_kind: str

    @property
    def role_label(self) -> str:
        return Role(self.role).label if self.role in Role.values else self.role


@dataclass(frozen=True)
class Actor:
    user: object | None = None
    api_key: OrganisationAPIKey | None = None
    grants: tuple[Grant, ...] = field(default_factory=tuple)
    channel: str = "web"
    ip: str | None = None

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def for_user(cls, user, *, channel: str = "web", ip: str | None = None) -> Actor:
        if user is None or not user.is_authenticated:
            return cls(channel=channel, ip=ip)
        cached = getattr(user, "_smr_grants", None)
        if cached is None:
            cached = tuple(
                Grant(m.role, m.organisation_id, m.organisation.name, m.organisation.kind)
                for m in Membership.objects.filter(
                    user=user, is_active=True, organisation__is_active=True
                ).select_related("organisation")
            )
            user._smr_grants = cached
        return cls(user=user, grants=cached, channel=channel, ip=ip)

    @classmethod
    def for_api_key(cls, key: OrganisationAPIKey, *, channel: str, ip: str | None) -> Actor:
        organisation = key.organisation
        role = _KEY_ROLES[key.purpose]
        grant = Grant(role, organisation.pk, organisation.name, organisation.kind)
        return cls(api_key=key, grants=(grant,), channel=channel, ip=ip)

    @classmethod
    def from_request(cls, request, *, channel: str | None = None) -> Actor:
        ip = request.META.get("REMOTE_ADDR")
        auth = getattr(request, "auth", None)
        if isinstance(auth, OrganisationAPIKey):
            return cls.for_api_key(auth, channel=channel or "api", ip=ip)
        return cls.for_user(request.user, channel=channel or "web", ip=ip)

    @classmethod
    def system(cls, *, channel: str = "task") -> Actor:
        return cls(channel=channel)

    # -- questions ----------------------------------------------------------------------------
    @property
    def is_authenticated(self) -> bool:
        return bool(self.grants) or (self.user is not None and self.user.is_superuser)

    def has_role(self, *roles: str) -> bool:
        return any(g.role in roles for g in self.grants)

    def org_ids(self, *roles: str) -> set[int]:
        return {g.organisation_id for g in self.grants if not roles or g.role in roles}

    def require_role(self, *roles: str) -> None:
        if not self.has_role(*roles):
            raise PermissionDenied

    # -- what the audit log copies --------------------------------------------------------------
    @property
    def audit_user_id(self) -> int | None:
        return getattr(self.user, "pk", None)

    @property
    def audit_username(self) -> str:
        return getattr(self.user, "username", "") or ""

    @property
    def audit_api_key(self) -> str:
        if self.api_key is None:
            return ""
        return f"{self.api_key.prefix} ({self.api_key.name})"

    @property
    def audit_roles(self) -> str:
        return ",".join(sorted({g.role for g in self.grants})) or (
            "system" if not self.user else ""
        )

    @property
    def audit_organisation(self) -> str:
        return "; ".join(sorted({g.organisation_name for g in self.grants}))


# -- patient scope ------------------------------------------------------------------------------
PatientScope = Callable[[set[int]], Q]
_patient_scopes: dict[str, list[PatientScope]] = {}


def register_patient_scope(role: str, scope: PatientScope) -> None:
    """Let a higher room widen which patients a role sees (e.g. a coach: the provider's caseload)."""
    _patient_scopes.setdefault(role, []).append(scope)


def _intake_scope(org_ids: set[int]) -> Q:
    return Q(practice_id__in=org_ids) | Q(practice__zorggroep_id__in=org_ids)


for _role in (Role.GP, Role.POH_S, Role.POH_GGZ):
    register_patient_scope(_role, lambda ids: Q(practice_id__in=ids))
register_patient_scope(INTAKE, _intake_scope)


def patient_filter(actor: Actor) -> Q:
    """Q over Patient for everything this actor may see; matches nothing when nothing is allowed."""
    condition = Q(pk__in=[])
    for role in {g.role for g in actor.grants}:
        ids = actor.org_ids(role)
        for scope in _patient_scopes.get(role, []):
            condition |= scope(ids)
    return condition


def patients_for(actor: Actor) -> QuerySet[Patient]:
    return Patient.objects.filter(patient_filter(actor)).distinct()


def get_patient(actor: Actor, pk) -> Patient:
    try:
        return patients_for(actor).select_related("practice").get(pk=pk)
    except (Patient.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def practices_for_referring(actor: Actor) -> QuerySet[Practice]:
    """Practices this actor may refer for: its own practice(s), or a zorggroep's practices (KIS)."""
    ids = actor.org_ids(Role.GP, Role.POH_S, Role.POH_GGZ, INTAKE)
    return Practice.objects.filter(Q(pk__in=ids) | Q(zorggroep_id__in=ids))


def can_see_patients(actor: Actor) -> bool:
    return any(role in _patient_scopes for role in {g.role for g in actor.grants})


def role_required(*roles: str):
    """View decorator: login first, then 403 unless the person holds one of the roles."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            actor = Actor.from_request(request)
            if not actor.has_role(*roles):
                raise PermissionDenied
            request.actor = actor
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


__all__ = [
    "FEEDBACK",
    "INTAKE",
    "Actor",
    "Grant",
    "get_patient",
    "patient_filter",
    "patients_for",
    "practices_for_referring",
    "register_patient_scope",
    "role_required",
]
