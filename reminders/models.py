from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carechain.models import Membership, Provider
from pathways.models import Trajectory
from referrals.models import Referral


class Reminder(models.Model):
    """Something a coach (or the planner) must do by a date. One per subject and moment (``key``),
    so running the scan twice, or on two beat instances at once, never creates a second one."""

    class Kind(models.TextChoices):
        FOLLOW_UP_CALL = "follow_up_call", _("12-month follow-up call")
        FIRST_CONTACT = "first_contact", _("first contact overdue")
        KRS_EXPIRY = "krs_expiry", _("KRS registration expires")

    key = models.CharField(max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="reminders")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reminders",
        verbose_name=_("for"),
    )
    trajectory = models.ForeignKey(
        Trajectory, on_delete=models.CASCADE, null=True, blank=True, related_name="reminders"
    )
    referral = models.ForeignKey(
        Referral, on_delete=models.CASCADE, null=True, blank=True, related_name="reminders"
    )
    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, null=True, blank=True, related_name="reminders"
    )
    due = models.DateField(_("due"), db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["due", "pk"]
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        indexes = [models.Index(fields=["user", "resolved_at", "due"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.due}"
