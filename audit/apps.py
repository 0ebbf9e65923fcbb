from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    """The NEN 7513 access log. Depends on nothing else in the project, so every room can write to it."""

    name = "audit"
    verbose_name = _("Audit log")
