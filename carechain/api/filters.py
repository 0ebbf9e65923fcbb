"""Query-string filter pieces every API room shares."""

import datetime

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 moment, handed to the database in UTC.

    Python accepts UTC offsets up to ±23:59, PostgreSQL only up to ±15:59: a moment like
    ``2026-05-01T00:00:00+23:00`` would reach the query as it was written and fail there (500).
    In UTC every offset is fine; a moment that has no UTC equivalent (year 1 at +01:00) is a 400.
    """

    default_error_messages = {
        "out_of_range": _("This moment lies outside the range of dates this server can handle.")
    }

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None or moment.tzinfo is None:
            return moment
        try:
            return moment.astimezone(datetime.UTC)
        except OverflowError:
            raise forms.ValidationError(
                self.error_messages["out_of_range"], code="out_of_range"
            ) from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class StrictNullBooleanField(forms.NullBooleanField):
    """true/false (also True/False, 1/0); empty is "not given"; anything else is a 400.

    Django's NullBooleanField (behind django-filter's BooleanFilter) reads every value it does not
    know, ``is_ketenzorg=ja`` or ``=1`` included, as "not given": the client's typo then returns the
    whole unfiltered list as if it were the answer.
    """

    widget = forms.TextInput  # hands over the raw value (NullBooleanSelect maps unknowns to None)
    default_error_messages = {"invalid": _("Give true or false.")}
    _VALUES = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value):
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        try:
            return self._VALUES[str(value).strip().lower()]
        except KeyError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictNullBooleanField
