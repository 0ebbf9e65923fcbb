"""Report pages and their exports. Aggregates only; every view and export is written to the audit
log as an aggregate read (no patient id, the report and period in the detail)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from audit.models import AuditEvent
from audit.services import audit_record
from carechain.access import role_required
from carechain.services import coaches_of_providers

from . import access, build, exports, periods, snapshots

FORMATS = {
    "csv": (exports.table_csv, exports.CSV_TYPE),
    "xlsx": (exports.table_xlsx, exports.XLSX_TYPE),
}


def _period(request, *, strict: bool):
    today = timezone.localdate()
    raw = request.GET.get("period", "")
    if not raw:
        return periods.quarter_of(today)
    try:
        return periods.parse_period(raw)
    except periods.BadPeriod:
        if strict:
            return None
        messages.error(
            request,
            _("Unknown period %(value)s: choose a month, quarter or year. Showing this quarter.")
            % {"value": raw[:20]},
        )
        return periods.quarter_of(today)


@role_required(*access.ZORGGROEP_REPORT_ROLES, *access.PROVIDER_REPORT_ROLES)
@require_GET
def report_home(request):
    """The person's own report: their zorggroep's, else their provider's."""
    actor = request.actor
    zorggroep = access.zorggroepen_for_reports(actor).order_by("name", "pk").first()
    if zorggroep is not None:
        return redirect("report-zorggroep", pk=zorggroep.pk)
    provider = access.providers_for_reports(actor).order_by("name", "pk").first()
    if provider is None:
        raise Http404
    return redirect("report-provider", pk=provider.pk)


def _zorggroep_report(request, pk, period):
    """The report from the stored figures (computed now when none are fresh): the page and its
    exports show the same numbers."""
    actor = request.actor
    zorggroep = get_object_or_404(access.zorggroepen_for_reports(actor), pk=pk)
    snapshot = snapshots.snapshot_for_page(zorggroep=zorggroep, period=period)
    report = build.zorggroep_report_from_figures(
        zorggroep,
        period,
        snapshot.figures,
        suppress=access.suppresses_small_cells(actor),
        computed_at=snapshot.computed_at,
    )
    return zorggroep, report


@role_required(*access.ZORGGROEP_REPORT_ROLES)
@require_GET
def zorggroep_report(request, pk: int):
    period = _period(request, strict=False)
    zorggroep, report = _zorggroep_report(request, pk, period)
    audit_record(
        who=request.actor,
        action=AuditEvent.Action.VIEW,
        patient_id=None,
        obj=zorggroep,
        detail=f"report zorggroep, period {period.key} (aggregates)",
    )
    return render(
        request,
        "reports/zorggroep.html",
        {
            "report": report,
            "owner": zorggroep,
            "export_url": "report-zorggroep-export",
            "period_choices": periods.choices(timezone.localdate()),
            "figures_current": snapshots.is_current(period, timezone.localdate()),
            "refresh_minutes": settings.REPORTS_REFRESH_MINUTES,
        },
    )


def _export(request, *, owner, report, table_key: str, fmt: str, kind: str):
    table = report.table(table_key)
    if table is None or fmt not in FORMATS:
        raise Http404
    render_table, content_type = FORMATS[fmt]
    heading = [
        f"{report.title} · {report.period.label}",
        str(table.title),
        *(
            [
                _("Figures updated at %(time)s on %(date)s.")
                % {
                    "time": date_format(timezone.localtime(report.computed_at), "H:i"),
                    "date": date_format(timezone.localtime(report.computed_at), "j F Y"),
                }
            ]
            if report.computed_at
            else []
        ),
        *(
            [
                _(
                    'Cells of 1 to 4 patients are shown as "< 5"; "×" is a cell hidden so that a '
                    "total does not reveal a small one."
                )
            ]
            if table.suppressed
            else []
        ),
    ]
    audit_record(
        who=request.actor,
        action=AuditEvent.Action.EXPORT,
        patient_id=None,
        obj=owner,
        detail=f"report {kind} export {table.key}.{fmt}, period {report.period.key} (aggregates)",
    )
    response = HttpResponse(render_table(table, heading=heading), content_type=content_type)
    filename = f"rapportage-{table.key}-{report.period.key}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _bad_period():
    return HttpResponse(
        _("Unknown period: choose a month (2026-11), quarter (2026-Q4) or year (2026)."),
        status=400,
        content_type="text/plain; charset=utf-8",
    )


@role_required(*access.ZORGGROEP_REPORT_ROLES)
@require_GET
def zorggroep_export(request, pk: int, table: str, fmt: str):
    period = _period(request, strict=True)
    zorggroep = get_object_or_404(access.zorggroepen_for_reports(request.actor), pk=pk)
    if period is None:
        return _bad_period()
    _z, report = _zorggroep_report(request, zorggroep.pk, period)
    return _export(
        request, owner=zorggroep, report=report, table_key=table, fmt=fmt, kind="zorggroep"
    )


def _provider_report(request, pk, period):
    actor = request.actor
    provider = get_object_or_404(access.providers_for_reports(actor), pk=pk)
    coach_id = access.coach_scope(actor, provider)
    coaches = coaches_of_providers([provider.pk])
    if coach_id is not None:
        coaches = [c for c in coaches if c.pk == coach_id]
    report = build.provider_report(
        provider, coaches, period, today=timezone.localdate(), coach_id=coach_id
    )
    return provider, report, coach_id


@role_required(*access.PROVIDER_REPORT_ROLES)
@require_GET
def provider_report(request, pk: int):
    period = _period(request, strict=False)
    provider, report, coach_id = _provider_report(request, pk, period)
    audit_record(
        who=request.actor,
        action=AuditEvent.Action.VIEW,
        patient_id=None,
        obj=provider,
        detail=f"report provider{' own caseload' if coach_id else ''}, period {period.key} (aggregates)",
    )
    return render(
        request,
        "reports/provider.html",
        {
            "report": report,
            "owner": provider,
            "own_only": coach_id is not None,
            "export_url": "report-provider-export",
            "period_choices": periods.choices(timezone.localdate()),
        },
    )


@role_required(*access.PROVIDER_REPORT_ROLES)
@require_GET
def provider_export(request, pk: int, table: str, fmt: str):
    period = _period(request, strict=True)
    provider = get_object_or_404(access.providers_for_reports(request.actor), pk=pk)
    if period is None:
        return _bad_period()
    _p, report, _c = _provider_report(request, provider.pk, period)
    return _export(
        request, owner=provider, report=report, table_key=table, fmt=fmt, kind="provider"
    )
