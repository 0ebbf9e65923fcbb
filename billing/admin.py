"""Management of billing data: prestaties, tariffs, budgets and rejection codes are contract data
(edited here, with validity dates); invoices, lines, claims and routing decisions are records
(read-only here: they change only through their services); an exception gets its resolution."""

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEvent
from audit.services import audit_record
from carechain.access import Actor

from .models import (
    BillingDecision,
    BillingException,
    Claim,
    Invoice,
    InvoiceLine,
    KetenzorgBudget,
    Prestatie,
    RejectionReason,
    Tariff,
)


@admin.register(Prestatie)
class PrestatieAdmin(admin.ModelAdmin):
    list_display = ("code", "description", "kind")
    search_fields = ("code", "description")


@admin.register(Tariff)
class TariffAdmin(admin.ModelAdmin):
    list_display = ("prestatie", "contract", "amount", "valid_from", "valid_to")
    list_filter = ("prestatie", "insurer", "zorggroep")
    search_fields = ("prestatie__code", "insurer__name", "zorggroep__name")
    list_select_related = ("prestatie", "insurer", "zorggroep")
    date_hierarchy = "valid_from"

    @admin.display(description=_("contract"))
    def contract(self, obj):
        return obj.insurer or obj.zorggroep


@admin.register(KetenzorgBudget)
class KetenzorgBudgetAdmin(admin.ModelAdmin):
    list_display = ("zorggroep", "year", "amount")
    list_filter = ("year", "zorggroep")
    list_select_related = ("zorggroep",)


@admin.register(RejectionReason)
class RejectionReasonAdmin(admin.ModelAdmin):
    list_display = ("code", "description")
    search_fields = ("code", "description")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that only their services write: viewable, never added, changed or deleted here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AuditedTrajectoryRecordMixin:
    """Opening a record that names a patient in the admin is an access to patient data."""

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None and request.method == "GET":
            audit_record(
                who=Actor.from_request(request, channel=AuditEvent.Channel.ADMIN),
                action=AuditEvent.Action.VIEW,
                patient_id=obj.trajectory.patient_id,
                obj=obj,
            )
        return obj


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ("number", "zorggroep", "year", "month", "state", "issued_on", "total")
    list_filter = ("state", "year", "zorggroep")
    search_fields = ("number", "zorggroep__name")
    list_select_related = ("zorggroep",)
    date_hierarchy = "issued_on"


@admin.register(InvoiceLine)
class InvoiceLineAdmin(AuditedTrajectoryRecordMixin, ReadOnlyAdmin):
    list_display = (
        "invoice",
        "kind",
        "prestatie",
        "patient_name",
        "practice_name",
        "end_date",
        "amount",
        "over_budget",
    )
    list_filter = ("kind", "over_budget", "zorggroep", "prestatie")
    search_fields = ("=patient_bsn", "patient_name", "invoice__number")
    list_select_related = ("invoice", "prestatie")


@admin.register(Claim)
class ClaimAdmin(AuditedTrajectoryRecordMixin, ReadOnlyAdmin):
    list_display = (
        "claim_number",
        "insurer",
        "prestatie_code",
        "patient_name",
        "amount",
        "status",
        "created_at",
    )
    list_filter = ("status", "insurer", "prestatie_code")
    search_fields = ("claim_number", "=bsn", "patient_name")
    list_select_related = ("insurer",)


@admin.register(BillingDecision)
class BillingDecisionAdmin(ReadOnlyAdmin):
    list_display = ("trajectory", "route", "reason", "reference_date", "decided_at")
    list_filter = ("route", "zorggroep")
    search_fields = ("reason", "trajectory__id")


@admin.register(BillingException)
class BillingExceptionAdmin(AuditedTrajectoryRecordMixin, admin.ModelAdmin):
    """A person decides what happens with a trajectory routing could not decide, and writes why."""

    list_display = ("trajectory", "reason", "message", "created_at", "resolved_at")
    list_filter = ("reason", ("resolved_at", admin.EmptyFieldListFilter))
    search_fields = ("message", "resolution", "trajectory__id")
    fields = (
        "trajectory",
        "reason",
        "message",
        "created_at",
        "resolution",
        "resolved_at",
        "resolved_by",
    )
    readonly_fields = (
        "trajectory",
        "reason",
        "message",
        "created_at",
        "resolved_at",
        "resolved_by",
    )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if obj.resolution.strip() and obj.resolved_at is None:
            obj.resolved_at = timezone.now()
            obj.resolved_by = request.user
        elif not obj.resolution.strip():
            obj.resolved_at = None
            obj.resolved_by = None
        super().save_model(request, obj, form, change)
