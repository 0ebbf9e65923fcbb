"""Stored report figures (a materialised summary), so that the report page does not run its
aggregates over every trajectory of the region on each view.

One row per zorggroep and period (``2026-11``, ``2026-Q4``, ``2026``): periods are discrete, and
several figures (medians, distinct referrers, "in care during the period") do not add up over
months, so the figures are stored per period as the page shows them, not per month. The row holds
counts per practice, as the page does (small cells are suppressed when the page is built, never in
what is stored), and the day the figures were computed for: "overdue" and "due by today" depend on
it. ``reports.snapshots`` computes and reads them.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from carechain.models import Zorggroep


class ReportSnapshot(models.Model):
    zorggroep = models.ForeignKey(
        Zorggroep, on_delete=models.CASCADE, related_name="report_snapshots"
    )
    period_key = models.CharField(_("period"), max_length=10)
    today = models.DateField(_("computed for the day"))
    computed_at = models.DateTimeField(_("computed at"))
    seconds = models.FloatField(_("seconds to compute"), default=0)
    version = models.PositiveSmallIntegerField(_("version of the figures"))
    figures = models.JSONField(_("figures"))

    class Meta:
        verbose_name = _("report snapshot")
        verbose_name_plural = _("report snapshots")
        constraints = [
            models.UniqueConstraint(
                fields=["zorggroep", "period_key"], name="report_snapshot_one_per_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.zorggroep_id} {self.period_key} ({self.computed_at:%Y-%m-%d %H:%M})"
