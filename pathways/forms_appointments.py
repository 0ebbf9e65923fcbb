"""Forms of the appointment pages. They parse and type the input; the rules stay in the services."""

from __future__ import annotations

import datetime

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from carechain.forms import DateInput

from . import appointments
from .models import Appointment, ContactKind

# Years typed wrongly (2062 for 2026) are caught here; the service knows no upper bound.
MAX_DAYS_AHEAD = 730


def _limits(model_field) -> dict:
    """The model's own bounds as min/max of the form field, so the browser knows them too."""
    lows = [v.limit_value for v in model_field.validators if isinstance(v, MinValueValidator)]
    highs = [v.limit_value for v in model_field.validators if isinstance(v, MaxValueValidator)]
    return {"min_value": max(lows), "max_value": min(highs)}


# Most appointments are one-to-one in a room; the form offers them first.
KIND_ORDER = [ContactKind.LOCATION, ContactKind.PHONE, ContactKind.VIDEO, ContactKind.INTAKE]


def _kind_order(choice) -> int:
    return KIND_ORDER.index(choice[0]) if choice[0] in KIND_ORDER else len(KIND_ORDER)


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", **kwargs)


class CoachChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.username


class AppointmentForm(forms.Form):
    # The service names the moment "starts_at"; the form asks it as a date and a time.
    SERVICE_FIELDS = {"starts_at": "date", NON_FIELD_ERRORS: None}

    kind = Appointment._meta.get_field("kind").formfield()
    date = forms.DateField(label=_("Date"), widget=DateInput())
    start_time = forms.TimeField(label=_("Start time"), widget=TimeInput())
    duration_minutes = Appointment._meta.get_field("duration_minutes").formfield(
        **_limits(Appointment._meta.get_field("duration_minutes"))
    )
    coach = CoachChoiceField(label=_("Coach"), queryset=None, empty_label=None)
    location = forms.ModelChoiceField(
        label=_("Room"),
        queryset=None,
        required=False,
        empty_label=_("none (by phone or video)"),
        help_text=_("Rooms practices lend to your provider; needed for a contact on location."),
    )
    send_confirmation = forms.BooleanField(
        label=_("Send the patient a confirmation by e-mail"), required=False
    )

    def __init__(self, *args, trajectory, actor, **kwargs):
        kwargs.setdefault("initial", self._initial(trajectory, actor))
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", "—"), *sorted(ContactKind.choices, key=_kind_order)]
        self.fields["coach"].queryset = appointments.provider_coaches(trajectory.provider_id)
        self.fields["location"].queryset = appointments.provider_rooms(trajectory.provider_id)
        if not trajectory.patient.email:
            self.fields["send_confirmation"].help_text = _(
                "The patient has no e-mail address; no confirmation can be sent."
            )

    @staticmethod
    def _initial(trajectory, actor) -> dict:
        coach_ids = set(
            appointments.provider_coaches(trajectory.provider_id).values_list("pk", flat=True)
        )
        coach_id = trajectory.coach_id if trajectory.coach_id in coach_ids else None
        if coach_id is None and actor.user is not None and actor.user.pk in coach_ids:
            coach_id = actor.user.pk
        return {
            "kind": "location",
            "duration_minutes": 30,
            "coach": coach_id,
            "send_confirmation": bool(trajectory.patient.email),
        }

    def clean_date(self):
        day = self.cleaned_data["date"]
        if day > appointments.today() + datetime.timedelta(days=MAX_DAYS_AHEAD):
            raise ValidationError(
                _("Plan at most two years ahead; check the year."), code="too_far_ahead"
            )
        return day

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("date") and cleaned.get("start_time") is not None:
            cleaned["starts_at"] = appointments.starts_at_for(
                cleaned["date"], cleaned["start_time"]
            )
        return cleaned

    def add_service_errors(self, exc: ValidationError) -> None:
        """Show a service's ValidationError on the field it names, else above the form."""
        if not hasattr(exc, "error_dict"):
            for message in exc.messages:
                self.add_error(None, message)
            return
        for key, messages in exc.message_dict.items():
            field = self.SERVICE_FIELDS.get(key, key)
            if field not in self.fields:
                field = None
            for message in messages:
                self.add_error(field, message)


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional)"),
        required=False,
        max_length=200,
        help_text=_("Kept in the trajectory's history; not sent to the patient."),
    )


class DayForm(forms.Form):
    """The 'go to date' box of the day pages."""

    day = forms.DateField(label=_("Go to date"), widget=DateInput())

    def clean_day(self):
        day = self.cleaned_data["day"]
        if not appointments.FIRST_DAY <= day <= appointments.LAST_DAY:
            raise ValidationError(_("Choose a date between 2000 and 2100."), code="out_of_range")
        return day
