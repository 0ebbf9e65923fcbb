"""Pages of the relapse-prevention groups: list, detail with the attendance grid, plan a year,
join a quitter, record a meeting's attendance, leave. Thin: parse the form, call groups.py."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.models import AuditEvent
from audit.services import Touch, audit_record_many
from carechain.access import role_required
from carechain.models import Location, Role

from . import groups
from . import queries_groups as queries
from .forms_groups import AttendanceForm, GroupForm, JoinForm, LeaveForm, meeting_formset
from .models import GroupParticipant

GROUP_ROLES = (Role.POH_GGZ, Role.COACH)


class _RollBack(Exception):
    """Undo every attendance of one submission when any of them is refused."""


def _add_errors(exc: ValidationError, form, formset=None) -> None:
    """Put a service's errors on the field they name; formset keys look like meetings-2-theme."""
    if not hasattr(exc, "error_dict"):
        for message in exc.messages:
            form.add_error(None, message)
        return
    for key, errors in exc.message_dict.items():
        for message in errors:
            prefix, _sep, rest = key.partition("-")
            if formset is not None and prefix == formset.prefix and rest:
                index, _sep, field = rest.partition("-")
                if field and index.isdigit() and int(index) < len(formset.forms):
                    formset.forms[int(index)].add_error(field, message)
                    continue
            form.add_error(key if key in form.fields else None, message)


def _audit_participants(actor, participants, detail: str) -> None:
    audit_record_many(
        who=actor,
        action=AuditEvent.Action.LIST,
        touches=[Touch(p.trajectory.patient_id, p, detail) for p in participants],
    )


@role_required(*GROUP_ROLES)
@require_GET
def group_list(request):
    actor = request.actor
    return render(
        request,
        "pathways/groups/group_list.html",
        {
            "groups": list(queries.group_list(actor)),
            "can_plan": actor.has_role(Role.POH_GGZ),
        },
    )


@role_required(*GROUP_ROLES)
@require_GET
def group_detail(request, pk: int):
    actor = request.actor
    group = queries.group_detail(actor, pk)
    rows = queries.attendance_grid(group)
    named, others = groups.named_participants(actor, [row.participant for row in rows])
    rows = [row for row in rows if row.participant in named]
    _audit_participants(actor, named, "relapse-prevention group")
    return render(
        request,
        "pathways/groups/group_detail.html",
        {
            "group": group,
            "meetings": list(group.meetings.all()),
            "rows": rows,
            "others": others,
            "runs_group": groups.runs_group(actor, group),
            "coaches_for_group": groups.coaches_for_group(actor, group),
            "today": timezone.localdate(),
        },
    )


def _proposed_year(request) -> int:
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        return timezone.localdate().year
    return year if 2000 <= year <= 2100 else timezone.localdate().year


@role_required(Role.POH_GGZ)
@require_http_methods(["GET", "POST"])
def group_create(request):
    """Plan a year: the page proposes eight dates and themes, the POH-GGZ adjusts and saves."""
    actor = request.actor
    practice_ids = actor.org_ids(Role.POH_GGZ)
    locations = Location.objects.filter(
        practice_id__in=practice_ids, is_active=True
    ).select_related("practice")
    facilitators = queries.poh_ggz_of(practice_ids)
    if request.method == "POST":
        form = GroupForm(request.POST, locations=locations)
        formset = meeting_formset(request.POST, facilitators=facilitators)
        if form.is_valid() and formset.is_valid():
            try:
                group = groups.group_create(
                    actor=actor,
                    location=form.cleaned_data["location"],
                    year=form.cleaned_data["year"],
                    name=form.cleaned_data["name"],
                    is_zorggroep_shared=form.cleaned_data["is_zorggroep_shared"],
                    meetings=formset.meetings(),
                )
            except ValidationError as exc:
                _add_errors(exc, form, formset)
            else:
                messages.success(request, _("The group and its eight meetings are planned."))
                return redirect("group-detail", pk=group.pk)
    else:
        year = _proposed_year(request)
        only = list(locations[:2])
        form = GroupForm(
            initial={"year": year, "location": only[0].pk if len(only) == 1 else None},
            locations=locations,
        )
        me = actor.user.pk if actor.user is not None else None
        formset = meeting_formset(
            facilitators=facilitators,
            initial=[
                {"starts_at": starts_at, "theme": theme, "facilitator": me}
                for starts_at, theme in groups.default_meetings(year)
            ],
        )
    return render(
        request,
        "pathways/groups/group_form.html",
        {"form": form, "formset": formset, "group": None, "has_locations": locations.exists()},
    )


@role_required(Role.POH_GGZ)
@require_http_methods(["GET", "POST"])
def group_edit(request, pk: int):
    actor = request.actor
    group = queries.group_detail(actor, pk)
    if not groups.runs_group(actor, group):
        raise PermissionDenied
    facilitators = queries.poh_ggz_of([group.location.practice_id])
    if request.method == "POST":
        form = GroupForm(request.POST, editing=True)
        formset = meeting_formset(request.POST, facilitators=facilitators)
        if form.is_valid() and formset.is_valid():
            try:
                groups.group_update(
                    actor=actor,
                    group_id=group.pk,
                    name=form.cleaned_data["name"],
                    meetings=formset.meetings(),
                )
            except ValidationError as exc:
                _add_errors(exc, form, formset)
            else:
                messages.success(request, _("The meetings are saved."))
                return redirect("group-detail", pk=group.pk)
    else:
        form = GroupForm(initial={"name": group.name}, editing=True)
        formset = meeting_formset(
            facilitators=facilitators,
            initial=[
                {"starts_at": m.starts_at, "theme": m.theme, "facilitator": m.facilitator_id}
                for m in group.meetings.all()
            ],
        )
    return render(
        request,
        "pathways/groups/group_form.html",
        {"form": form, "formset": formset, "group": group},
    )


@role_required(Role.COACH)
@require_http_methods(["GET", "POST"])
def group_join(request, pk: int):
    """The coach adds a quitter of the provider, at today's or a later meeting."""
    actor = request.actor
    group = queries.group_for_page(actor, pk)
    if not groups.coaches_for_group(actor, group):
        raise PermissionDenied
    trajectories = list(queries.eligible_trajectories(actor, group))
    meetings = list(queries.joinable_meetings(group))
    form = JoinForm(
        request.POST if request.method == "POST" else None,
        trajectories=trajectories,
        meetings=meetings,
    )
    if form.is_valid():
        try:
            participant = groups.group_join(
                actor=actor,
                group_id=group.pk,
                trajectory_id=form.cleaned_data["trajectory"],
                meeting_id=form.cleaned_data["meeting"],
            )
        except ValidationError as exc:
            _add_errors(exc, form)
        else:
            messages.success(
                request,
                _("%(patient)s joins the group at meeting %(number)d.")
                % {
                    "patient": participant.trajectory.patient,
                    "number": participant.joined_at.number,
                },
            )
            return redirect("group-detail", pk=group.pk)
    audit_record_many(
        who=actor,
        action=AuditEvent.Action.LIST,
        touches=[
            Touch(t.patient_id, t, "relapse-prevention group: may join") for t in trajectories
        ],
    )
    return render(
        request,
        "pathways/groups/group_join.html",
        {"group": group, "form": form, "has_choices": bool(trajectories and meetings)},
    )


@role_required(Role.POH_GGZ)
@require_http_methods(["GET", "POST"])
def group_attendance(request, pk: int, meeting_pk: int):
    """The POH-GGZ records one meeting's attendance for everyone expected; all or nothing."""
    actor = request.actor
    group = queries.group_detail(actor, pk)
    if not groups.runs_group(actor, group):
        raise PermissionDenied
    meeting = next((m for m in group.meetings.all() if m.pk == meeting_pk), None)
    if meeting is None:
        raise Http404
    expected = queries.expected_participants(group, meeting)
    named, others = groups.named_participants(actor, [p for p, _a in expected])
    expected = [(p, a) for p, a in expected if p in named]
    form = AttendanceForm(request.POST if request.method == "POST" else None, expected=expected)
    if form.is_valid():
        try:
            with transaction.atomic():
                refused = False
                for name, participant, status in form.changes():
                    try:
                        groups.attendance_record(
                            actor=actor,
                            meeting_id=meeting.pk,
                            participant_id=participant.pk,
                            status=status,
                        )
                    except ValidationError as exc:
                        refused = True
                        for message in exc.messages:
                            form.add_error(name, message)
                if refused:
                    raise _RollBack
        except _RollBack:
            pass
        else:
            messages.success(
                request,
                _("Attendance of meeting %(number)d is saved.") % {"number": meeting.number},
            )
            return redirect("group-detail", pk=group.pk)
    _audit_participants(actor, [p for p, _a in expected], "relapse-prevention group attendance")
    return render(
        request,
        "pathways/groups/group_attendance.html",
        {"group": group, "meeting": meeting, "form": form, "others": others},
    )


@role_required(*GROUP_ROLES)
@require_http_methods(["GET", "POST"])
def group_leave(request, pk: int):
    """A participant leaves the group, typically because they smoke again."""
    actor = request.actor
    try:
        participant = (
            groups.participants_for(actor)
            .select_related("group__location", "trajectory__patient", "joined_at")
            .get(pk=pk)
        )
    except GroupParticipant.DoesNotExist:
        raise Http404 from None
    group = participant.group
    if not (groups.runs_group(actor, group) or groups.coaches_for_group(actor, group)):
        raise PermissionDenied
    form = LeaveForm(
        request.POST if request.method == "POST" else None,
        initial={"reason": _("smokes again")},
    )
    if form.is_valid():
        try:
            groups.group_leave(
                actor=actor, participant_id=participant.pk, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            _add_errors(exc, form)
        else:
            messages.success(
                request,
                _("%(patient)s has left the group.") % {"patient": participant.trajectory.patient},
            )
            return redirect("group-detail", pk=group.pk)
    _audit_participants(actor, [participant], "relapse-prevention group: leave")
    return render(
        request,
        "pathways/groups/group_leave.html",
        {"group": group, "participant": participant, "form": form},
    )


@role_required(Role.COACH)
@require_POST
def group_sharing_consent(request, pk: int):
    """The coach records the patient's consent to be named in the shared zorggroep group."""
    try:
        participant = groups.participant_record_sharing_consent(
            actor=request.actor, participant_id=pk
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        participant = get_object_or_404(groups.participants_for(request.actor), pk=pk)
    else:
        messages.success(
            request,
            _("Consent recorded: %(patient)s is named to the POH-GGZ of the group.")
            % {"patient": participant.trajectory.patient},
        )
    return redirect("group-detail", pk=participant.group_id)
