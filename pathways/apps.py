from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PathwaysConfig(AppConfig):
    """The stop-smoking trajectory: contacts, POH-GGZ escalation, relapse-prevention groups."""

    name = "pathways"
    verbose_name = _("Trajectories")

    def ready(self) -> None:
        from carechain import menu
        from carechain.api.exceptions import register_conflict
        from carechain.models import Role

        from . import services

        register_conflict(services.TransitionRefused)
        register_conflict(services.ChangedMeanwhile)

        menu.register(
            label=_("Caseload"),
            url_name="caseload",
            order=6,
            roles={Role.COACH, Role.PLANNER},
            description=_("Your trajectories with the next action and its due date."),
        )
        menu.register(
            label=_("Escalations"),
            url_name="poh-ggz-inbox",
            order=30,
            roles={Role.POH_GGZ},
            description=_("Patients the stop coaches escalated to you: sessions and report back."),
        )
