from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import Insurance, KetenzorgEnrolment, Patient, first_overlap


class PeriodInlineFormSet(forms.BaseInlineFormSet):
    """Refuses overlapping periods among the rows of one form submission (the admin's too).

    Each row's own ``clean`` checks it against the saved rows; this catches two new rows that
    overlap each other, which the per-row check cannot see.
    """

    start_field = "valid_from"
    end_field = "valid_to"
    group_field: str | None = None
    overlap_message = _(
        "Two insurance periods overlap; a patient has one basic insurance at a time."
    )

    def clean(self):
        super().clean()
        rows = [
            f.cleaned_data
            for f in self.forms
            if f.cleaned_data
            and not f.cleaned_data.get("DELETE")
            and f.cleaned_data.get(self.start_field)
        ]
        groups: dict[object, list] = {}
        for row in rows:
            groups.setdefault(row.get(self.group_field) if self.group_field else None, []).append(
                row
            )
        for group in groups.values():
            periods = [(r[self.start_field], r.get(self.end_field)) for r in group]
            if first_overlap(periods):
                raise ValidationError(self.overlap_message)


class EnrolmentInlineFormSet(PeriodInlineFormSet):
    start_field = "start"
    end_field = "end"
    group_field = "programme"
    overlap_message = _("Two enrolments in the same programme overlap.")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class PatientForm(forms.ModelForm):
    class Meta:
        model = Patient
        fields = [
            "bsn",
            "initials",
            "first_name",
            "name_prefix",
            "last_name",
            "birth_date",
            "gender",
            "phone",
            "email",
            "address",
            "postal_code",
            "city",
            "best_time_to_call",
            "call_note",
        ]
        widgets = {"birth_date": DateInput()}

    def clean_bsn(self):
        return "".join(ch for ch in self.cleaned_data["bsn"] if not ch.isspace() and ch not in ".-")

    def validate_unique(self):
        """Not here: what a known BSN means is the service's rule (carechain.services), and a form
        error saying the BSN exists would tell any practice that the person is in care."""


InsuranceFormSet = forms.inlineformset_factory(
    Patient,
    Insurance,
    formset=PeriodInlineFormSet,
    fields=["insurer", "policy_number", "valid_from", "valid_to"],
    widgets={"valid_from": DateInput(), "valid_to": DateInput()},
    extra=1,
    can_delete=False,
)

EnrolmentFormSet = forms.inlineformset_factory(
    Patient,
    KetenzorgEnrolment,
    formset=EnrolmentInlineFormSet,
    fields=["programme", "start", "end"],  # with the zorggroep of the patient's practice
    widgets={"start": DateInput(), "end": DateInput()},
    extra=1,
    can_delete=False,
)
