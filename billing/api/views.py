"""The claims API: insurers pull their claims and answer them; the provider's planner corrects one.

Insurers authenticate with their organisation's claims API key (session users, whatever their role,
and referral-intake keys get a 403); a claim addressed to another insurer is a 404. Every pull is
in the audit log. Answers and corrections call ``billing.claims``, as the FHIR endpoints do.
"""

from functools import cached_property

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.response import Response

from audit.models import AuditEvent
from audit.services import audit_record, audit_record_page
from carechain import json_sql
from carechain.access import Actor
from carechain.api.pagination import MAX_CLAIMS_PAGE_SIZE, StableCursorPagination
from carechain.api.renderers import RawJSONRenderer
from carechain.api.serializers import ErrorOutput
from carechain.models import Role

from .. import claims
from ..models import Claim
from . import examples
from .documents import claim_output_json
from .filters import ClaimFilter
from .serializers import (
    ClaimAnswersInput,
    ClaimAnswersOutput,
    ClaimConflictOutput,
    ClaimOutput,
    ClaimResubmitInput,
)


class ClaimsClientRequired(BasePermission):
    """An insurer's claims API key; nobody else reads or answers claims."""

    message = _("Only an insurer's claims API key may read and answer claims.")

    def has_permission(self, request, view) -> bool:
        return claims.is_claims_client(Actor.from_request(request))


class ProviderPlannerRequired(BasePermission):
    message = _("Only a planner of the SMR provider may correct and resubmit a claim.")

    def has_permission(self, request, view) -> bool:
        return Actor.from_request(request).has_role(Role.PLANNER)


class ClaimCursorPagination(StableCursorPagination):
    """Oldest first by id, so an insurer pages forward through everything; up to 5,000 a page.

    Big pages are for pulling everything: a page costs a request, its audit rows and a commit
    whatever its size, so an insurer pulling a year takes the biggest (docs/explain/claims_pull.md).
    """

    ordering = "id"
    max_page_size = MAX_CLAIMS_PAGE_SIZE
    page_size_query_description = _(
        "Number of results per page, 1 to 5000 (more is capped at 5000); default 50."
    )


def conflict_response(exc: claims.ClaimConflict) -> Response:
    return Response(
        {"detail": " ".join(exc.messages), "claim_numbers": exc.claim_numbers},
        status=status.HTTP_409_CONFLICT,
    )


_BAD_INPUT = OpenApiResponse(
    OpenApiTypes.OBJECT, description="Field errors: `{field: [message, ...]}`; nothing was saved."
)
_DENIED = OpenApiResponse(
    ErrorOutput, description="Not an insurer's claims API key (or, for corrections, a planner)."
)
_NOT_FOUND = OpenApiResponse(ErrorOutput, description="No such claim addressed to you.")


class ClaimViewSet(viewsets.GenericViewSet):
    """Claims addressed to the calling insurer."""

    queryset = Claim.objects.none()  # names the model for the schema; get_queryset scopes
    permission_classes = [IsAuthenticated, ClaimsClientRequired]
    serializer_class = ClaimOutput
    filterset_class = ClaimFilter
    pagination_class = ClaimCursorPagination
    renderer_classes = [RawJSONRenderer, BrowsableAPIRenderer]
    lookup_field = "claim_number"
    lookup_value_regex = r"[^/]+"

    @cached_property
    def actor(self) -> Actor:
        return Actor.from_request(self.request)

    def get_queryset(self):
        return claims.claims_for_insurer(self.actor)

    @extend_schema(
        summary="List your claims",
        description=(
            "Claims addressed to your organisation, oldest first, with a cursor: follow `next` "
            "until it is null. Pull only what changed with `changed_since` (answers, corrections: "
            "a rejected claim that the provider corrected turns `superseded` and its corrected "
            "version appears with `replaces` naming it). `page_size` up to 5,000 (default 50): "
            "to pull everything, take 5,000."
        ),
        responses={200: ClaimOutput(many=True), 400: _BAD_INPUT, 403: _DENIED},
        examples=[examples.LIST_RESPONSE],
    )
    def list(self, request):
        if json_sql.is_available():
            # Each claim's stored document (billing.claim_documents) as PostgreSQL sends it,
            # joined into the page's array at once: no model instance or serializer per claim,
            # no document decoded or parsed in Python. Each row brings its patient (for the
            # audit row) from the trajectory's foreign key, in the same query.
            page = self.paginator.paginate_json(
                self.filter_queryset(claims.claims_for_insurer(self.actor)),
                request,
                view=self,
                document=claim_output_json(),
                fields=("patient_id",),
            )
            patient_ids, claim_ids = page.columns["patient_id"], page.columns["id"]
            results = page.documents
        else:
            page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
            patient_ids, claim_ids = [c.patient_id for c in page], [c.pk for c in page]
            results = ClaimOutput(page, many=True).data
        audit_record_page(
            who=self.actor,
            action=AuditEvent.Action.LIST,
            model=Claim,
            patient_ids=patient_ids,
            object_ids=claim_ids,
            detail="api claim list",
        )
        return self.get_paginated_response(results)

    @extend_schema(
        summary="Show a claim",
        responses={200: ClaimOutput, 403: _DENIED, 404: _NOT_FOUND},
        examples=[examples.DETAIL_RESPONSE, examples.REJECTED_RESPONSE],
    )
    def retrieve(self, request, claim_number=None):
        claim = get_object_or_404(self.get_queryset(), claim_number=claim_number)
        audit_record(
            who=self.actor,
            action=AuditEvent.Action.VIEW,
            patient_id=claim.patient_id,
            obj=claim,
            detail="api claim",
        )
        return Response(ClaimOutput(claim).data)

    @extend_schema(
        summary="Answer claims",
        description=(
            f"Accept or reject up to {claims.MAX_ANSWERS} claims at once: all answers are "
            "applied, or none. Sending the same answers again is harmless (200, `changed` false). "
            "A different answer to a claim you already answered, or an answer to a superseded "
            "claim, is a 409 naming the claims. A rejection needs a `reason_code` from the "
            "agreed rejection reasons."
        ),
        request=ClaimAnswersInput,
        responses={
            200: ClaimAnswersOutput,
            400: _BAD_INPUT,
            403: _DENIED,
            409: OpenApiResponse(
                ClaimConflictOutput, description="Conflicting answers; nothing was saved."
            ),
        },
        examples=[
            examples.ANSWERS_REQUEST,
            examples.ANSWERS_RESPONSE,
            examples.ANSWERS_BAD_REQUEST,
            examples.ANSWERS_CONFLICT,
        ],
    )
    @action(detail=False, methods=["post"], url_path="answers")
    def answers(self, request):
        payload = ClaimAnswersInput(data=request.data)
        payload.is_valid(raise_exception=True)
        answers = [claims.ClaimAnswer(**item) for item in payload.validated_data["answers"]]
        try:
            results = claims.claim_answer_many(actor=self.actor, answers=answers)
        except claims.ClaimAnswersInvalid as exc:
            raise ValidationError(
                {"answers": [exc.item_errors.get(i, {}) for i in range(len(answers))]}
            ) from None
        except claims.ClaimConflict as exc:
            return conflict_response(exc)
        return Response(
            ClaimAnswersOutput(
                {
                    "results": [
                        {
                            "claim_number": r.claim.claim_number,
                            "status": r.claim.status,
                            "rejection_code": r.claim.rejection_code,
                            "rejection_text": r.claim.rejection_text,
                            "answered_at": r.claim.answered_at,
                            "changed": r.changed,
                        }
                        for r in results
                    ]
                }
            ).data
        )

    @extend_schema(
        summary="Correct and resubmit a rejected claim",
        description=(
            "For planners of the SMR provider (browser session). Makes version + 1 with a new "
            "claim number and the corrected fields; the rejected version becomes superseded."
        ),
        request=ClaimResubmitInput,
        responses={
            201: OpenApiResponse(ClaimOutput, description="The corrected, submitted version."),
            400: _BAD_INPUT,
            403: _DENIED,
            404: OpenApiResponse(ErrorOutput, description="No such claim of your provider."),
            409: OpenApiResponse(ClaimConflictOutput, description="The claim is not rejected."),
        },
        examples=[
            examples.RESUBMIT_REQUEST,
            examples.RESUBMIT_RESPONSE,
            examples.RESUBMIT_CONFLICT,
        ],
    )
    @action(
        detail=True,
        methods=["post"],
        permission_classes=[IsAuthenticated, ProviderPlannerRequired],
    )
    def resubmit(self, request, claim_number=None):
        claim = get_object_or_404(claims.claims_for_provider(self.actor), claim_number=claim_number)
        payload = ClaimResubmitInput(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            new = claims.claim_resubmit(
                actor=self.actor, claim_id=claim.pk, **payload.validated_data
            )
        except claims.ClaimConflict as exc:
            return conflict_response(exc)
        return Response(
            ClaimOutput(claims.claims_for_provider(self.actor).get(pk=new.pk)).data,
            status=status.HTTP_201_CREATED,
        )
