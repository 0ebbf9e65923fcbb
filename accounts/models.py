from django.utils.translation import gettext_lazy as _

from carechain.models import User


class TwoFactorUser(User):
    """The people, seen from their second factor: the admin page where it is reset."""

    class Meta:
        proxy = True
        verbose_name = _("two-factor authentication")
        verbose_name_plural = _("two-factor authentication")
