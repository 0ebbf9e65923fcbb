from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    """The NEN 7513 access log. Depends on nothing else in the project, so every room can write to it.

    Only the privacy officer's pages (views.py) and the menu entry below sit on top of the care
    chain and may import carechain.
    """

    name = "audit"
    verbose_name = _("Audit log")

    def ready(self) -> None:
        from carechain import menu
        from carechain.models import Role

        menu.register(
            label=_("Audit log"),
            url_name="audit-log",
            order=90,
            roles={Role.PRIVACY_OFFICER},
            description=_(
                "Who opened which patient record: search and export the log, print a patient's "
                "access report, check that the log is untouched."
            ),
        )
