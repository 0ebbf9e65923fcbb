"""Monthly invoices to the zorggroep: issue, send, dispute, correct, approve, paid.

As pretix writes invoices: ``invoice_issue_month`` numbers the invoice and copies everything it
shows (provider, zorggroep, prestaties, and per line the patient and amounts) onto the rows; the
PDF is rendered from those copies only and stored when the invoice is sent. A sent invoice is never
edited: the zorggroep admin disputes a line, the provider's planner answers with a correction
invoice holding a credit line (the old amount negated) and a correction line (the new amount).

    draft --send--> sent --dispute--> disputed --(last dispute corrected)--> corrected
                      \\--approve--> approved --mark_paid--> paid     corrected --approve--^

Who: the planner of the zorggroep's contracted provider (``Zorggroep.smr_provider``) sends,
corrects and marks paid; the zorggroep's admin disputes and approves. An invoice outside a person's
scope is a 404; a visible invoice with the wrong role is a 403; a move the state does not allow is
a ValidationError shown on the page.
"""

from __future__ import annotations

import calendar
import datetime
from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from audit.models import AuditEvent
from audit.services import audit_record
from carechain.access import Actor
from carechain.models import Provider, Role, Zorggroep
from carechain.pdf import html_to_pdf

from .budget import budget_statuses
from .models import Invoice, InvoiceLine, InvoiceState, Prestatie

PAYMENT_TERM = datetime.timedelta(days=30)
NUMBER_PREFIX = "ZG"
IBAN_PLACEHOLDER = "NL00 BANK 0000 0000 00"
_NUMBERING_LOCK = 7514  # PostgreSQL advisory lock class; the year is the second key


class InvoiceRefused(ValidationError):
    """The invoice's state or the rules do not allow this now."""


# -- scope ------------------------------------------------------------------------------------------
def invoice_filter(actor: Actor) -> Q:
    """The zorggroep admin sees the invoices sent to the zorggroep; the provider's planner all of
    the invoices of the zorggroepen it is contracted by, drafts included."""
    condition = Q(pk__in=[])
    admin_of = actor.org_ids(Role.ZORGGROEP_ADMIN)
    if admin_of:
        condition |= Q(zorggroep_id__in=admin_of) & ~Q(state=InvoiceState.DRAFT)
    planner_of = actor.org_ids(Role.PLANNER)
    if planner_of:
        condition |= Q(zorggroep__smr_provider_id__in=planner_of)
    return condition


def invoices_for(actor: Actor) -> QuerySet[Invoice]:
    return Invoice.objects.filter(invoice_filter(actor))


def zorggroepen_for(actor: Actor) -> QuerySet[Zorggroep]:
    return Zorggroep.objects.filter(
        Q(pk__in=actor.org_ids(Role.ZORGGROEP_ADMIN))
        | Q(smr_provider_id__in=actor.org_ids(Role.PLANNER))
    ).order_by("name")


def is_zorggroep_admin(actor: Actor, invoice: Invoice) -> bool:
    return invoice.zorggroep_id in actor.org_ids(Role.ZORGGROEP_ADMIN)


def is_provider_planner(actor: Actor, invoice: Invoice) -> bool:
    return invoice.zorggroep.smr_provider_id in actor.org_ids(Role.PLANNER)


# -- copies -----------------------------------------------------------------------------------------
def _seller(provider: Provider, prestatie_ids: Iterable[int]) -> dict:
    """The provider as the invoice shows it, with the prestaties' code and description as they
    read today (the line keeps only a foreign key to the admin-editable prestatie)."""
    prestaties = Prestatie.objects.filter(pk__in=set(prestatie_ids))
    return {
        "id": provider.pk,
        "name": provider.name,
        "address": provider.address,
        "postal_code": provider.postal_code,
        "city": provider.city,
        "phone": provider.phone,
        "email": provider.email,
        "agb": provider.agb,
        "iban": getattr(settings, "INVOICE_IBAN", "") or IBAN_PLACEHOLDER,
        "prestaties": {
            str(p.pk): {"code": p.code, "description": p.description} for p in prestaties
        },
    }


def _buyer(zorggroep: Zorggroep) -> dict:
    return {
        "id": zorggroep.pk,
        "name": zorggroep.name,
        "address": zorggroep.address,
        "postal_code": zorggroep.postal_code,
        "city": zorggroep.city,
        "agb": zorggroep.agb,
    }


def prestatie_shown(invoice: Invoice, line: InvoiceLine) -> tuple[str, str]:
    """The prestatie's code and description as copied onto the invoice."""
    facts = (invoice.seller or {}).get("prestaties", {}).get(str(line.prestatie_id)) or {}
    return facts.get("code", ""), facts.get("description", "")


# -- numbering --------------------------------------------------------------------------------------
def _lock_numbering(year: int) -> None:
    """Serialise numbering within a year until the transaction ends. On SQLite (development) the
    database's single writer does this, and the unique number is the last line of defence."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_NUMBERING_LOCK, year])


def _next_number(year: int) -> str:
    """The next number of the year's series, gapless: derived from the highest number issued
    while holding the year's lock (never from a count, which deletions or races would break)."""
    _lock_numbering(year)
    prefix = f"{NUMBER_PREFIX}-{year}-"
    last = (
        Invoice.objects.filter(number__startswith=prefix)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    sequence = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{sequence:05d}"


# -- budget flag ------------------------------------------------------------------------------------
def _over_budget(zorggroep: Zorggroep, lines: list[InvoiceLine]) -> set[int]:
    """Lines that push the year's committed amount past the budget, counted in order. The line
    is invoiced all the same: the budget is the zorggroep's to manage, not a reason to stop care."""
    years = sorted({line.end_date.year for line in lines})
    statuses = {year: budget_statuses(zorggroepen=[zorggroep], year=year)[0] for year in years}
    running = {year: status.committed for year, status in statuses.items()}
    over = set()
    for line in lines:
        year = line.end_date.year
        running[year] += line.amount
        budget = statuses[year].amount
        if budget is not None and running[year] > budget:
            over.add(line.pk)
    return over


# -- issue ------------------------------------------------------------------------------------------
def _month_end(year: int, month: int) -> datetime.date:
    if not (1 <= month <= 12) or not (2000 <= year <= 2100):
        raise ValidationError(
            _("Not a valid month: %(year)s-%(month)s.") % {"year": year, "month": month}
        )
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


@transaction.atomic
def invoice_issue_month(*, zorggroep_id: int, year: int, month: int) -> Invoice | None:
    """The zorggroep's invoice for one month: every line not yet invoiced whose care ended in or
    before that month. Returns the month's existing invoice when there is one (safe to run
    again), and None when there is nothing to invoice."""
    last_day = _month_end(year, month)
    if last_day >= timezone.localdate():
        raise ValidationError(
            _("%(month)02d-%(year)s is not over yet; invoice it from the 1st of the next month.")
            % {"month": month, "year": year}
        )
    zorggroep = Zorggroep.objects.select_for_update().get(pk=zorggroep_id)
    monthly = Invoice.objects.filter(
        zorggroep=zorggroep, year=year, month=month, corrects__isnull=True
    )
    existing = monthly.first()
    if existing is not None:
        return existing
    lines = InvoiceLine.objects.filter(
        zorggroep=zorggroep,
        invoice__isnull=True,
        kind=InvoiceLine.Kind.ORIGINAL,
        end_date__lte=last_day,
    ).order_by("end_date", "pk")
    if zorggroep.smr_provider_id is None:
        if lines.exists():
            raise ValidationError(
                _("%(zg)s has no contracted SMR provider to invoice from.") % {"zg": zorggroep}
            )
        return None
    # Care of a provider the zorggroep no longer contracts waits for a person to sort it out.
    lines = list(lines.filter(trajectory__provider_id=zorggroep.smr_provider_id))
    if not lines:
        return None
    today = timezone.localdate()
    try:
        with transaction.atomic():
            invoice = Invoice.objects.create(
                zorggroep=zorggroep,
                number=_next_number(today.year),
                year=year,
                month=month,
                issued_on=today,
                due_on=today + PAYMENT_TERM,
                seller=_seller(zorggroep.smr_provider, (line.prestatie_id for line in lines)),
                buyer=_buyer(zorggroep),
                total=sum((line.amount for line in lines), Decimal("0")),
            )
    except IntegrityError:  # only without the row lock (SQLite): someone issued it meanwhile
        return monthly.get()
    over = _over_budget(zorggroep, lines)
    ids = [line.pk for line in lines]
    InvoiceLine.objects.filter(pk__in=ids, invoice__isnull=True).update(invoice=invoice)
    InvoiceLine.objects.filter(pk__in=over).update(over_budget=True)
    return invoice


def invoices_issue_month(*, year: int, month: int) -> dict:
    """The monthly job: every zorggroep's invoice; one zorggroep's problem does not stop the rest."""
    issued, failed = [], []
    for zorggroep_id in Zorggroep.objects.order_by("pk").values_list("pk", flat=True):
        try:
            invoice = invoice_issue_month(zorggroep_id=zorggroep_id, year=year, month=month)
        except ValidationError:
            failed.append(zorggroep_id)
            continue
        if invoice is not None:
            issued.append(invoice.number)
    return {"invoices": issued, "failed": failed}


def previous_month(today: datetime.date | None = None) -> tuple[int, int]:
    first = (today or timezone.localdate()).replace(day=1)
    last = first - datetime.timedelta(days=1)
    return last.year, last.month


# -- rendering (pure) -------------------------------------------------------------------------------
def invoice_filename(invoice: Invoice) -> str:
    return f"factuur-{invoice.number}.pdf"


def render_invoice_html(invoice: Invoice) -> str:
    lines = []
    for line in invoice.lines.order_by("pk"):
        line.prestatie_code, line.prestatie_description = prestatie_shown(invoice, line)
        lines.append(line)
    with translation.override("nl"):
        return render_to_string(
            "billing/invoice_pdf.html",
            {
                "invoice": invoice,
                "lines": lines,
                "seller": invoice.seller,
                "buyer": invoice.buyer,
                "corrected_number": invoice.corrects.number if invoice.corrects_id else "",
                "period": datetime.date(invoice.year, invoice.month, 1),
                "any_over_budget": any(line.over_budget for line in lines),
            },
        )


def render_invoice_pdf(invoice: Invoice) -> bytes:
    return html_to_pdf(render_invoice_html(invoice))


def _store_pdf(invoice: Invoice) -> None:
    invoice.pdf.save(
        invoice_filename(invoice), ContentFile(render_invoice_pdf(invoice)), save=False
    )


# -- state changes ----------------------------------------------------------------------------------
def _load(actor: Actor, invoice_id, *, who) -> Invoice:
    try:
        invoice = Invoice.objects.select_for_update().get(pk=invoice_id)
    except (Invoice.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not invoices_for(actor).filter(pk=invoice.pk).exists():
        raise Http404
    if not who(actor, invoice):
        raise PermissionDenied
    return invoice


def _load_line(actor: Actor, line_id, *, who) -> tuple[Invoice, InvoiceLine]:
    invoice_id = (
        InvoiceLine.objects.filter(pk=line_id).values_list("invoice_id", flat=True).first()
        if str(line_id).isdigit()
        else None
    )
    if invoice_id is None:
        raise Http404
    invoice = _load(actor, invoice_id, who=who)
    return invoice, invoice.lines.select_for_update().get(pk=line_id)


def _move(invoice: Invoice, name: str) -> None:
    method = getattr(invoice, name)
    if not can_proceed(method):
        raise InvoiceRefused(
            _("This is not possible while invoice %(number)s is '%(state)s'.")
            % {"number": invoice.number, "state": invoice.get_state_display()},
            code="invalid_transition",
        )
    method()


def _log(actor: Actor, invoice: Invoice, detail: str) -> None:
    audit_record(
        who=actor, action=AuditEvent.Action.CHANGE, patient_id=None, obj=invoice, detail=detail
    )


@transaction.atomic
def invoice_send(*, actor: Actor, invoice_id) -> Invoice:
    """The planner sends a draft: from now on it is the zorggroep's document, PDF and all."""
    invoice = _load(actor, invoice_id, who=is_provider_planner)
    _move(invoice, "send")
    _store_pdf(invoice)
    invoice.save()
    _log(actor, invoice, "invoice sent")
    return invoice


@transaction.atomic
def invoice_dispute_line(*, actor: Actor, line_id, reason: str) -> InvoiceLine:
    invoice, line = _load_line(actor, line_id, who=is_zorggroep_admin)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why this line is disputed.")})
    if invoice.corrects_id or line.kind != InvoiceLine.Kind.ORIGINAL:
        raise InvoiceRefused(
            _("A correction cannot be disputed again; contact the provider."), code="correction"
        )
    if line.disputed_at is not None:
        raise InvoiceRefused(_("This line has already been disputed."), code="already_disputed")
    _move(invoice, "dispute")
    line.disputed_at = timezone.now()
    line.dispute_reason = reason[:500]
    line.save(update_fields=["disputed_at", "dispute_reason"])
    invoice.save()
    _log(actor, invoice, f"line {line.pk} disputed")
    return line


@transaction.atomic
def invoice_correct_line(*, actor: Actor, line_id, amount, note: str) -> Invoice:
    """The planner answers a dispute with a correction invoice: the disputed line credited in
    full and charged again at the right amount (zero when it should not have been charged)."""
    invoice, line = _load_line(actor, line_id, who=is_provider_planner)
    note = (note or "").strip()
    try:
        amount = Decimal(str(amount)).quantize(Decimal("0.01"))
    except ArithmeticError:
        raise ValidationError({"amount": _("Enter an amount in euros.")}) from None
    if amount < 0 or amount >= Decimal("10000000"):
        raise ValidationError({"amount": _("Enter an amount of zero or more.")})
    if not note:
        raise ValidationError({"note": _("Explain the correction to the zorggroep.")})
    if line.disputed_at is None or line.dispute_resolved_at is not None:
        raise InvoiceRefused(_("This line has no open dispute."), code="no_dispute")
    today = timezone.localdate()
    correction = Invoice.objects.create(
        zorggroep_id=invoice.zorggroep_id,
        number=_next_number(today.year),
        year=invoice.year,
        month=invoice.month,
        corrects=invoice,
        issued_on=today,
        due_on=today + PAYMENT_TERM,
        seller={**invoice.seller, "note": note[:500]},
        buyer=invoice.buyer,
        total=amount - line.amount,
    )
    copied = {
        field: getattr(line, field)
        for field in (
            "zorggroep_id",
            "trajectory_id",
            "prestatie_id",
            "patient_name",
            "patient_bsn",
            "patient_birth_date",
            "practice_name",
            "start_date",
            "end_date",
        )
    }
    credit = InvoiceLine(**copied, kind=InvoiceLine.Kind.CREDIT, corrects=line, invoice=correction)
    credit.amount = -line.amount
    charge = InvoiceLine(
        **copied, kind=InvoiceLine.Kind.CORRECTION, corrects=line, invoice=correction
    )
    charge.amount = amount
    credit.save()
    charge.save()
    if _over_budget(invoice.zorggroep, [credit, charge]) & {charge.pk}:
        charge.over_budget = True
        charge.save(update_fields=["over_budget"])
    _move(correction, "send")
    _store_pdf(correction)
    correction.save()
    line.dispute_resolved_at = timezone.now()
    line.save(update_fields=["dispute_resolved_at"])
    if invoice.has_no_open_disputes():
        _move(invoice, "mark_corrected")
        invoice.save()
    _log(actor, invoice, f"line {line.pk} corrected by {correction.number}: {note}"[:300])
    return correction


@transaction.atomic
def invoice_approve(*, actor: Actor, invoice_id) -> Invoice:
    """The zorggroep admin approves the invoice and, with it, its correction invoices."""
    invoice = _load(actor, invoice_id, who=is_zorggroep_admin)
    _move(invoice, "approve")
    invoice.save()
    for correction in invoice.corrections.select_for_update().filter(state=InvoiceState.SENT):
        _move(correction, "approve")
        correction.save()
    _log(actor, invoice, "invoice approved")
    return invoice


@transaction.atomic
def invoice_mark_paid(*, actor: Actor, invoice_id) -> Invoice:
    """The planner records the payment of the approved invoice and its corrections."""
    invoice = _load(actor, invoice_id, who=is_provider_planner)
    _move(invoice, "mark_paid")
    invoice.save()
    for correction in invoice.corrections.select_for_update().filter(state=InvoiceState.APPROVED):
        _move(correction, "mark_paid")
        correction.save()
    _log(actor, invoice, "invoice paid")
    return invoice
