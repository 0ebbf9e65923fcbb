from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    """The letter campaign to smokers (brievenactie) of a GP practice."""

    name = "campaigns"
    verbose_name = _("Letter campaigns")

    def ready(self) -> None:
        from audit import details
        from carechain import demo, menu

        from . import demo as campaigns_demo
        from . import models
        from .access import CAMPAIGN_ROLES

        demo.register_step(campaigns_demo.seed)
        details.register_vocabulary("answer", models.Answer)
        menu.register(
            label=_("Letter campaigns"),
            url_name="campaign-list",
            order=22,
            roles=set(CAMPAIGN_ROLES),
            description=_(
                "Brievenactie: invite the smokers of your practice by letter to stop-smoking support."
            ),
        )
