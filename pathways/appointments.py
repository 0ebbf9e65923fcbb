"""Appointments in the rooms practices lend the provider's coaches ("Locaties regelen"): cancelling,
the patient's e-mail confirmation, and the reads behind the location day view and a coach's agenda.

Booking itself stays ``services.appointment_book``, the one place the room and coach rules live;
everything here builds on it and never re-checks a clash.
"""

from __future__ import annotations

import datetime
import logging
import smtplib
from dataclasses import dataclass
from functools import partial
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import audit_record
from carechain.access import Actor
from carechain.models import PRACTICE_ROLES, Location, Role, User

from .access import is_coach_of_provider, is_planner_of_provider, trajectories_for
from .models import Appointment, ContactKind, Trajectory
from .services import _event

logger = logging.getLogger(__name__)

# The practices' wall clock: a date and a time typed in a form, and a day in the URL, mean this.
PRACTICE_TZ = ZoneInfo("Europe/Amsterdam")
# Days outside this range are typing errors, not plans (and keep day ± 1 far from date.max).
FIRST_DAY = datetime.date(2000, 1, 1)
LAST_DAY = datetime.date(2100, 12, 31)

EMAIL_TEMPLATES = "pathways/appointments/email/confirmation"
ROOM_KINDS = frozenset({ContactKind.LOCATION, ContactKind.INTAKE, ContactKind.GROUP})


class ConfirmationImpossible(ValidationError):
    """The patient cannot be sent a confirmation (no e-mail address, or nothing planned)."""


# -- wall-clock helpers --------------------------------------------------------------------------
def starts_at_for(day: datetime.date, time: datetime.time) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, time), PRACTICE_TZ)


def day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """Midnight to midnight in Amsterdam; computed apart so a DST day lasts 23 or 25 hours."""
    return (
        starts_at_for(day, datetime.time.min),
        starts_at_for(day + datetime.timedelta(days=1), datetime.time.min),
    )


def today() -> datetime.date:
    return timezone.localtime(timezone.now(), PRACTICE_TZ).date()


def parse_day(value: str) -> datetime.date:
    """A YYYY-MM-DD from a URL; anything else (or a date out of range) is a 404."""
    try:
        day = datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise Http404 from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise Http404
    return day


# -- loading with the access policy --------------------------------------------------------------
def _require_planning(actor: Actor, trajectory: Trajectory) -> None:
    """Seeing a trajectory is not enough: only the provider's coaches and planners plan."""
    if not (is_coach_of_provider(actor, trajectory) or is_planner_of_provider(actor, trajectory)):
        raise PermissionDenied


def trajectory_for_booking(actor: Actor, trajectory_id) -> Trajectory:
    try:
        trajectory = (
            trajectories_for(actor)
            .select_related("patient", "provider", "coach")
            .get(pk=trajectory_id)
        )
    except (Trajectory.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    _require_planning(actor, trajectory)
    return trajectory


def appointment_for_planning(actor: Actor, appointment_id, *, lock: bool = False) -> Appointment:
    """The appointment with its patient, room and coach; 404 when the trajectory is out of sight."""
    appointments = Appointment.objects.select_related(
        "trajectory__patient", "trajectory__provider", "location__practice", "coach"
    )
    if lock:
        appointments = appointments.select_for_update(of=("self",))
    try:
        appointment = appointments.get(pk=appointment_id)
    except (Appointment.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not trajectories_for(actor).filter(pk=appointment.trajectory_id).exists():
        raise Http404
    _require_planning(actor, appointment.trajectory)
    return appointment


def provider_coaches(provider_id) -> QuerySet[User]:
    return (
        User.objects.filter(
            memberships__organisation_id=provider_id,
            memberships__role=Role.COACH,
            memberships__is_active=True,
        )
        .distinct()
        .order_by("last_name", "first_name", "pk")
    )


def provider_rooms(provider_id) -> QuerySet[Location]:
    return Location.objects.filter(provider_id=provider_id, is_active=True).select_related(
        "practice"
    )


# -- actions -------------------------------------------------------------------------------------
@transaction.atomic
def appointment_cancel(*, actor: Actor, appointment_id, reason: str = "") -> Appointment:
    """Cancel a planned appointment; from then on it no longer holds the room or the coach."""
    appointment = appointment_for_planning(actor, appointment_id, lock=True)
    if appointment.status != Appointment.Status.PLANNED:
        raise ValidationError(
            _("Only a planned appointment can be cancelled."), code="invalid_transition"
        )
    appointment.status = Appointment.Status.CANCELLED
    appointment.save(update_fields=["status"])
    trajectory = appointment.trajectory
    when = timezone.localtime(appointment.starts_at, PRACTICE_TZ).strftime("%d-%m-%Y %H:%M")
    note = _("Appointment cancelled: %(when)s") % {"when": when}
    if reason.strip():
        note = f"{note} ({reason.strip()})"
    _event(trajectory, actor, "appointment_cancelled", before=trajectory.state, note=note)
    audit_record(
        who=actor,
        action=AuditEvent.Action.CHANGE,
        patient_id=trajectory.patient_id,
        obj=appointment,
        detail="appointment cancelled",
    )
    return appointment


@transaction.atomic
def appointment_send_confirmation(*, actor: Actor, appointment_id) -> bool:
    """E-mail the patient a confirmation; False when one was sent before (twice is a no-op).

    The row is claimed inside the transaction and the message leaves only when it commits, so a
    booking that rolls back never leaves a confirmation behind. A failed send releases the claim.
    """
    appointment = appointment_for_planning(actor, appointment_id, lock=True)
    if appointment.confirmation_sent_at is not None:
        return False
    if appointment.status != Appointment.Status.PLANNED:
        raise ConfirmationImpossible(
            _("Only a planned appointment can be confirmed."), code="not_planned"
        )
    if appointment.starts_at <= timezone.now():
        raise ConfirmationImpossible(
            _("This appointment has already begun; no confirmation was sent."), code="past"
        )
    patient = appointment.trajectory.patient
    if not patient.email:
        raise ConfirmationImpossible(
            _("The patient has no e-mail address, so no confirmation was sent."),
            code="no_email",
        )
    message = confirmation_message(appointment)
    claimed_at = timezone.now()
    claimed = Appointment.objects.filter(
        pk=appointment.pk, confirmation_sent_at__isnull=True
    ).update(confirmation_sent_at=claimed_at)
    if not claimed:
        return False
    appointment.confirmation_sent_at = claimed_at
    audit_record(
        who=actor,
        action=AuditEvent.Action.CHANGE,
        patient_id=patient.pk,
        obj=appointment,
        detail="appointment confirmation",
    )
    transaction.on_commit(partial(_deliver, message, appointment.pk, claimed_at))
    return True


def _deliver(message: EmailMultiAlternatives, appointment_id: int, claimed_at) -> None:
    try:
        message.send()
    except (smtplib.SMTPException, OSError):
        logger.exception("Confirmation of appointment %s could not be sent", appointment_id)
        Appointment.objects.filter(pk=appointment_id, confirmation_sent_at=claimed_at).update(
            confirmation_sent_at=None
        )


def confirmation_message(appointment: Appointment) -> EmailMultiAlternatives:
    """The patient's confirmation, always in Dutch (the patient has no language setting).

    It names when, where, with whom and how to cancel, and nothing more: no BSN, no date of birth,
    nothing from the intake or the contacts.
    """
    trajectory = appointment.trajectory
    provider = trajectory.provider
    location = appointment.location if appointment.kind in ROOM_KINDS else None
    starts = timezone.localtime(appointment.starts_at, PRACTICE_TZ)
    context = {
        "patient_name": trajectory.patient.full_name,
        "coach_name": appointment.coach.get_full_name(),
        "provider_name": provider.name,
        "provider_phone": provider.phone,
        "provider_email": provider.email,
        "kind": appointment.kind,
        "day": starts.date(),
        "time": starts.time(),
        "duration_minutes": appointment.duration_minutes,
        "location": location,
        "practice": location.practice if location else None,
    }
    with translation.override("nl"):
        subject = render_to_string(f"{EMAIL_TEMPLATES}_subject.txt", context)
        text = render_to_string(f"{EMAIL_TEMPLATES}.txt", context)
        html = render_to_string(f"{EMAIL_TEMPLATES}.html", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[trajectory.patient.email],
        reply_to=[provider.email] if provider.email else None,
    )
    message.attach_alternative(html, "text/html")
    return message


# -- reads for the pages -------------------------------------------------------------------------
@dataclass(frozen=True)
class Slot:
    """What the lending practice sees of a booking in its room: when it is taken, not by whom."""

    starts_at: datetime.datetime
    ends_at: datetime.datetime


@dataclass(frozen=True)
class LocationDay:
    location: Location
    day: datetime.date
    shows_patients: bool
    appointments: list[Appointment]
    slots: list[Slot]


def location_day(actor: Actor, *, location_id, day: datetime.date) -> LocationDay:
    """One room's bookings for one day, in time order.

    The provider's coaches and planners see everything, cancelled bookings included. Staff of the
    practice that lends the room see only when it is occupied; patient names are never loaded for
    them. Everyone else gets a 404. Two queries: the room, then its bookings with coach and patient.
    """
    try:
        location = Location.objects.select_related("practice", "provider").get(pk=location_id)
    except (Location.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    start, end = day_bounds(day)
    bookings = Appointment.objects.filter(
        location=location, starts_at__gte=start, starts_at__lt=end
    ).order_by("starts_at", "pk")
    if location.provider_id in actor.org_ids(Role.COACH, Role.PLANNER):
        rows = list(bookings.select_related("coach", "trajectory__patient"))
        return LocationDay(location, day, shows_patients=True, appointments=rows, slots=[])
    if location.practice_id in actor.org_ids(*PRACTICE_ROLES):
        taken = bookings.exclude(status=Appointment.Status.CANCELLED)
        slots = [
            Slot(starts_at, starts_at + datetime.timedelta(minutes=minutes))
            for starts_at, minutes in taken.values_list("starts_at", "duration_minutes")
        ]
        return LocationDay(location, day, shows_patients=False, appointments=[], slots=slots)
    raise Http404


def locations_for(actor: Actor) -> QuerySet[Location]:
    """Rooms lent to the actor's provider, and rooms the actor's own practice lends."""
    condition = Q(pk__in=[])
    provider_ids = actor.org_ids(Role.COACH, Role.PLANNER)
    if provider_ids:
        condition |= Q(provider_id__in=provider_ids)
    practice_ids = actor.org_ids(*PRACTICE_ROLES)
    if practice_ids:
        condition |= Q(practice_id__in=practice_ids)
    return (
        Location.objects.filter(condition)
        .select_related("practice", "provider")
        .order_by("practice__name", "name", "pk")
    )


def coach_agenda(actor: Actor, *, day: datetime.date) -> list[Appointment]:
    """The coach's own planned appointments of one day, across rooms, phone and video."""
    if actor.user is None:
        return []
    start, end = day_bounds(day)
    return list(
        Appointment.objects.filter(
            coach=actor.user,
            status=Appointment.Status.PLANNED,
            starts_at__gte=start,
            starts_at__lt=end,
            trajectory__provider_id__in=actor.org_ids(Role.COACH),
        )
        .select_related("location__practice", "trajectory__patient")
        .order_by("starts_at", "pk")
    )


def trajectory_appointments(trajectory: Trajectory) -> list[Appointment]:
    return list(
        trajectory.appointments.select_related("coach", "location__practice").order_by(
            "starts_at", "pk"
        )
    )
