"""Invoice pages: the zorggroep admin reviews, disputes and approves; the provider's planner sends,
corrects and records payment. Every change goes through ``billing.invoicing``; a page that shows
patients (the invoice, its PDF, the CSV export, the exceptions) writes the audit log."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from django_fsm import can_proceed

from audit.models import AuditEvent
from audit.services import Touch, audit_record_many
from carechain.access import role_required
from carechain.models import Role

from . import invoicing
from .budget import budget_status, budget_statuses
from .forms import SORTS, CorrectionForm, DisputeForm, InvoiceFilterForm
from .models import BillingException, InvoiceLine, InvoiceState

INVOICE_ROLES = (Role.ZORGGROEP_ADMIN, Role.PLANNER)
LIST_LIMIT = 300
EXPORT_LIMIT = 20000

ACTIONS = {
    "send": (invoicing.invoice_send, gettext_lazy("The invoice has been sent to the zorggroep.")),
    "approve": (invoicing.invoice_approve, gettext_lazy("The invoice has been approved.")),
    "mark-paid": (invoicing.invoice_mark_paid, gettext_lazy("The payment has been recorded.")),
}


def _filtered(request, actor):
    """The invoices in the person's scope, filtered as the list's form says."""
    scope = invoicing.invoices_for(actor)
    years = list(scope.order_by("-year").values_list("year", flat=True).distinct())
    form = InvoiceFilterForm(request.GET or None, years=years)
    chosen = form.values()
    invoices = scope
    if chosen["state"]:
        invoices = invoices.filter(state=chosen["state"])
    if chosen["year"]:
        invoices = invoices.filter(year=chosen["year"])
    return form, chosen, invoices


def _show_errors(request, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


def _form_errors(request, form) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


@role_required(*INVOICE_ROLES)
@require_GET
def invoice_list(request):
    actor = request.actor
    form, chosen, invoices = _filtered(request, actor)
    open_dispute = Q(lines__disputed_at__isnull=False, lines__dispute_resolved_at__isnull=True)
    invoices = list(
        invoices.select_related("zorggroep", "corrects")
        .annotate(
            line_count=Count("lines"),
            open_disputes=Count("lines", filter=open_dispute),
            over_budget_lines=Count("lines", filter=Q(lines__over_budget=True)),
        )
        .order_by(SORTS[chosen["sort"]], "-pk")[:LIST_LIMIT]
    )
    year = chosen["year"] or timezone.localdate().year
    budgets = budget_statuses(zorggroepen=invoicing.zorggroepen_for(actor), year=year)
    return render(
        request,
        "billing/invoice_list.html",
        {
            "invoices": invoices,
            "form": form,
            "chosen": chosen,
            "budgets": budgets,
            "export_query": request.GET.urlencode(),
        },
    )


@role_required(*INVOICE_ROLES)
@require_GET
def invoice_detail(request, pk: int):
    actor = request.actor
    invoice = get_object_or_404(
        invoicing.invoices_for(actor).select_related("zorggroep", "corrects"), pk=pk
    )
    lines = list(invoice.lines.select_related("trajectory").order_by("pk"))
    corrections = list(
        invoice.corrections.prefetch_related("lines__trajectory").order_by("pk")
        if invoice.state != InvoiceState.DRAFT
        else []
    )
    for row in lines:
        row.prestatie_code, row.prestatie_description = invoicing.prestatie_shown(invoice, row)
    for correction in corrections:
        correction.shown_lines = list(correction.lines.all())
        for row in correction.shown_lines:
            row.prestatie_code, row.prestatie_description = invoicing.prestatie_shown(
                correction, row
            )
    audit_record_many(
        who=actor,
        action=AuditEvent.Action.VIEW,
        touches=[
            Touch(row.trajectory.patient_id, row, f"invoice {invoice.number}")
            for row in [*lines, *(r for c in corrections for r in c.shown_lines)]
        ],
    )
    is_admin = invoicing.is_zorggroep_admin(actor, invoice)
    is_planner = invoicing.is_provider_planner(actor, invoice)
    disputable = (
        is_admin
        and invoice.corrects_id is None
        and invoice.state in (InvoiceState.SENT, InvoiceState.DISPUTED)
    )
    for row in lines:
        row.can_dispute = (
            disputable and row.kind == InvoiceLine.Kind.ORIGINAL and row.disputed_at is None
        )
        row.can_correct = (
            is_planner and row.disputed_at is not None and row.dispute_resolved_at is None
        )
    return render(
        request,
        "billing/invoice_detail.html",
        {
            "invoice": invoice,
            "lines": lines,
            "corrections": corrections,
            "amount_due": invoice.total + sum((c.total for c in corrections), 0),
            "budget": budget_status(zorggroep=invoice.zorggroep, year=invoice.year),
            "is_admin": is_admin,
            "is_planner": is_planner,
            "can_send": is_planner and invoice.state == InvoiceState.DRAFT,
            "can_approve": is_admin
            and invoice.state in (InvoiceState.SENT, InvoiceState.CORRECTED)
            and can_proceed(invoice.approve),
            "can_mark_paid": is_planner and invoice.state == InvoiceState.APPROVED,
            "dispute_form": DisputeForm(),
            "correction_form": CorrectionForm(),
        },
    )


@role_required(*INVOICE_ROLES)
@require_GET
def invoice_pdf(request, pk: int):
    """The stored PDF of a sent invoice; the planner's preview of a draft is rendered on the fly."""
    actor = request.actor
    invoice = get_object_or_404(invoicing.invoices_for(actor), pk=pk)
    patients = invoice.lines.order_by().values_list("trajectory__patient_id", flat=True).distinct()
    audit_record_many(
        who=actor,
        action=AuditEvent.Action.PRINT,
        touches=[Touch(p, invoice, f"invoice PDF {invoice.number}") for p in patients],
    )
    filename = invoicing.invoice_filename(invoice)
    if invoice.pdf:
        response = FileResponse(
            invoice.pdf.open("rb"), content_type="application/pdf", filename=filename
        )
    else:
        response = HttpResponse(invoicing.render_invoice_pdf(invoice), "application/pdf")
        response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@role_required(*INVOICE_ROLES)
@require_POST
def invoice_action(request, pk: int, action: str):
    if action not in ACTIONS:
        return redirect("invoice-detail", pk=pk)
    service, done = ACTIONS[action]
    try:
        service(actor=request.actor, invoice_id=pk)
    except ValidationError as exc:
        _show_errors(request, exc)
    else:
        messages.success(request, done)
    return redirect("invoice-detail", pk=pk)


def _visible_line(actor, pk: int) -> InvoiceLine:
    return get_object_or_404(
        InvoiceLine.objects.filter(invoice__in=invoicing.invoices_for(actor)), pk=pk
    )


@role_required(Role.ZORGGROEP_ADMIN)
@require_POST
def invoice_line_dispute(request, pk: int):
    line = _visible_line(request.actor, pk)
    form = DisputeForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
    else:
        try:
            invoicing.invoice_dispute_line(
                actor=request.actor, line_id=line.pk, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            _show_errors(request, exc)
        else:
            messages.success(
                request, _("The line has been disputed; the provider will correct it.")
            )
    return redirect("invoice-detail", pk=line.invoice_id)


@role_required(Role.PLANNER)
@require_POST
def invoice_line_correct(request, pk: int):
    line = _visible_line(request.actor, pk)
    form = CorrectionForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
    else:
        try:
            correction = invoicing.invoice_correct_line(
                actor=request.actor,
                line_id=line.pk,
                amount=form.cleaned_data["amount"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            _show_errors(request, exc)
        else:
            messages.success(
                request,
                _("Correction invoice %(number)s has been sent to the zorggroep.")
                % {"number": correction.number},
            )
    return redirect("invoice-detail", pk=line.invoice_id)


def _cell(value) -> str:
    """Text a spreadsheet would otherwise run as a formula is shown as text."""
    text = str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@role_required(*INVOICE_ROLES)
@require_GET
def invoice_export(request):
    """The invoice lines of the filtered list (or of one invoice) as CSV for the spreadsheet."""
    actor = request.actor
    _form, _chosen, invoices = _filtered(request, actor)
    invoice_id = request.GET.get("invoice", "")
    if invoice_id.isdigit():
        invoices = invoices.filter(pk=invoice_id)
    lines = list(
        InvoiceLine.objects.filter(invoice__in=invoices)
        .select_related("invoice", "trajectory")
        .order_by("invoice__issued_on", "invoice__number", "pk")[:EXPORT_LIMIT]
    )
    audit_record_many(
        who=actor,
        action=AuditEvent.Action.EXPORT,
        touches=[
            Touch(line.trajectory.patient_id, line, f"invoice lines CSV {line.invoice.number}")
            for line in lines
        ],
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="factuurregels.csv"'
    response["Cache-Control"] = "no-store"
    response.write("\ufeff")  # lets spreadsheet programs read the file as UTF-8
    writer = csv.writer(response, delimiter=";")
    writer.writerow(
        [
            _("Invoice number"),
            _("Invoice date"),
            _("Patient"),
            _("BSN"),
            _("Date of birth"),
            _("Practice"),
            _("Prestatie code"),
            _("Description"),
            _("Start"),
            _("End"),
            _("Amount (EUR)"),
            _("Line kind"),
            _("Over budget"),
        ]
    )
    for line in lines:
        code, description = invoicing.prestatie_shown(line.invoice, line)
        writer.writerow(
            [
                line.invoice.number,
                line.invoice.issued_on.isoformat(),
                _cell(line.patient_name),
                line.patient_bsn,
                line.patient_birth_date.isoformat(),
                _cell(line.practice_name),
                _cell(code),
                _cell(description),
                line.start_date.isoformat(),
                line.end_date.isoformat(),
                f"{line.amount:.2f}",
                line.kind,
                _("yes") if line.over_budget else _("no"),
            ]
        )
    return response


@role_required(Role.PLANNER)
@require_GET
def exception_list(request):
    """Trajectories routing could not decide: a person sorts them out (in the admin)."""
    actor = request.actor
    exceptions = list(
        BillingException.objects.filter(
            resolved_at__isnull=True, trajectory__provider_id__in=actor.org_ids(Role.PLANNER)
        )
        .select_related("trajectory__patient", "trajectory__practice")
        .order_by("created_at", "pk")[:LIST_LIMIT]
    )
    audit_record_many(
        who=actor,
        action=AuditEvent.Action.LIST,
        touches=[Touch(e.trajectory.patient_id, e, "billing exceptions") for e in exceptions],
    )
    return render(request, "billing/exception_list.html", {"exceptions": exceptions})
