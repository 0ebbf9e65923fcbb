"""The privacy officer's pages: search the log, export it, a patient's access report, the chain check.

These pages sit on top of the care chain (they need its roles, its patients and its access policy),
so unlike the rest of the audit app this module imports carechain. Everything they show comes from
the log; the patient record is read only to identify the patient a report is about.
"""

from __future__ import annotations

from django.contrib import messages
from django.db.models import QuerySet
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from carechain.access import Actor, Grant, patient_filter, role_required
from carechain.models import Membership, Patient, Role

from . import queries, reports
from .forms import AuditFilterForm
from .models import AuditEvent
from .services import audit_record

CURSORS = ("before", "after")


def _provider_ids(actor: Actor) -> set[int]:
    return actor.org_ids(Role.PRIVACY_OFFICER)


def _patients(actor: Actor) -> QuerySet[Patient]:
    """The provider's patients, as the one access policy defines them for the provider's care staff.

    A privacy officer may not open these records; the policy is only asked *which* patients they
    are, so the accesses to them can be read.
    """
    care_staff = Actor(
        grants=tuple(Grant(Role.COACH, pk, "", "") for pk in sorted(_provider_ids(actor)))
    )
    return Patient.objects.filter(patient_filter(care_staff))


def _scope(actor: Actor) -> queries.Scope:
    """Accesses to the provider's patients, and everything the provider's people did (also people
    who have left: their memberships stay, inactive)."""
    return queries.Scope(
        patient_ids=_patients(actor).values("pk"),
        user_ids=Membership.objects.filter(organisation_id__in=_provider_ids(actor)).values(
            "user_id"
        ),
    )


def _cursor(request, name: str) -> int | None:
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() and len(value) <= 18 else None


def _filter_query(request) -> str:
    params = request.GET.copy()
    for name in CURSORS:
        params.pop(name, None)
    return params.urlencode()


def _summary(filters: queries.Filters) -> str:
    parts = [f"{name}={value}" for name, value in vars(filters).items() if value not in (None, "")]
    return " ".join(parts) or "no filter"


@role_required(Role.PRIVACY_OFFICER)
@require_GET
def audit_log(request):
    actor = request.actor
    form = AuditFilterForm(request.GET, patients=_patients(actor))
    page, patient = queries.Page(events=[], older=None, newer=None), None
    if form.is_valid():
        patient = form.cleaned_data["patient"]
        page = queries.page_of(
            queries.events_filtered(_scope(actor), form.filters()),
            before=_cursor(request, "before"),
            after=_cursor(request, "after"),
        )
        if patient is not None:
            audit_record(
                who=actor,
                action=AuditEvent.Action.LIST,
                patient_id=patient.pk,
                obj=patient,
                detail="audit log search",
            )
    role_labels = dict(Role.choices)
    return render(
        request,
        "audit/log.html",
        {
            "form": form,
            "patient": patient,
            "rows": [(e, reports.roles_text(e.roles, role_labels)) for e in page.events],
            "page": page,
            "query": _filter_query(request),
            "chain": queries.chain_status(),
            "page_size": queries.PAGE_SIZE,
        },
    )


@role_required(Role.PRIVACY_OFFICER)
@require_GET
def audit_export(request):
    """The filtered rows as CSV, streamed; the export itself is a row in the log."""
    actor = request.actor
    form = AuditFilterForm(request.GET, patients=_patients(actor))
    if not form.is_valid():
        return redirect(f"{reverse('audit-log')}?{_filter_query(request)}")
    filters = form.filters()
    up_to_id = queries.last_event_id()
    audit_record(
        who=actor,
        action=AuditEvent.Action.EXPORT,
        patient_id=filters.patient_id,
        obj=form.cleaned_data["patient"],
        detail=f"audit log export up to #{up_to_id}: {_summary(filters)}",
    )
    events = queries.events_for_export(
        queries.events_filtered(_scope(actor), filters), up_to_id=up_to_id
    )
    response = StreamingHttpResponse(
        reports.csv_lines(events.iterator(chunk_size=2000)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{reports.export_filename()}"'
    response["Cache-Control"] = "no-store"
    return response


@role_required(Role.PRIVACY_OFFICER)
@require_GET
def access_report(request, patient_id: int):
    """The patient's 'who looked at my record' (AVG inzage) as a Dutch PDF; printing is logged."""
    actor = request.actor
    patient = _patients(actor).select_related("practice").filter(pk=patient_id).first()
    if patient is None:
        raise Http404
    form = AuditFilterForm(request.GET, patients=_patients(actor))
    if not form.is_valid():
        return redirect(f"{reverse('audit-log')}?{_filter_query(request)}")
    period = (form.cleaned_data.get("date_from"), form.cleaned_data.get("date_to"))
    report = reports.access_report(
        patient={
            "name": patient.full_name,
            "birth_date": patient.birth_date,
            "bsn": patient.bsn,
            "practice": patient.practice.name,
        },
        events=queries.events_of_patient(
            patient.pk, date_from=period[0], date_to=period[1]
        ).iterator(chunk_size=2000),
        role_labels=dict(Role.choices),
        issuer=", ".join(
            sorted({g.organisation_name for g in actor.grants if g.role == Role.PRIVACY_OFFICER})
        ),
        generated_by=str(request.user),
        period=period,
    )
    pdf = reports.render_access_report_pdf(report)
    audit_record(
        who=actor,
        action=AuditEvent.Action.PRINT,
        patient_id=patient.pk,
        obj=patient,
        detail="AVG access report",
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="{reports.access_report_filename(patient.pk)}"'
    )
    response["Cache-Control"] = "no-store"
    return response


@role_required(Role.PRIVACY_OFFICER)
@require_POST
def chain_check(request):
    """Verify the whole hash chain on demand; the outcome is written into the log."""
    result = reports.chain_check(who=request.actor)
    if result.intact:
        messages.success(
            request,
            _("The hash chain is intact: %(rows)d rows checked.") % {"rows": result.rows},
        )
    else:
        messages.error(
            request,
            _(
                "The hash chain is broken: %(count)d problem(s) in %(rows)d rows. The first: "
                "%(first)s. Report this as a security incident."
            )
            % {"count": len(result.problems), "rows": result.rows, "first": result.problems[0]},
        )
    return redirect("audit-log")
