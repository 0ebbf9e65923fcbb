from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RemindersConfig(AppConfig):
    """Reminders from a daily scan: 12-month follow-up calls, first contacts, KRS registrations.

    Sits above pathways: it only reads the rooms below and never changes their rules.
    """

    name = "reminders"
    verbose_name = _("Reminders")

    def ready(self) -> None:
        from carechain import demo, menu
        from carechain.models import Role

        from .services import reminders_demo_scan

        demo.register_step(reminders_demo_scan)
        menu.register(
            label=_("Reminders"),
            url_name="reminder-list",
            order=7,
            roles={Role.COACH, Role.PLANNER},
            description=_(
                "Follow-up calls due, first contacts overdue, KRS registrations expiring."
            ),
        )
