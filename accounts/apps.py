from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """Logging in: password, second factor (TOTP or a recovery code), lockout, all of it audited."""

    name = "accounts"
    verbose_name = _("Logging in")

    def ready(self):
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_login_failed

        from . import services

        # django-axes and Django announce these with signals; the audit log needs a row for each.
        user_login_failed.connect(services.on_login_failed, dispatch_uid="accounts-login-failed")
        user_locked_out.connect(services.on_locked_out, dispatch_uid="accounts-locked-out")
