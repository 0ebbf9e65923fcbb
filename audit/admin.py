from django.contrib import admin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the log can be searched here, never changed or deleted."""

    list_display = (
        "at",
        "action",
        "channel",
        "username",
        "api_key",
        "roles",
        "patient_id",
        "object_type",
        "ip",
    )
    list_filter = ("action", "channel", "at")
    search_fields = ("username", "api_key", "=patient_id", "object_id", "organisation")
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
