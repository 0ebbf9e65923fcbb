from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PathwaysConfig(AppConfig):
    """The stop-smoking trajectory: contacts, POH-GGZ escalation, relapse-prevention groups."""

    name = "pathways"
    verbose_name = _("Trajectories")

    def ready(self) -> None:
        from audit import details
        from carechain import demo, menu
        from carechain.api.exceptions import register_conflict
        from carechain.models import Role

        from . import demo as pathways_demo
        from . import models, services

        demo.register_step(pathways_demo.seed)
        register_conflict(services.TransitionRefused)
        register_conflict(services.ChangedMeanwhile)
        details.register_vocabulary("attendance", models.Attendance.Status)

        menu.register(
            label=_("Caseload"),
            url_name="caseload",
            order=6,
            roles={Role.COACH, Role.PLANNER},
            description=_("Your trajectories with the next action and its due date."),
        )
        menu.register(
            label=_("My agenda"),
            url_name="coach-agenda",
            order=8,
            roles={Role.COACH},
            description=_(
                "Your appointments of the day: in the practices' rooms, by phone and video."
            ),
        )
        menu.register(
            label=_("Rooms"),
            url_name="location-list",
            order=31,
            roles={Role.COACH, Role.PLANNER, Role.GP, Role.POH_S, Role.POH_GGZ},
            description=_(
                "The rooms practices lend the provider, and each room's bookings per day."
            ),
        )
        menu.register(
            label=_("Relapse-prevention groups"),
            url_name="group-list",
            order=32,
            roles={Role.POH_GGZ, Role.COACH},
            description=_(
                "Terugvalpreventie: eight group meetings a year by the POH-GGZ; quitters join at any meeting."
            ),
        )
        menu.register(
            label=_("Escalations"),
            url_name="poh-ggz-inbox",
            order=30,
            roles={Role.POH_GGZ},
            description=_("Patients the stop coaches escalated to you: sessions and report back."),
        )
