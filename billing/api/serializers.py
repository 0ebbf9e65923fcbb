"""Serializers of the claims API: one per use, input and output kept apart.

Output is an explicit list of ``Claim`` fields and nothing else: the trajectory, referral and every
clinical, motivation or POH-GGZ detail stay out of the insurer's view by construction.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from carechain.api.serializers import AgbCodeField, StrictCharField

from ..claims import MAX_ANSWERS, Outcome
from ..models import Claim


@extend_schema_field(
    serializers.ChoiceField(choices=Claim.Status.choices), component_name="ClaimStatusEnum"
)
class ClaimStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(Claim.Status.choices, **kwargs)


@extend_schema_field(
    serializers.ChoiceField(choices=Outcome.choices), component_name="ClaimOutcomeEnum"
)
class ClaimOutcomeField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(Outcome.choices, **kwargs)


# -- output ---------------------------------------------------------------------------------------


class ClaimOutput(serializers.ModelSerializer):
    """A claim as the insurer receives it (a declaratie for one prestatie)."""

    status = ClaimStatusField(read_only=True)
    replaces = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text=_("The claim number of the rejected version this one corrects, if any."),
    )
    replaced_by = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text=_("The claim number of the corrected version that supersedes this one, if any."),
    )

    class Meta:
        model = Claim
        fields = [
            "claim_number",
            "version",
            "status",
            "bsn",
            "patient_name",
            "birth_date",
            "uzovi",
            "policy_number",
            "provider_agb",
            "performer_agb",
            "prestatie_code",
            "start_date",
            "end_date",
            "amount",
            "rejection_code",
            "rejection_text",
            "answered_at",
            "created_at",
            "updated_at",
            "replaces",
            "replaced_by",
        ]
        read_only_fields = fields


class ClaimAnswerResultOutput(serializers.Serializer):
    claim_number = serializers.CharField()
    status = ClaimStatusField()
    rejection_code = serializers.CharField()
    rejection_text = serializers.CharField()
    answered_at = serializers.DateTimeField(allow_null=True)
    changed = serializers.BooleanField(
        help_text=_("False when this answer had already been given (a repeated request).")
    )


class ClaimAnswersOutput(serializers.Serializer):
    results = ClaimAnswerResultOutput(many=True)


class ClaimConflictOutput(serializers.Serializer):
    """The body of a 409: which claims stand in the way; nothing was saved."""

    detail = serializers.CharField()
    claim_numbers = serializers.ListField(child=serializers.CharField())


# -- input ----------------------------------------------------------------------------------------


class ClaimAnswerInput(serializers.Serializer):
    claim_number = StrictCharField(max_length=30)
    outcome = ClaimOutcomeField()
    reason_code = StrictCharField(
        max_length=10,
        allow_blank=True,
        default="",
        help_text=_("Required when rejected: a code from the rejection reasons (Vektis-style)."),
    )
    reason_text = StrictCharField(
        max_length=500,
        allow_blank=True,
        default="",
        help_text=_("Explanation for the provider; default: the description of the reason code."),
    )


class ClaimAnswersInput(serializers.Serializer):
    answers = ClaimAnswerInput(many=True, min_length=1, max_length=MAX_ANSWERS)


class ClaimResubmitInput(serializers.Serializer):
    """The corrected fields; what is left out is copied from the rejected version."""

    amount = serializers.DecimalField(
        max_digits=9, decimal_places=2, min_value=0, required=False, coerce_to_string=True
    )
    policy_number = StrictCharField(max_length=30, required=False)
    bsn = StrictCharField(max_length=20, required=False)
    patient_name = StrictCharField(max_length=200, required=False)
    birth_date = serializers.DateField(required=False)
    performer_agb = AgbCodeField(required=False)
    start_date = serializers.DateField(required=False)
    end_date = serializers.DateField(required=False)
