from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    """Tariffs, routing to zorggroep or insurer, invoices and claims."""

    name = "billing"
    verbose_name = _("Billing")

    def ready(self) -> None:
        from audit import details
        from carechain import demo, menu
        from carechain.models import Role

        from . import demo as billing_demo
        from . import models

        demo.register_step(billing_demo.seed)
        demo.register_step(billing_demo.bill)
        details.register_vocabulary("claim_status", models.Claim.Status)
        menu.register(
            label=_("Invoices"),
            url_name="invoice-list",
            order=50,
            roles={Role.ZORGGROEP_ADMIN, Role.PLANNER},
            description=_(
                "Monthly ketenzorg invoices to the zorggroep: review, dispute, approve; "
                "and the ketenzorg budget."
            ),
        )
        menu.register(
            label=_("Billing exceptions"),
            url_name="billing-exceptions",
            order=51,
            roles={Role.PLANNER},
            description=_("Ended trajectories that could not be routed to a payer automatically."),
        )
