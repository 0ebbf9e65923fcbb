"""Appointment pages: book for a trajectory, cancel, confirm by e-mail, a room's day, a coach's day.

Thin by design: parse the form, call ``services.appointment_book`` or a service in
``appointments``, show its errors on the right field, redirect.
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from audit.models import AuditEvent
from audit.services import Touch, audit_record_many
from carechain.access import Actor, role_required
from carechain.models import PRACTICE_ROLES, Role

from . import appointments, services
from .appointments import PRACTICE_TZ, ConfirmationImpossible
from .forms_appointments import AppointmentForm, CancelForm, DayForm
from .models import Appointment

PLANNING_ROLES = (Role.COACH, Role.PLANNER)
ONE_DAY = datetime.timedelta(days=1)


def _next_url(request, default: str) -> str:
    """Back to the page the action was started from, if it is one of ours."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _when(appointment: Appointment) -> str:
    return timezone.localtime(appointment.starts_at, PRACTICE_TZ).strftime("%d-%m-%Y %H:%M")


@role_required(*PLANNING_ROLES)
def appointment_book(request, trajectory_id: int):
    actor = request.actor
    trajectory = appointments.trajectory_for_booking(actor, trajectory_id)
    data = request.POST if request.method == "POST" else None
    form = AppointmentForm(data, trajectory=trajectory, actor=actor)
    if data is not None and form.is_valid():
        cleaned = form.cleaned_data
        problem = None
        try:
            with transaction.atomic():
                appointment = services.appointment_book(
                    actor=actor,
                    trajectory_id=trajectory.pk,
                    kind=cleaned["kind"],
                    starts_at=cleaned["starts_at"],
                    duration_minutes=cleaned["duration_minutes"],
                    coach_id=cleaned["coach"].pk,
                    location=cleaned["location"],
                )
                if cleaned["send_confirmation"]:
                    try:
                        appointments.appointment_send_confirmation(
                            actor=actor, appointment_id=appointment.pk
                        )
                    except ConfirmationImpossible as exc:
                        problem = exc.messages[0]
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(
                request, _("Appointment planned on %(when)s.") % {"when": _when(appointment)}
            )
            if problem:
                messages.warning(request, problem)
            elif cleaned["send_confirmation"]:
                messages.success(request, _("The patient has been sent a confirmation by e-mail."))
            return redirect("appointment-book", trajectory_id=trajectory.pk)
    listing = appointments.trajectory_appointments(trajectory)
    audit_record_many(
        who=actor,
        action=AuditEvent.Action.VIEW,
        touches=[Touch(trajectory.patient_id, trajectory, "appointments of the trajectory")],
    )
    return render(
        request,
        "pathways/appointments/book.html",
        {"trajectory": trajectory, "form": form, "appointments": listing},
    )


@role_required(*PLANNING_ROLES)
def appointment_cancel(request, pk: int):
    actor = request.actor
    appointment = appointments.appointment_for_planning(actor, pk)
    default = reverse("appointment-book", args=[appointment.trajectory_id])
    data = request.POST if request.method == "POST" else None
    form = CancelForm(data)
    if data is not None and form.is_valid():
        try:
            appointments.appointment_cancel(
                actor=actor, appointment_id=appointment.pk, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(
                request, _("Appointment of %(when)s cancelled.") % {"when": _when(appointment)}
            )
            return redirect(_next_url(request, default))
    audit_record_many(
        who=actor,
        action=AuditEvent.Action.VIEW,
        touches=[Touch(appointment.trajectory.patient_id, appointment, "cancel appointment")],
    )
    return render(
        request,
        "pathways/appointments/cancel.html",
        {"appointment": appointment, "form": form, "next": _next_url(request, default)},
    )


@role_required(*PLANNING_ROLES)
@require_POST
def appointment_send_confirmation(request, pk: int):
    actor = request.actor
    try:
        sent = appointments.appointment_send_confirmation(actor=actor, appointment_id=pk)
    except ConfirmationImpossible as exc:
        messages.warning(request, exc.messages[0])
    else:
        if sent:
            messages.success(request, _("The patient has been sent a confirmation by e-mail."))
        else:
            messages.info(request, _("A confirmation was already sent for this appointment."))
    trajectory_id = Appointment.objects.values_list("trajectory_id", flat=True).get(pk=pk)
    return redirect(_next_url(request, reverse("appointment-book", args=[trajectory_id])))


@role_required(*PLANNING_ROLES, *PRACTICE_ROLES)
@require_GET
def location_list(request):
    locations = list(appointments.locations_for(request.actor))
    return render(
        request,
        "pathways/appointments/location_list.html",
        {"locations": locations, "today": appointments.today()},
    )


def _go_to_date(request, url_name: str, *args):
    """The 'go to date' box: a valid date redirects to that day's page, else its error shows."""
    form = DayForm(request.GET if "day" in request.GET else None)
    if form.is_bound and form.is_valid():
        day = form.cleaned_data["day"].isoformat()
        return form, redirect(url_name, *args, day)
    return form, None


def _day_links(day: datetime.date) -> dict:
    return {
        "day": day,
        "previous_day": (day - ONE_DAY).isoformat(),
        "next_day": (day + ONE_DAY).isoformat(),
        "today": appointments.today(),
    }


@login_required
@require_GET
def location_day(request, location_id: int, day: str | None = None):
    actor = Actor.from_request(request)
    date = appointments.parse_day(day) if day else appointments.today()
    # Scope first, so a room out of sight is a 404 before any date box redirects.
    page = appointments.location_day(actor, location_id=location_id, day=date)
    form, go = _go_to_date(request, "location-day", page.location.pk)
    if go is not None:
        return go
    if page.shows_patients:
        audit_record_many(
            who=actor,
            action=AuditEvent.Action.LIST,
            touches=[
                Touch(a.trajectory.patient_id, a, "location day view") for a in page.appointments
            ],
        )
    return render(
        request,
        "pathways/appointments/location_day.html",
        {"page": page, "location": page.location, "day_form": form, **_day_links(date)},
    )


@role_required(Role.COACH)
@require_GET
def coach_agenda(request, day: str | None = None):
    actor = request.actor
    date = appointments.parse_day(day) if day else appointments.today()
    form, go = _go_to_date(request, "coach-agenda")
    if go is not None:
        return go
    agenda = appointments.coach_agenda(actor, day=date)
    audit_record_many(
        who=actor,
        action=AuditEvent.Action.LIST,
        touches=[Touch(a.trajectory.patient_id, a, "coach agenda") for a in agenda],
    )
    return render(
        request,
        "pathways/appointments/coach_agenda.html",
        {"appointments": agenda, "day_form": form, **_day_links(date)},
    )
