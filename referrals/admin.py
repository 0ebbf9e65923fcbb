from django.contrib import admin, messages
from django.utils.translation import gettext as _

from .models import Webhook
from .webhooks import webhook_new_secret


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    """Webhooks of practices and zorggroepen; the signing secret is shown once, on creation."""

    list_display = ("organisation", "url", "is_active", "created_at")
    list_filter = ("is_active",)
    autocomplete_fields = ("organisation",)
    fields = ("organisation", "url", "is_active")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.secret = webhook_new_secret()
        super().save_model(request, obj, form, change)
        if not change:
            messages.warning(
                request,
                _(
                    "The signing secret of this webhook is: %(secret)s. Give it to the receiver "
                    "now: it is not shown again."
                )
                % {"secret": obj.secret},
            )
