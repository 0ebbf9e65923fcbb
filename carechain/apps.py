from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CarechainConfig(AppConfig):
    """The shared core of the care chain: organisations, people and roles, patients, access policy."""

    name = "carechain"
    verbose_name = _("Care chain")

    def ready(self) -> None:
        from . import menu
        from .models import PRACTICE_ROLES, Role

        menu.register(
            label=_("Patients"),
            url_name="patient-list",
            order=10,
            roles=PRACTICE_ROLES | {Role.COACH, Role.PLANNER},
            description=_("Find a patient by name or BSN and open the record."),
        )
