from django import forms
from django.utils.translation import gettext_lazy as _

from carechain.models import Patient

from .models import Answer, Campaign


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = ["name", "retention_months"]


class LetterForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = ["name", "letter_text", "retention_months"]
        widgets = {"letter_text": forms.Textarea(attrs={"rows": 22})}


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("List of smokers (CSV)"),
        help_text=_("An export from your GP information system; see the columns below."),
    )


class SelectPatientsForm(forms.Form):
    patients = forms.TypedMultipleChoiceField(
        label=_("Patients"), coerce=int, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, patients=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["patients"].choices = [
            (p.pk, f"{p.full_name} ({p.birth_date:%d-%m-%Y})") for p in patients
        ]


CALL_TIMES = Patient.CallTime.choices


class _AnswerFields(forms.Form):
    answer = forms.ChoiceField(label=_("Answer"), choices=Answer.choices, widget=forms.RadioSelect)
    phone = forms.RegexField(
        label=_("Phone number (optional)"),
        regex=r"^\+?[0-9 ()\-]{6,20}$",
        required=False,
        max_length=20,
        error_messages={"invalid": _("Enter a phone number of digits, e.g. 06 12345678.")},
    )
    best_time_to_call = forms.ChoiceField(
        label=_("Best time to call"), choices=CALL_TIMES, required=False
    )
    consent = forms.BooleanField(
        label=_(
            "I agree that my practice passes my details to the stop-smoking coach and that they "
            "exchange information about my support."
        ),
        required=False,
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("answer") == Answer.YES and not cleaned.get("consent"):
            self.add_error(
                "consent",
                _("For support we need your consent; or choose 'no' if you do not want it."),
            )
        return cleaned


class PublicAnswerForm(_AnswerFields):
    code = forms.CharField(
        label=_("Your personal code (on the letter)"),
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    field_order = ["code", "answer", "phone", "best_time_to_call", "consent"]


class PhoneAnswerForm(_AnswerFields):
    pass


class ReferForm(forms.Form):
    consent_data_exchange = forms.BooleanField(
        label=_("The patient consents to data exchange between provider and practice"),
        required=True,
        error_messages={"required": _("The patient's consent for data exchange is required.")},
    )
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    best_time_to_call = forms.ChoiceField(
        label=_("Best time to call"), choices=CALL_TIMES, required=False
    )
    note = forms.CharField(label=_("Note for the coach"), max_length=500, required=False)
