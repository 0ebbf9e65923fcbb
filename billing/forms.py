from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import InvoiceState

SORTS = {
    "number": "number",
    "-number": "-number",
    "date": "issued_on",
    "-date": "-issued_on",
    "total": "total",
    "-total": "-total",
}


class InvoiceFilterForm(forms.Form):
    """The list's filters; anything unknown falls back to 'all', newest first."""

    state = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("all statuses")), *InvoiceState.choices],
    )
    year = forms.TypedChoiceField(label=_("Year"), required=False, coerce=int, empty_value=None)
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("-date", _("date, newest first")),
            ("date", _("date, oldest first")),
            ("-number", _("number, descending")),
            ("number", _("number, ascending")),
            ("-total", _("total, highest first")),
            ("total", _("total, lowest first")),
        ],
    )

    def __init__(self, *args, years=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [("", _("all years")), *[(y, y) for y in years]]

    def values(self) -> dict:
        """The valid filters, with defaults for what was missing or wrong."""
        data = self.cleaned_data if self.is_valid() else {}
        return {
            "state": data.get("state") or "",
            "year": data.get("year"),
            "sort": data.get("sort") or "-date",
        }


class DisputeForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is this line not right?"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class CorrectionForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Correct amount (EUR)"),
        max_digits=9,
        decimal_places=2,
        min_value=Decimal("0"),
        help_text=_("0 when the line should not have been charged at all."),
    )
    note = forms.CharField(
        label=_("Explanation for the zorggroep"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
