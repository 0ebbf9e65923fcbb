"""Query-string filters of the referral list."""

import django_filters
from django.utils.translation import gettext_lazy as _

from carechain.api.filters import StrictBooleanFilter, UtcIsoDateTimeFilter
from carechain.validators import normalise_bsn

from ..models import Channel, Referral, ReferralState


class ReferralFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(
        choices=ReferralState.choices, help_text=_("One or more states (repeat the parameter).")
    )
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    is_ketenzorg = StrictBooleanFilter()
    received_after = UtcIsoDateTimeFilter(
        field_name="received_at",
        lookup_expr="gte",
        help_text=_("Received at or after this moment (ISO 8601; a date means its midnight)."),
    )
    received_before = UtcIsoDateTimeFilter(
        field_name="received_at",
        lookup_expr="lt",
        help_text=_("Received before this moment (ISO 8601; a date means its midnight)."),
    )
    modified_after = UtcIsoDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gt",
        help_text=_(
            "Changed after this moment (ISO 8601): what changed since your last poll. Send the "
            "largest `modified` you saw; status changes and new feedback both count as a change."
        ),
    )
    patient_bsn = django_filters.CharFilter(
        method="filter_patient_bsn", help_text=_("The patient's BSN.")
    )

    class Meta:
        model = Referral
        fields = ["state", "channel", "is_ketenzorg"]

    def filter_patient_bsn(self, queryset, name, value):
        return queryset.filter(patient__bsn=normalise_bsn(value))
