from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from audit.models import AuditEvent
from audit.services import audit_record

from . import services
from .access import Actor
from .forms import EnrolmentInlineFormSet, PeriodInlineFormSet
from .models import (
    Insurance,
    Insurer,
    KetenzorgEnrolment,
    Location,
    Membership,
    Organisation,
    OrganisationAPIKey,
    Patient,
    Practice,
    Provider,
    User,
    Zorggroep,
)


@admin.register(Zorggroep)
class ZorggroepAdmin(admin.ModelAdmin):
    list_display = ("name", "agb", "city", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "agb", "city")


@admin.register(Practice)
class PracticeAdmin(admin.ModelAdmin):
    list_display = ("name", "agb", "zorggroep", "channel", "city", "is_active")
    list_filter = ("zorggroep", "channel", "is_active")
    search_fields = ("name", "agb", "city")
    list_select_related = ("zorggroep",)


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ("name", "agb", "city", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "agb", "city")


@admin.register(Insurer)
class InsurerAdmin(admin.ModelAdmin):
    list_display = ("name", "uzovi", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "uzovi")


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ("name", "practice", "provider", "is_active")
    list_filter = ("provider", "practice", "is_active")
    search_fields = ("name", "practice__name")
    list_select_related = ("practice", "provider")


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ("organisation", "role", "krs_number", "krs_valid_until", "is_active")
    autocomplete_fields = ("organisation",)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    inlines = [MembershipInline]
    list_display = ("username", "first_name", "last_name", "email", "is_active", "is_staff")
    list_filter = ("is_active", "is_staff", "memberships__role")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "organisation", "krs_number", "krs_valid_until", "is_active")
    list_filter = ("role", "is_active")
    search_fields = ("user__username", "user__last_name", "organisation__name", "krs_number")
    list_select_related = ("user", "organisation")
    autocomplete_fields = ("user", "organisation")


class InsuranceInline(admin.TabularInline):
    model = Insurance
    formset = PeriodInlineFormSet
    extra = 0


class EnrolmentInline(admin.TabularInline):
    model = KetenzorgEnrolment
    formset = EnrolmentInlineFormSet
    extra = 0


class AuditedPatientAdminMixin:
    """Opening or saving a patient in the admin is an access to patient data like any other."""

    def _actor(self, request):
        return Actor.from_request(request, channel=AuditEvent.Channel.ADMIN)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None and request.method == "GET":
            audit_record(
                who=self._actor(request), action=AuditEvent.Action.VIEW, patient_id=obj.pk, obj=obj
            )
        return obj

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        action = AuditEvent.Action.CHANGE if change else AuditEvent.Action.CREATE
        audit_record(
            who=self._actor(request), action=action, patient_id=form.instance.pk, obj=form.instance
        )


@admin.register(Patient)
class PatientAdmin(AuditedPatientAdminMixin, admin.ModelAdmin):
    list_display = ("last_name", "first_name", "birth_date", "practice", "best_time_to_call")
    list_filter = ("practice__zorggroep", "practice", "ketenzorg_enrolments__programme")
    search_fields = ("=bsn", "last_name", "first_name")
    list_select_related = ("practice",)
    inlines = [InsuranceInline, EnrolmentInline]
    date_hierarchy = "created_at"


# The library's own key model is not used: its keys would be refused everywhere.
admin.site.unregister(APIKey)


@admin.register(OrganisationAPIKey)
class OrganisationAPIKeyAdmin(APIKeyModelAdmin):
    """Made, changed and revoked here; every one of those is a security event in the audit log."""

    list_display = (
        "prefix",
        "name",
        "organisation",
        "purpose",
        "created",
        "expiry_date",
        "expired",
        "revoked",
    )
    list_filter = ("purpose", "revoked", "created")
    search_fields = ("name", "prefix", "organisation__name")
    autocomplete_fields = ("organisation",)

    @admin.display(description=gettext_lazy("expired"), boolean=True)
    def expired(self, obj) -> bool:
        return obj.has_expired

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the audit log keeps naming the key

    def save_model(self, request, obj, form, change):
        actor = Actor.from_request(request, channel=AuditEvent.Channel.ADMIN)
        if change:
            services.api_key_change(by=actor, api_key=obj, changed=list(form.changed_data))
            return
        key = services.api_key_issue(by=actor, api_key=obj)
        messages.warning(
            request,
            _(
                "The API key for %(name)s is: %(key)s. Copy it now and keep it somewhere safe: "
                "it is not shown again."
            )
            % {"name": obj.name, "key": key},
        )


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    """All organisations in one list, so memberships and API keys can pick any kind."""

    list_display = ("name", "kind", "city", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name",)

    def has_add_permission(self, request):
        return False
