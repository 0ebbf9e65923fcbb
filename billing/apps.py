from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    """Tariffs, routing to zorggroep or insurer, invoices and claims."""

    name = "billing"
    verbose_name = _("Billing")

    def ready(self) -> None:
        from carechain import demo

        from . import demo as billing_demo

        demo.register_step(billing_demo.seed)
