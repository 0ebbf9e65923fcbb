"""Query-string filters of the claim list."""

import django_filters
from django.utils.translation import gettext_lazy as _

from carechain.api.filters import UtcIsoDateTimeFilter

from ..models import Claim


class ClaimFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=Claim.Status.choices, help_text=_("One or more statuses (repeat the parameter).")
    )
    changed_since = UtcIsoDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        help_text=_(
            "Changed at or after this moment (ISO 8601, e.g. 2026-05-01T00:00:00+02:00; without "
            "an offset: Amsterdam time). Pass the moment your previous pull started, so a claim "
            "changed while you were paging is picked up by the next pull."
        ),
    )

    class Meta:
        model = Claim
        fields = ["status"]
