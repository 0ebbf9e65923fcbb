"""Billing: what a trajectory costs and who pays it.

Compliance rule (Besluit zorgverzekering; see the README's glossary): a *ketenzorg* patient's
stop-smoking care is paid by the zorggroep from its chain-care budget, never claimed from the
insurer; a regular patient's care is claimed from the insurer valid on the intake date, one
programme per insured per calendar year. The route is decided once per trajectory and stored with
its reason; a case that does not fit becomes a BillingException for a person, never a guess.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from carechain.models import Insurance, Insurer, Zorggroep
from pathways.models import Trajectory


class Prestatie(models.Model):
    """A billable service as defined by the NZa (Dutch healthcare authority)."""

    class Kind(models.TextChoices):
        PROGRAMME = "programme", _("stop-smoking programme (behavioural support)")
        NRT_SUPPLEMENT = "nrt", _("supplement for nicotine replacement")
        MEDICATION_SUPPLEMENT = "medication", _("supplement for prescription medication")

    code = models.CharField(_("code"), max_length=20, unique=True)
    description = models.CharField(_("description"), max_length=200)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, unique=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("prestatie")
        verbose_name_plural = _("prestaties")

    def __str__(self) -> str:
        return f"{self.code} {self.description}"


class Tariff(models.Model):
    """The amount of a prestatie in one contract (an insurer's or a zorggroep's) for a period."""

    prestatie = models.ForeignKey(Prestatie, on_delete=models.PROTECT, related_name="tariffs")
    insurer = models.ForeignKey(
        Insurer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tariffs",
        verbose_name=_("insurer contract"),
    )
    zorggroep = models.ForeignKey(
        Zorggroep,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tariffs",
        verbose_name=_("zorggroep contract"),
    )
    amount = models.DecimalField(
        _("amount (EUR)"),
        max_digits=9,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    class Meta:
        ordering = ["prestatie", "-valid_from"]
        verbose_name = _("tariff")
        verbose_name_plural = _("tariffs")
        constraints = [
            models.CheckConstraint(
                condition=(Q(insurer__isnull=False) & Q(zorggroep__isnull=True))
                | (Q(insurer__isnull=True) & Q(zorggroep__isnull=False)),
                name="tariff_one_contract",
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="tariff_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prestatie.code} {self.amount} ({self.insurer or self.zorggroep})"

    def clean(self) -> None:
        if bool(self.insurer_id) == bool(self.zorggroep_id):
            raise ValidationError(
                _("A tariff belongs to exactly one contract: an insurer or a zorggroep.")
            )
        if self.valid_to and self.valid_from and self.valid_to < self.valid_from:
            raise ValidationError({"valid_to": _("The end date lies before the start date.")})
        clash = (
            Tariff.objects.filter(
                prestatie_id=self.prestatie_id,
                insurer_id=self.insurer_id,
                zorggroep_id=self.zorggroep_id,
            )
            .exclude(pk=self.pk)
            .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=self.valid_from))
        )
        if self.valid_to:
            clash = clash.filter(valid_from__lte=self.valid_to)
        if self.prestatie_id and self.valid_from and clash.exists():
            raise ValidationError(_("Another tariff of this contract overlaps this period."))


class Route(models.TextChoices):
    ZORGGROEP = "zorggroep", _("zorggroep (ketenzorg budget)")
    INSURER = "insurer", _("insurer (claim)")
    EXCEPTION = "exception", _("exception: a person decides")


class BillingDecision(models.Model):
    """The route of one trajectory, decided once, with the reason (compliance record)."""

    trajectory = models.OneToOneField(
        Trajectory, on_delete=models.PROTECT, related_name="billing_decision"
    )
    route = models.CharField(_("route"), max_length=10, choices=Route.choices)
    reason = models.CharField(_("reason"), max_length=300)
    reference_date = models.DateField(_("reference date (intake)"))
    zorggroep = models.ForeignKey(Zorggroep, on_delete=models.PROTECT, null=True, blank=True)
    insurance = models.ForeignKey(Insurance, on_delete=models.PROTECT, null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), default=timezone.now)

    class Meta:
        verbose_name = _("billing decision")
        verbose_name_plural = _("billing decisions")

    def __str__(self) -> str:
        return f"{self.get_route_display()}: {self.reason}"


class BillingException(models.Model):
    class Reason(models.TextChoices):
        NO_INSURANCE = "no_insurance", _("no valid insurance on the intake date")
        SECOND_PROGRAMME = "second_programme", _("second programme in the same calendar year")
        NO_TARIFF = "no_tariff", _("no tariff valid on the intake date")
        KETENZORG_UNCONFIRMED = (
            "ketenzorg_unconfirmed",
            _("referral says ketenzorg, no enrolment found"),
        )

    trajectory = models.ForeignKey(
        Trajectory, on_delete=models.PROTECT, related_name="billing_exceptions"
    )
    reason = models.CharField(_("reason"), max_length=24, choices=Reason.choices)
    message = models.CharField(_("explanation"), max_length=500)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolution = models.CharField(_("resolution"), max_length=500, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("billing exception")
        verbose_name_plural = _("billing exceptions")
        constraints = [
            models.UniqueConstraint(
                fields=["trajectory", "reason"], name="one_exception_per_reason"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} · {self.trajectory_id}"


class InvoiceState(models.TextChoices):
    DRAFT = "draft", _("draft")
    SENT = "sent", _("sent")
    DISPUTED = "disputed", _("disputed")
    CORRECTED = "corrected", _("corrected")
    APPROVED = "approved", _("approved")
    PAID = "paid", _("paid")


I = InvoiceState  # noqa: E741 - short alias for transition declarations


class Invoice(FSMModelMixin, models.Model):
    """A monthly invoice to a zorggroep. Numbered and copied on issue; never edited after sending:
    a correction is a credit line plus a new line on a correction invoice."""

    zorggroep = models.ForeignKey(Zorggroep, on_delete=models.PROTECT, related_name="invoices")
    number = models.CharField(_("number"), max_length=20, unique=True)
    year = models.PositiveSmallIntegerField(_("year"))
    month = models.PositiveSmallIntegerField(_("month"))
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
        verbose_name=_("corrects invoice"),
    )
    state = FSMField(_("status"), default=I.DRAFT, choices=I.choices, protected=True, db_index=True)
    issued_on = models.DateField(_("invoice date"))
    due_on = models.DateField(_("due date"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    seller = models.JSONField(_("provider as shown"))
    buyer = models.JSONField(_("zorggroep as shown"))
    total = models.DecimalField(
        _("total (EUR)"), max_digits=12, decimal_places=2, default=Decimal("0")
    )
    pdf = models.FileField(_("PDF"), upload_to="invoices/%Y/", blank=True)

    class Meta:
        ordering = ["-year", "-month", "-pk"]
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        constraints = [
            models.UniqueConstraint(
                fields=["zorggroep", "year", "month"],
                condition=Q(corrects__isnull=True),
                name="one_monthly_invoice_per_zorggroep",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def has_no_open_disputes(self) -> bool:
        return not self.lines.filter(
            disputed_at__isnull=False, dispute_resolved_at__isnull=True
        ).exists()

    def has_disputes(self) -> bool:
        return self.lines.filter(
            disputed_at__isnull=False, dispute_resolved_at__isnull=True
        ).exists()

    @transition(field=state, source=I.DRAFT, target=I.SENT)
    def send(self):
        self.sent_at = timezone.now()

    @transition(field=state, source=[I.SENT, I.DISPUTED], target=I.DISPUTED)
    def dispute(self):
        pass

    @transition(
        field=state, source=I.DISPUTED, target=I.CORRECTED, conditions=[has_no_open_disputes]
    )
    def mark_corrected(self):
        pass

    @transition(
        field=state,
        source=[I.SENT, I.CORRECTED],
        target=I.APPROVED,
        conditions=[has_no_open_disputes],
    )
    def approve(self):
        self.approved_at = timezone.now()

    @transition(field=state, source=I.APPROVED, target=I.PAID)
    def mark_paid(self):
        self.paid_at = timezone.now()


class InvoiceLine(models.Model):
    """One prestatie for one trajectory, to a zorggroep. Patient and amounts are copied when the
    line is created; an invoice shows these copies. A credit line negates an earlier line."""

    class Kind(models.TextChoices):
        ORIGINAL = "original", _("original")
        CREDIT = "credit", _("credit")
        CORRECTION = "correction", _("correction")

    zorggroep = models.ForeignKey(Zorggroep, on_delete=models.PROTECT, related_name="invoice_lines")
    trajectory = models.ForeignKey(
        Trajectory, on_delete=models.PROTECT, related_name="invoice_lines"
    )
    prestatie = models.ForeignKey(Prestatie, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.ORIGINAL)
    corrects = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections"
    )
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="lines"
    )
    amount = models.DecimalField(_("amount (EUR)"), max_digits=9, decimal_places=2)
    patient_name = models.CharField(_("patient"), max_length=200)
    patient_bsn = models.CharField(_("BSN"), max_length=9)
    patient_birth_date = models.DateField(_("date of birth"))
    practice_name = models.CharField(_("practice"), max_length=200)
    start_date = models.DateField(_("start"))
    end_date = models.DateField(_("end"))
    over_budget = models.BooleanField(_("over budget"), default=False)
    disputed_at = models.DateTimeField(_("disputed"), null=True, blank=True)
    dispute_reason = models.CharField(_("dispute reason"), max_length=500, blank=True)
    dispute_resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["invoice", "pk"]
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        constraints = [
            models.UniqueConstraint(
                fields=["trajectory", "prestatie"],
                condition=Q(kind="original"),
                name="one_invoice_line_per_trajectory_prestatie",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prestatie.code} {self.patient_name} {self.amount}"


class KetenzorgBudget(models.Model):
    """A zorggroep's chain-care budget for stop-smoking care in one year."""

    zorggroep = models.ForeignKey(Zorggroep, on_delete=models.PROTECT, related_name="budgets")
    year = models.PositiveSmallIntegerField(_("year"))
    amount = models.DecimalField(
        _("budget (EUR)"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )

    class Meta:
        ordering = ["-year"]
        verbose_name = _("ketenzorg budget")
        verbose_name_plural = _("ketenzorg budgets")
        constraints = [
            models.UniqueConstraint(fields=["zorggroep", "year"], name="one_budget_per_year")
        ]

    def __str__(self) -> str:
        return f"{self.zorggroep} {self.year}: {self.amount}"


class RejectionReason(models.Model):
    """Codes an insurer answers a rejected claim with (data, like the Vektis return codes)."""

    code = models.CharField(_("code"), max_length=10, unique=True)
    description = models.CharField(_("description"), max_length=200)

    class Meta:
        ordering = ["code"]
        verbose_name = _("rejection reason")
        verbose_name_plural = _("rejection reasons")

    def __str__(self) -> str:
        return f"{self.code} {self.description}"


class Claim(models.Model):
    """A claim (declaratie) to an insurer for one prestatie of one trajectory.

    Holds only what a claim needs: no clinical, motivation or mental-health data, ever. A rejected
    claim can be corrected and resubmitted as a new version; the old version is superseded.
    """

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("submitted")
        ACCEPTED = "accepted", _("accepted")
        REJECTED = "rejected", _("rejected")
        SUPERSEDED = "superseded", _("superseded")

    trajectory = models.ForeignKey(Trajectory, on_delete=models.PROTECT, related_name="claims")
    prestatie = models.ForeignKey(Prestatie, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveSmallIntegerField(default=1)
    # No index of its own: (insurer, id) and (insurer, updated_at) below start with it
    # (docs/explain/claims_pull.md shows the plans without it).
    insurer = models.ForeignKey(
        Insurer, on_delete=models.PROTECT, related_name="claims", db_index=False
    )
    claim_number = models.CharField(_("claim number"), max_length=30, unique=True)
    bsn = models.CharField(_("BSN"), max_length=9)
    patient_name = models.CharField(_("name"), max_length=200)
    birth_date = models.DateField(_("date of birth"))
    uzovi = models.CharField(_("UZOVI code"), max_length=4)
    policy_number = models.CharField(_("policy number"), max_length=30)
    provider_agb = models.CharField(_("provider AGB"), max_length=8)
    performer_agb = models.CharField(_("performer AGB"), max_length=8)
    prestatie_code = models.CharField(_("prestatie code"), max_length=20)
    start_date = models.DateField(_("start"))
    end_date = models.DateField(_("end"))
    amount = models.DecimalField(_("amount (EUR)"), max_digits=9, decimal_places=2)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.SUBMITTED, db_index=True
    )
    rejection_code = models.CharField(_("rejection code"), max_length=10, blank=True)
    rejection_text = models.CharField(_("rejection text"), max_length=500, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("changed"), default=timezone.now, db_index=True)
    # The claim's REST document without its links and closing brace, and its FHIR search entry
    # after the base URL: written by PostgreSQL on every INSERT and UPDATE (billing.claim_documents),
    # whatever is set here; empty on other databases. An instance in memory is not refreshed.
    api_document = models.TextField(editable=False, default="")
    fhir_entry = models.TextField(editable=False, default="")

    class Meta:
        ordering = ["pk"]
        verbose_name = _("claim")
        verbose_name_plural = _("claims")
        constraints = [
            models.UniqueConstraint(
                fields=["trajectory", "prestatie", "version"],
                name="one_claim_per_trajectory_prestatie_version",
            ),
        ]
        indexes = [
            models.Index(fields=["insurer", "id"]),
            models.Index(fields=["insurer", "updated_at"]),
        ]

    def __str__(self) -> str:
        return self.claim_number
