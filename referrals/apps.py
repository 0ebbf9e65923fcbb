from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    """Referrals from ZorgDomein, KIS and the browser, and the referral's closed-loop status."""

    name = "referrals"
    verbose_name = _("Referrals")

    def ready(self) -> None:
        from . import access

        access.register()
