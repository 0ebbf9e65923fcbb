from django.contrib import admin

from .models import ReportSnapshot


@admin.register(ReportSnapshot)
class ReportSnapshotAdmin(admin.ModelAdmin):
    """Read only: when each period's figures were computed and what that cost (the beat's
    work); the figures themselves are counts per practice, shown on the report page."""

    list_display = ("zorggroep", "period_key", "today", "computed_at", "seconds", "version")
    list_filter = ("zorggroep",)
    search_fields = ("period_key",)
    exclude = ("figures",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
