"""The admin asks for the second factor too, and resets it (audited) for a person who lost it."""

from django.contrib import admin
from django.contrib.admin import AdminSite
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp.admin import OTPAdminSite
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEvent
from carechain.access import Actor
from carechain.models import User

from . import services
from .models import TwoFactorUser


class VerifiedAdminSite(OTPAdminSite):
    """django-otp's admin site: staff only after the second factor, through our own login page.

    smr/urls.py gives ``admin.site`` this class, so every app's ``@admin.register`` still lands here.
    """

    def has_permission(self, request):
        user = request.user
        return AdminSite.has_permission(self, request) and (
            services.is_verified(user) or not services.otp_required_for(user)
        )

    def login(self, request, extra_context=None):
        if request.user.is_authenticated:
            # Logged in but no staff: Django would show its own login form, ours would loop.
            raise PermissionDenied
        next_url = request.GET.get(REDIRECT_FIELD_NAME) or reverse("admin:index")
        return redirect_to_login(next_url, login_url=reverse("login"))


@admin.action(
    description=_("Reset two-factor authentication (set up again at the next login)"),
    permissions=["change"],
)
def reset_two_factor(modeladmin, request, queryset):
    """On the two-factor page below and on carechain's people admin (added at the bottom)."""
    by = Actor.for_user(
        request.user, channel=AuditEvent.Channel.ADMIN, ip=request.META.get("REMOTE_ADDR")
    )
    user_ids = list(queryset.values_list("pk", flat=True))
    for user_id in user_ids:
        services.two_factor_reset(user_id=user_id, by=by)
    modeladmin.message_user(
        request,
        ngettext(
            "Two-factor authentication reset for %(count)d person.",
            "Two-factor authentication reset for %(count)d people.",
            len(user_ids),
        )
        % {"count": len(user_ids)},
    )


@admin.register(TwoFactorUser)
class TwoFactorUserAdmin(admin.ModelAdmin):
    """Who has set up the second factor, and the one audited way to reset it."""

    list_display = (
        "username",
        "first_name",
        "last_name",
        "is_active",
        "has_authenticator_app",
        "recovery_codes_left",
    )
    list_display_links = None
    list_filter = ("is_active", "is_staff")
    search_fields = ("username", "first_name", "last_name", "email")
    ordering = ("username",)
    fields = readonly_fields = ("username", "first_name", "last_name", "email", "is_active")
    actions = [reset_two_factor]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                _has_app=Exists(TOTPDevice.objects.filter(user_id=OuterRef("pk"), confirmed=True)),
                _codes_left=Count(
                    "staticdevice__token_set",
                    filter=Q(staticdevice__confirmed=True),
                    distinct=True,
                ),
            )
        )

    @admin.display(boolean=True, description=_("authenticator app"))
    def has_authenticator_app(self, obj):
        return obj._has_app

    @admin.display(description=_("recovery codes left"))
    def recovery_codes_left(self, obj):
        return obj._codes_left

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# django-otp's own device admins would let an admin read a secret or plant a device without an
# audit row: the reset above is the only way in.
for _model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)

# The people's own admin page (carechain's) gets the reset too: this room sits above carechain, so
# it adds the action from here rather than carechain importing it.
if admin.site.is_registered(User):
    _user_admin = admin.site.get_model_admin(User)
    if reset_two_factor not in _user_admin.actions:
        _user_admin.actions = [*_user_admin.actions, reset_two_factor]
