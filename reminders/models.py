from django.conf import settings
from django.db import models
from django.db.models import Q
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

    key = models.CharField(max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    provider = models.ForeignKey(
        Provider, on_delete=models.CASCADE, related_name="reminders", db_index=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        db_index=False,
        null=True,
        blank=True,
        related_name="reminders",
        verbose_name=_("for"),
    )
    trajectory = models.ForeignKey(
        Trajectory,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reminders",
        db_index=False,
    )
    referral = models.ForeignKey(
        Referral,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reminders",
        db_index=False,
    )
    membership = models.ForeignKey(
        Membership,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reminders",
        db_index=False,
    )
    due = models.DateField(_("due"))
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    class Meta:
        ordering = ["due", "pk"]
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        # The daily scan inserts a reminder per candidate, so every index is paid per reminder
        # (docs/explain/reminder_scan.md): only what the pages and the scan read. The lists read
        # open reminders only (partial indexes); each subject's foreign key is indexed only on
        # the rows that have one, for the scan's "has its reminder" check and cascades.
        constraints = [models.UniqueConstraint(fields=["key"], name="reminder_unique_key")]
        indexes = [
            models.Index(
                fields=["user", "due"],
                condition=Q(resolved_at__isnull=True),
                name="reminder_open_user",
            ),
            models.Index(
                fields=["provider", "due"],
                condition=Q(resolved_at__isnull=True),
                name="reminder_open_provider",
            ),
            models.Index(
                fields=["trajectory"],
                condition=Q(trajectory__isnull=False),
                name="reminder_trajectory",
            ),
            models.Index(
                fields=["referral"], condition=Q(referral__isnull=False), name="reminder_referral"
            ),
            models.Index(
                fields=["membership"],
                condition=Q(membership__isnull=False),
                name="reminder_membership",
            ),
            # The scan's "has its open reminder" and "reason gone" anti-joins, index-only: the
            # open reminders of one kind by subject (with the id the resolving UPDATE needs).
            # A reminder has one kind, so each insert writes one of these.
            models.Index(
                fields=["trajectory", "id"],
                condition=Q(resolved_at__isnull=True, kind="follow_up_call"),
                name="reminder_open_follow_up_call",
            ),
            models.Index(
                fields=["referral", "id"],
                condition=Q(resolved_at__isnull=True, kind="first_contact"),
                name="reminder_open_first_contact",
            ),
            models.Index(
                fields=["membership", "id"],
                condition=Q(resolved_at__isnull=True, kind="krs_expiry"),
                name="reminder_open_krs_expiry",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.due}"
