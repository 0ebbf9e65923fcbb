"""Pages of the trajectory: the coach's caseload, the trajectory page, the POH-GGZ inbox."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from audit.models import AuditEvent
from audit.services import Touch, audit_record, audit_record_many, audit_record_page
from carechain.access import Actor, role_required
from carechain.models import Location, Role
from carechain.services import coaches_of_providers

from . import forms, queries, services
from .access import (
    can_read_ggz_notes,
    is_coach_of_provider,
    is_planner_of_provider,
    is_poh_ggz_of_practice,
    trajectories_for,
)
from .models import Escalation, Medication, Trajectory
from .models import TrajectoryState as T

CASELOAD_LIMIT = 500


def _coaches(provider_ids):
    return coaches_of_providers(provider_ids)


def _int_or_none(value):
    try:
        return int(value) if value else None
    except ValueError:
        return None


@role_required(Role.COACH, Role.PLANNER)
@require_GET
def caseload(request):
    actor = request.actor
    provider_ids = actor.org_ids(Role.COACH, Role.PLANNER)
    is_planner = actor.has_role(Role.PLANNER)
    coach_param = request.GET.get("coach", "" if is_planner else "me")
    coach_id = request.user.pk if coach_param == "me" else _int_or_none(coach_param)
    state = request.GET.get("state", "")
    state = state if state in queries.CASELOAD_STATES else ""
    filters = {
        "coach_id": coach_id,
        "state": state,
        "location_id": _int_or_none(request.GET.get("location")),
        "practice_id": _int_or_none(request.GET.get("practice")),
        "query": request.GET.get("q", "").strip()[:100],
    }
    rows = queries.caseload_rows(queries.caseload(actor, **filters)[:CASELOAD_LIMIT])
    audit_record_page(
        who=actor,
        action=AuditEvent.Action.LIST,
        model=Trajectory,
        patient_ids=[row["patient_id"] for row in rows],
        object_ids=[row["pk"] for row in rows],
        detail="caseload",
    )
    return render(
        request,
        "pathways/caseload.html",
        {
            "rows": rows,
            "filters": filters,
            "coach_param": coach_param,
            "is_planner": is_planner,
            "states": [(s, T(s).label) for s in queries.CASELOAD_STATES],
            "selected_coach": filters["coach_id"] if coach_param != "me" else None,
            **queries.caseload_filter_choices(provider_ids),
        },
    )


def _locations(trajectory):
    return Location.objects.filter(
        provider_id=trajectory.provider_id, is_active=True
    ).select_related("practice")


@login_required
@require_GET
def trajectory_detail(request, pk: int):
    actor = Actor.from_request(request)
    try:
        trajectory = queries.trajectory_page(actor, pk)
    except Trajectory.DoesNotExist:
        raise Http404 from None
    audit_record(
        who=actor, action=AuditEvent.Action.VIEW, patient_id=trajectory.patient_id, obj=trajectory
    )
    coach_side = is_coach_of_provider(actor, trajectory)
    available = (
        {t.name for t in trajectory.get_available_state_transitions()} if coach_side else set()
    )
    initial = {"expected_state": trajectory.state}
    today = timezone.localdate()
    contacts = list(trajectory.contacts.all())
    open_escalation = next(
        (e for e in trajectory.escalations.all() if e.status == Escalation.Status.OPEN), None
    )
    poh_ggz = is_poh_ggz_of_practice(actor, trajectory)
    return render(
        request,
        "pathways/trajectory_detail.html",
        {
            "trajectory": trajectory,
            "patient": trajectory.patient,
            "latest_contact": contacts[0] if contacts else None,
            "medication_plan": [
                Medication(m).label for m in trajectory.medication_plan if m in Medication.values
            ],
            "contacts": contacts,
            "coach_side": coach_side,
            "available": available,
            "show_ggz_notes": can_read_ggz_notes(actor, trajectory),
            "open_escalation": open_escalation,
            "poh_ggz": poh_ggz,
            "intake_form": forms.IntakeForm(
                initial={
                    **initial,
                    "intake_date": today,
                    "cigarettes_per_day": trajectory.cigarettes_per_day,
                    "years_smoked": trajectory.years_smoked,
                    "earlier_quit_attempts": trajectory.earlier_quit_attempts,
                },
                locations=_locations(trajectory),
            ),
            "contact_form": forms.ContactForm(
                initial={"date": today, "duration_minutes": 30}, locations=_locations(trajectory)
            ),
            "note_form": forms.NoteTransitionForm(initial=initial),
            "escalation_form": forms.EscalationForm(initial=initial),
            "end_form": forms.EndTreatmentForm(initial={**initial, "end_date": today}),
            "follow_up_form": forms.FollowUpForm(initial={**initial, "call_date": today}),
            "stop_form": forms.StopForm(initial=initial),
            "reassign_form": forms.ReassignForm(
                coaches=_coaches([trajectory.provider_id]), initial={"coach": trajectory.coach_id}
            )
            if is_planner_of_provider(actor, trajectory)
            else None,
            "session_form": forms.GgzSessionForm(initial={"date": today}),
            "report_form": forms.ReportBackForm(),
            "stop_care_form": forms.StopCareForm(),
        },
    )


def _run(request, redirect_to, form, call):
    """Validate the form, call the service, turn its errors into messages; never a 500."""
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for error in errors:
                messages.error(request, f"{label}: {error}" if label else error)
        return redirect(redirect_to)
    try:
        call(form.cleaned_data)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Saved."))
    return redirect(redirect_to)


def _trajectory_for_form(actor, pk) -> Trajectory:
    try:
        return trajectories_for(actor).get(pk=pk)
    except Trajectory.DoesNotExist:
        raise Http404 from None


@login_required
@require_POST
def trajectory_action(request, pk: int, action: str):
    actor = Actor.from_request(request)
    trajectory = _trajectory_for_form(actor, pk)  # 404 for a trajectory out of scope
    may_act = is_planner_of_provider if action == "reassign" else is_coach_of_provider
    if not may_act(actor, trajectory):
        raise PermissionDenied
    url = redirect("trajectory-detail", pk).url
    common = {"actor": actor, "trajectory_id": pk}
    if action == "intake":
        form = forms.IntakeForm(request.POST, locations=_locations(trajectory))
        return _run(request, url, form, lambda d: services.trajectory_record_intake(**common, **d))
    if action == "contact":
        form = forms.ContactForm(request.POST, locations=_locations(trajectory))
        return _run(request, url, form, lambda d: services.trajectory_record_contact(**common, **d))
    if action == "start-counselling":
        return _run(
            request,
            url,
            forms.NoteTransitionForm(request.POST),
            lambda d: services.trajectory_start_counselling(**common, **d),
        )
    if action == "escalate":
        return _run(
            request,
            url,
            forms.EscalationForm(request.POST),
            lambda d: services.trajectory_escalate(**common, **d),
        )
    if action == "end-treatment":
        return _run(
            request,
            url,
            forms.EndTreatmentForm(request.POST),
            lambda d: services.trajectory_end_treatment(**common, **d),
        )
    if action == "follow-up":
        return _run(
            request,
            url,
            forms.FollowUpForm(request.POST),
            lambda d: services.trajectory_record_follow_up(**common, **d),
        )
    if action == "stop":
        return _run(
            request,
            url,
            forms.StopForm(request.POST),
            lambda d: services.trajectory_stop_unmotivated(**common, **d),
        )
    if action == "drop-out":
        return _run(
            request,
            url,
            forms.StopForm(request.POST),
            lambda d: services.trajectory_drop_out(**common, **d),
        )
    if action == "reassign":
        coaches = _coaches([trajectory.provider_id])
        return _run(
            request,
            url,
            forms.ReassignForm(request.POST, coaches=coaches),
            lambda d: services.trajectory_reassign(**common, coach_id=d["coach"]),
        )
    raise Http404


@login_required
@require_POST
def escalation_action(request, pk: int, action: str):
    actor = Actor.from_request(request)
    escalation = (
        Escalation.objects.filter(pk=pk, trajectory__in=trajectories_for(actor))
        .select_related("trajectory")
        .first()
    )
    if escalation is None:
        raise Http404
    if not is_poh_ggz_of_practice(actor, escalation.trajectory):
        raise PermissionDenied
    trajectory_id = escalation.trajectory_id
    url = redirect("trajectory-detail", trajectory_id).url
    if action == "session":
        return _run(
            request,
            url,
            forms.GgzSessionForm(request.POST),
            lambda d: services.escalation_record_session(actor=actor, escalation_id=pk, **d),
        )
    if action == "report":
        return _run(
            request,
            url,
            forms.ReportBackForm(request.POST),
            lambda d: services.escalation_report_back(actor=actor, escalation_id=pk, **d),
        )
    if action == "stop-care":
        return _run(
            request,
            url,
            forms.StopCareForm(request.POST),
            lambda d: services.escalation_stop_care(actor=actor, escalation_id=pk, **d),
        )
    raise Http404


@role_required(Role.POH_GGZ)
@require_GET
def poh_ggz_inbox(request):
    actor = request.actor
    status = request.GET.get("status", Escalation.Status.OPEN)
    if status not in Escalation.Status.values:
        status = ""
    escalations = list(queries.poh_ggz_inbox(actor, status=status)[:300])
    audit_record_many(
        who=actor,
        action=AuditEvent.Action.LIST,
        touches=[Touch(e.trajectory.patient_id, e, "POH-GGZ inbox") for e in escalations],
    )
    return render(
        request,
        "pathways/poh_ggz_inbox.html",
        {
            "escalations": escalations,
            "status": status,
            "statuses": Escalation.Status.choices,
        },
    )
