"""Forms of the relapse-prevention group pages. They parse input; the rules live in groups.py."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Attendance, GroupMeeting, RelapsePreventionGroup

MEETINGS = RelapsePreventionGroup.MEETINGS_PER_YEAR


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class GroupForm(forms.Form):
    """The room, year and optional name of a new group (only the name on editing)."""

    location = forms.ModelChoiceField(label=_("Location"), queryset=None, empty_label="—")
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        required=False,
        help_text=_("Optional, e.g. 'Terugvalpreventie Almere-Haven'."),
    )
    is_zorggroep_shared = forms.BooleanField(
        label=_("Shared group of the zorggroep"),
        required=False,
        help_text=_(
            "Quitters of other practices join too; you see them by name only when they consented."
        ),
    )

    def __init__(self, *args, locations=None, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["location"]
            del self.fields["year"]
            del self.fields["is_zorggroep_shared"]
        else:
            self.fields["location"].queryset = locations


class MeetingForm(forms.Form):
    starts_at = forms.DateTimeField(
        label=_("Date and time"),
        widget=DateTimeLocalInput(),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d-%m-%Y %H:%M"],
    )
    theme = forms.CharField(label=_("Theme"), max_length=200)
    facilitator = forms.ModelChoiceField(
        label=_("Facilitating POH-GGZ"), queryset=None, empty_label="—"
    )

    def __init__(self, *args, facilitators=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facilitator"].queryset = facilitators


class BaseMeetingFormSet(forms.BaseFormSet):
    def __init__(self, *args, facilitators=None, **kwargs):
        self.facilitators = facilitators
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {"facilitators": self.facilitators}

    def meetings(self):
        """The cleaned rows as groups.group_create/group_update take them."""
        return [
            (f.cleaned_data["starts_at"], f.cleaned_data["theme"], f.cleaned_data["facilitator"])
            for f in self.forms
        ]


MeetingFormSet = forms.formset_factory(
    MeetingForm,
    formset=BaseMeetingFormSet,
    extra=0,
    min_num=MEETINGS,
    max_num=MEETINGS,
    absolute_max=MEETINGS,
    validate_min=True,
    validate_max=True,
)


def meeting_formset(data=None, *, facilitators, initial=None) -> BaseMeetingFormSet:
    return MeetingFormSet(data, prefix="meetings", facilitators=facilitators, initial=initial)


class JoinForm(forms.Form):
    """Which quitter joins, at which meeting; the choices are those eligible at this moment."""

    trajectory = forms.TypedChoiceField(label=_("Patient"), coerce=int)
    meeting = forms.TypedChoiceField(label=_("Joins at meeting"), coerce=int)

    def __init__(self, *args, trajectories=(), meetings=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["trajectory"].choices = [("", "—")] + [
            (t.pk, _trajectory_label(t)) for t in trajectories
        ]
        self.fields["meeting"].choices = [("", "—")] + [(m.pk, _meeting_label(m)) for m in meetings]


def _trajectory_label(trajectory) -> str:
    patient = trajectory.patient
    return _("%(name)s (born %(birth)s) · quit on %(quit)s · coach %(coach)s") % {
        "name": patient.full_name,
        "birth": patient.birth_date.strftime("%d-%m-%Y"),
        "quit": trajectory.quit_date.strftime("%d-%m-%Y"),
        "coach": trajectory.coach or "–",
    }


def _meeting_label(meeting: GroupMeeting) -> str:
    return f"{meeting.number}. {timezone.localtime(meeting.starts_at):%d-%m-%Y %H:%M} · {meeting.theme}"


class AttendanceForm(forms.Form):
    """One choice per participant expected at the meeting; an empty choice changes nothing."""

    def __init__(self, *args, expected=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.participants = {}
        for participant, attendance in expected:
            name = f"participant-{participant.pk}"
            self.fields[name] = forms.ChoiceField(
                label=participant.trajectory.patient.full_name,
                choices=[("", _("not recorded"))] + list(Attendance.Status.choices),
                required=False,
                initial=attendance.status if attendance else "",
            )
            self.participants[name] = participant

    def changes(self):
        """(field name, participant, status) for every choice that differs from what is recorded."""
        return [
            (name, participant, self.cleaned_data[name])
            for name, participant in self.participants.items()
            if self.cleaned_data.get(name) and self.cleaned_data[name] != self.fields[name].initial
        ]


class LeaveForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for leaving"),
        max_length=200,
        help_text=_("e.g. 'smokes again' or 'no longer wishes to attend'."),
    )
