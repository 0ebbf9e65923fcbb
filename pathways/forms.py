from django import forms
from django.utils.translation import gettext_lazy as _

from carechain.forms import DateInput

from .models import (
    Contact,
    ContactKind,
    EscalationReason,
    FollowUpOutcome,
    Medication,
    Outcome,
    SmokingStatus,
    TrajectoryState,
)


class TransitionForm(forms.Form):
    """Every transition form carries the state the person saw, to detect changes meanwhile."""

    expected_state = forms.ChoiceField(choices=TrajectoryState.choices, widget=forms.HiddenInput)


class NoteTransitionForm(TransitionForm):
    note = forms.CharField(label=_("Note"), max_length=1000, required=False)


class IntakeForm(TransitionForm):
    intake_date = forms.DateField(label=_("Intake date"), widget=DateInput())
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"), min_value=1, max_value=480, initial=45
    )
    location = forms.ModelChoiceField(label=_("Location"), queryset=None, required=False)
    cigarettes_per_day = forms.IntegerField(label=_("Cigarettes a day"), min_value=0, max_value=200)
    years_smoked = forms.IntegerField(
        label=_("Years smoked"), min_value=0, max_value=100, required=False
    )
    earlier_quit_attempts = forms.IntegerField(
        label=_("Earlier quit attempts"), min_value=0, max_value=100, required=False
    )
    is_motivated = forms.BooleanField(label=_("Motivated to quit"), required=False, initial=True)
    medication_plan = forms.MultipleChoiceField(
        label=_("Medication plan"),
        choices=Medication.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    quit_date = forms.DateField(label=_("Agreed quit date"), widget=DateInput(), required=False)
    note = forms.CharField(
        label=_("Intake notes"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        required=False,
    )

    def __init__(self, *args, locations=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = locations


class ContactForm(forms.ModelForm):
    medication = forms.MultipleChoiceField(
        label=_("Medication in use"),
        choices=Medication.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[c for c in ContactKind.choices if c[0] != ContactKind.INTAKE]
    )

    class Meta:
        model = Contact
        fields = [
            "kind",
            "date",
            "duration_minutes",
            "location",
            "smoking_status",
            "cigarettes_per_day",
            "co_ppm",
            "medication",
            "still_motivated",
            "notes",
        ]
        widgets = {"date": DateInput(), "notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, locations=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = locations
        self.fields["smoking_status"].choices = SmokingStatus.choices


class EscalationForm(TransitionForm):
    reason = forms.ChoiceField(label=_("Reason"), choices=EscalationReason.choices)
    explanation = forms.CharField(
        label=_("Explanation for the POH-GGZ"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
    )


class EndTreatmentForm(TransitionForm):
    end_date = forms.DateField(label=_("End of treatment"), widget=DateInput())
    result = forms.ChoiceField(label=_("Result"), choices=Outcome.choices)
    co_ppm = forms.IntegerField(label=_("CO (ppm)"), min_value=0, max_value=100, required=False)
    note = forms.CharField(label=_("Note"), max_length=1000, required=False)


class FollowUpForm(TransitionForm):
    call_date = forms.DateField(label=_("Date of the call"), widget=DateInput())
    result = forms.ChoiceField(label=_("12-month result"), choices=FollowUpOutcome.choices)
    co_ppm = forms.IntegerField(
        label=_("CO (ppm), if measured"), min_value=0, max_value=100, required=False
    )
    note = forms.CharField(label=_("Note"), max_length=1000, required=False)


class StopForm(TransitionForm):
    reason = forms.CharField(label=_("Reason"), max_length=500)


class ReassignForm(forms.Form):
    coach = forms.ChoiceField(label=_("Coach"))

    def __init__(self, *args, coaches=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["coach"].choices = [(c.pk, str(c)) for c in coaches]


class GgzSessionForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=DateInput())
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"), min_value=1, max_value=240, initial=45
    )
    notes = forms.CharField(
        label=_("Session notes"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=8000,
        required=False,
    )


class ReportBackForm(forms.Form):
    report = forms.CharField(
        label=_("Report back to the coach"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=8000,
    )


class StopCareForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)
