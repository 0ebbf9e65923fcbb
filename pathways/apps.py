from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PathwaysConfig(AppConfig):
    """The stop-smoking trajectory: contacts, POH-GGZ escalation, relapse-prevention groups."""

    name = "pathways"
    verbose_name = _("Trajectories")
