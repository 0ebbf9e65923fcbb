from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    """Referrals from ZorgDomein, KIS and the browser, and the referral's closed-loop status."""

    name = "referrals"
    verbose_name = _("Referrals")

    def ready(self) -> None:
        from audit import details
        from carechain import menu
        from carechain.api.exceptions import register_conflict
        from carechain.models import PRACTICE_ROLES, Role

        from . import access, models, services

        access.register()
        details.register_vocabulary("letter_kind", models.FeedbackLetter.Kind)
        details.register_vocabulary("letter_status", models.FeedbackLetter.Status)
        details.register_vocabulary("document_kind", models.ReferralDocument.Kind)
        register_conflict(services.TransitionRefused)
        menu.register(
            label=_("Refer a patient"),
            url_name="referral-create",
            order=20,
            roles=PRACTICE_ROLES,
            description=_("Refer a smoker who wants to quit to the SMR provider."),
        )
        menu.register(
            label=_("Our referrals"),
            url_name="referral-list",
            order=21,
            roles=PRACTICE_ROLES,
            description=_("The status, history and feedback of your practice's referrals."),
        )
        menu.register(
            label=_("Worklist"),
            url_name="referral-worklist",
            order=5,
            roles={Role.COACH, Role.PLANNER},
            description=_("New referrals: assign, contact the patient, accept or decline."),
        )
        menu.register(
            label=_("Failed letters"),
            url_name="letters-failed",
            order=40,
            roles={Role.PLANNER},
            description=_("Feedback letters that could not be delivered: check and retry."),
        )
        menu.register(
            label=_("Notifications to referrers"),
            url_name="webhook-deliveries",
            order=41,
            roles={Role.PLANNER},
            description=_("Webhook notifications to the practices' and zorggroepen's systems."),
        )
