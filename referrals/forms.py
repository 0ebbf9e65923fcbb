from django import forms
from django.utils.translation import gettext_lazy as _

from carechain.forms import DateInput
from carechain.models import KetenzorgEnrolment, Patient
from carechain.validators import normalise_bsn, validate_bsn

from .models import ContactAttempt, DeclineReason, Motivation, Referral


class BsnLookupForm(forms.Form):
    bsn = forms.CharField(label=_("BSN of the patient"), max_length=20)

    def clean_bsn(self):
        value = normalise_bsn(self.cleaned_data["bsn"])
        validate_bsn(value)
        return value


class NewPatientForm(forms.ModelForm):
    """The patient's details, asked only when the BSN is not yet known in the practice."""

    class Meta:
        model = Patient
        fields = [
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
        ]
        widgets = {"birth_date": DateInput()}

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("phone") and not cleaned.get("email"):
            raise forms.ValidationError(
                _("Give a phone number or e-mail address so the coach can reach the patient.")
            )
        return cleaned


class ReferralForm(forms.ModelForm):
    consent_data_exchange = forms.BooleanField(
        label=_("The patient consents to data exchange between provider and practice"),
        required=True,
        error_messages={"required": _("The patient's consent for data exchange is required.")},
    )
    ketenzorg_programme = forms.ChoiceField(
        label=_("Ketenzorg programme"),
        required=False,
        choices=[("", _("none (regular patient)")), *KetenzorgEnrolment.Programme.choices],
    )

    class Meta:
        model = Referral
        fields = [
            "reason",
            "cigarettes_per_day",
            "years_smoked",
            "earlier_quit_attempts",
            "motivation",
            "ketenzorg_programme",
            "best_time_to_call",
            "call_note",
            "consent_data_exchange",
        ]
        widgets = {"reason": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["motivation"].required = True
        self.fields["motivation"].choices = [("", "—"), *Motivation.choices]
        self.fields["cigarettes_per_day"].required = True
        self.fields["reason"].required = True


class AssignForm(forms.Form):
    coach = forms.ChoiceField(label=_("Coach"))

    def __init__(self, *args, coaches=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["coach"].choices = [(c.pk, str(c)) for c in coaches]


class DeclineForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=DeclineReason.choices)
    note = forms.CharField(label=_("Explanation"), max_length=500, required=False)


class ContactAttemptForm(forms.ModelForm):
    class Meta:
        model = ContactAttempt
        fields = ["method", "result", "note"]


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class CancellationForm(forms.Form):
    reason = forms.CharField(label=_("Reason for cancelling"), max_length=500)
