"""The privacy officer's filter over the audit log."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from .models import AuditEvent
from .queries import Filters


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class AuditFilterForm(forms.Form):
    """Every field is optional; a patient is found by BSN or number among ``patients`` only, so a
    patient outside the privacy officer's organisation reads as 'not found'."""

    bsn = forms.CharField(label=_("BSN"), max_length=20, required=False)
    patient_id = forms.IntegerField(label=_("Patient number"), min_value=1, required=False)
    user = forms.CharField(
        label=_("User or API key"),
        max_length=150,
        required=False,
        help_text=_("The exact username, or the start of an API key."),
    )
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput())
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput())
    action = forms.ChoiceField(
        label=_("Action"),
        required=False,
        choices=[("", _("all actions")), *AuditEvent.Action.choices],
    )
    channel = forms.ChoiceField(
        label=_("Channel"),
        required=False,
        choices=[("", _("all channels")), *AuditEvent.Channel.choices],
    )

    def __init__(self, *args, patients: QuerySet, **kwargs):
        super().__init__(*args, **kwargs)
        self.patients = patients

    def clean_bsn(self) -> str:
        from carechain.validators import normalise_bsn, validate_bsn

        value = self.cleaned_data["bsn"].strip()
        if not value:
            return ""
        bsn = normalise_bsn(value)
        validate_bsn(bsn)
        return bsn

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date lies before the start date."))
        bsn, number = data.get("bsn"), data.get("patient_id")
        data["patient"] = None
        if bsn or number:
            patients = self.patients
            if bsn:
                patients = patients.filter(bsn=bsn)
            if number:
                patients = patients.filter(pk=number)
            data["patient"] = patients.first()
            if data["patient"] is None:
                raise ValidationError(
                    _("No patient of your organisation matches this BSN or patient number."),
                    code="patient_not_found",
                )
        return data

    def filters(self) -> Filters:
        data = self.cleaned_data
        return Filters(
            patient_id=data["patient"].pk if data.get("patient") else None,
            user=data.get("user", "").strip(),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            action=data.get("action", ""),
            channel=data.get("channel", ""),
        )
