from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """Aggregate reports with charts for the zorggroep and the provider (nothing depends on it)."""

    name = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from carechain import demo, menu
        from carechain.models import Role

        from . import demo as reports_demo
        from .median import register_sqlite_median

        register_sqlite_median()
        demo.register_step(reports_demo.seed)
        menu.register(
            label=_("Reports"),
            url_name="report-home",
            order=60,
            roles={Role.ZORGGROEP_ADMIN, Role.PLANNER, Role.COACH},
            description=_(
                "Figures and charts: referrals, time to first contact, quit rates, escalations, "
                "groups and the ketenzorg budget."
            ),
        )
