"""FHIR endpoints for insurers: read a Claim, answer it with a ClaimResponse.

The same rules as the REST claims API: only an insurer's claims API key, only its own claims (any
other claim is a 404), every read audited, and answers through ``billing.claims.claim_answer_many``.
Errors are OperationOutcomes (``referrals.fhir.protocol``), never HTML and never a 500.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from audit.models import AuditEvent
from audit.services import audit_record, audit_record_page
from carechain import json_sql
from carechain.api.pagination import MAX_CLAIMS_PAGE_SIZE, StableCursorPagination
from carechain.api.renderers import RawJSON
from carechain.models import Insurer
from referrals.fhir.errors import FhirError, Issue
from referrals.fhir.protocol import fhir_body
from referrals.fhir.views import FhirView

from . import claims, fhir, fhir_search
from .api import examples
from .api.views import ClaimsClientRequired
from .models import Claim

_ANSWER_ELEMENTS = {
    "claim_number": ("not-found", "ClaimResponse.request"),
    "reason_code": ("code-invalid", "ClaimResponse.error[0].code.coding[0].code"),
    "outcome": ("value", "ClaimResponse.outcome"),
}


def _answer_issue(field: str, message: str) -> Issue:
    code, expression = _ANSWER_ELEMENTS.get(field, ("invalid", "ClaimResponse"))
    return Issue(code, message, expression)


_OUTCOME = "An OperationOutcome naming the element that is wrong."


def _outcome(description: str) -> OpenApiResponse:
    return OpenApiResponse(OpenApiTypes.OBJECT, description=description)


class ClaimFhirView(FhirView):
    """In the OpenAPI schema too: the referrals' CapabilityStatement does not list claims."""

    permission_classes = [IsAuthenticated, ClaimsClientRequired]
    schema = AutoSchema()


class ClaimView(ClaimFhirView):
    """GET [base]/Claim/<claim number>."""

    @extend_schema(
        tags=["fhir"],
        operation_id="fhir_claim_read",
        summary="Read a claim as a FHIR R4 Claim",
        description=(
            "The claim as a FHIR R4 Claim (application/fhir+json): the insured by BSN in a "
            "contained Patient, the policy number in a contained Coverage, the insurer by UZOVI, "
            "provider and performer by AGB, one item with the prestatie code, period and amount. "
            "A superseded claim is `cancelled`; its correction names it in `related` (prior)."
        ),
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="A FHIR R4 Claim."),
            401: _outcome("No or an unknown API key."),
            403: _outcome("Not an insurer's claims API key."),
            404: _outcome("No such claim addressed to you."),
        },
        examples=[examples.FHIR_CLAIM, examples.FHIR_NOT_FOUND],
    )
    def get(self, request, number: str):
        actor = self.actor
        claim = claims.claims_for_insurer(actor).filter(claim_number=number).first()
        if claim is None:
            raise FhirError(
                404,
                "not-found",
                _("No claim %(number)s is addressed to your organisation.") % {"number": number},
            )
        audit_record(
            who=actor,
            action=AuditEvent.Action.VIEW,
            patient_id=claim.patient_id,
            obj=claim,
            detail="FHIR Claim",
        )
        return Response(fhir.claim_resource(claim))


class ClaimSearchPagination(StableCursorPagination):
    """FHIR's names for the page size and the page: ``_count`` (1 to 5,000, default 50), ``_cursor``
    (opaque: take the ``next`` link of the Bundle). Oldest first by id, like the REST list."""

    ordering = "id"
    page_size_query_param = "_count"
    max_page_size = MAX_CLAIMS_PAGE_SIZE
    cursor_query_param = "_cursor"

    def get_page_size(self, request):
        """A ``_count`` that is not a whole number of 1 or more is a 400 OperationOutcome, not
        silently the default page; an empty one is no ``_count``; more than the maximum is capped
        (FHIR lets a server return fewer)."""
        raw = [value for value in request.query_params.getlist(self.page_size_query_param) if value]
        if raw and not all(value.isascii() and value.isdigit() and int(value) > 0 for value in raw):
            raise FhirError(
                400, "invalid", _("_count must be a whole number of 1 or more."), "_count"
            )
        return super().get_page_size(request)


class ClaimSearchView(ClaimFhirView):
    """GET [base]/Claim: every claim addressed to the calling insurer, a page at a time."""

    @extend_schema(
        tags=["fhir"],
        operation_id="fhir_claim_search",
        summary="Search your claims as a FHIR R4 searchset Bundle",
        description=(
            "All claims addressed to your organisation, oldest first, as a searchset Bundle of "
            "FHIR R4 Claims (each as `GET [base]/Claim/<claim number>` shows it). Follow the "
            "Bundle's `next` link until there is none. `_count` up to 5,000 (default 50): to "
            "pull everything, take 5,000. The Bundle carries no `total`."
        ),
        parameters=[
            OpenApiParameter(
                "_count",
                {"type": "integer", "minimum": 1},
                description="Claims per page, 1 to 5000 (more is capped); default 50.",
            ),
            OpenApiParameter(
                "_cursor",
                OpenApiTypes.STR,
                pattern=r"^[A-Za-z0-9+/]*={0,2}$",
                description="The page: take it from the Bundle's `next` link.",
            ),
        ],
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="A FHIR R4 searchset Bundle."),
            400: _outcome("A `_count` that is not a whole number of 1 or more."),
            401: _outcome("No or an unknown API key."),
            403: _outcome("Not an insurer's claims API key."),
            404: _outcome("A `_cursor` this server did not make."),
        },
        examples=[examples.FHIR_CLAIM_SEARCH],
    )
    def get(self, request):
        actor = self.actor
        paginator = ClaimSearchPagination()
        base_url = request.build_absolute_uri(reverse("fhir_claims:claim-search")) + "/"
        if json_sql.is_available():
            # Each claim's stored entry (billing.claim_documents) as PostgreSQL sends it, joined
            # into the page's array at once: no FHIR model built and validated per claim, no
            # entry decoded or parsed in Python. Each row brings its patient (for the audit row)
            # from the trajectory's foreign key, in the same query.
            page = paginator.paginate_json(
                claims.claims_for_insurer(actor),
                request,
                view=self,
                document=fhir_search.claim_entry_json(base_url=base_url),
                fields=("patient_id",),
            )
            patient_ids, claim_ids = page.columns["patient_id"], page.columns["id"]
            entries = page.documents
        else:
            found = claims.claims_for_insurer(actor)
            page = paginator.paginate_queryset(found, request, view=self)
            patient_ids, claim_ids = [c.patient_id for c in page], [c.pk for c in page]
            entries = RawJSON.array(
                fhir.claim_search_entry(claim, base_url=base_url) for claim in page
            )
        audit_record_page(
            who=actor,
            action=AuditEvent.Action.LIST,
            model=Claim,
            patient_ids=patient_ids,
            object_ids=claim_ids,
            detail="FHIR Claim search",
        )
        return Response(
            fhir_search.claim_search_bundle(
                entries, self_url=request.build_absolute_uri(), next_url=paginator.get_next_link()
            )
        )


class ClaimResponseView(ClaimFhirView):
    """POST [base]/ClaimResponse: 201 when the answer was applied, 200 when it had been already."""

    @extend_schema(
        tags=["fhir"],
        operation_id="fhir_claim_response_create",
        summary="Answer a claim with a FHIR R4 ClaimResponse",
        description=(
            "`request` names the claim (`Claim/<claim number>`); outcome `complete` accepts it, "
            "outcome `error` rejects it with the first `error.code` from the rejection reasons "
            "(system https://smr-ketenzorg.nl/fhir/CodeSystem/rejection-reason). Applied by the "
            "same rules as `POST /api/claims/answers/`: 201 when applied, 200 when this answer "
            "had been given already, 409 when the claim was answered differently or superseded."
        ),
        request=OpenApiTypes.OBJECT,
        responses={
            201: OpenApiResponse(OpenApiTypes.OBJECT, description="The answer, as stored."),
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="This answer was given before."),
            400: _outcome("Not JSON, or not a ClaimResponse."),
            401: _outcome("No or an unknown API key."),
            403: _outcome("Not an insurer's claims API key."),
            404: _outcome("A `format` that names no media type this endpoint answers in."),
            409: _outcome("The claim was answered differently or is superseded."),
            415: _outcome("Send application/fhir+json."),
            422: _outcome(_OUTCOME),
        },
        examples=[
            examples.FHIR_CLAIM_RESPONSE_REQUEST,
            examples.FHIR_CLAIM_RESPONSE_ACCEPT,
            examples.FHIR_CLAIM_RESPONSE_STORED,
            examples.FHIR_CONFLICT,
            examples.FHIR_UNPROCESSABLE,
        ],
    )
    def post(self, request):
        actor = self.actor
        response = fhir.load_claim_response(fhir_body(request))
        answer = fhir.answer_from(response)
        uzovi = fhir.insurer_uzovi(response)
        if (
            uzovi is not None
            and not Insurer.objects.filter(pk__in=claims.insurer_ids(actor), uzovi=uzovi).exists()
        ):
            raise FhirError(
                422,
                "invalid",
                _("The insurer %(uzovi)s is not the organisation of your API key.")
                % {"uzovi": uzovi},
                "ClaimResponse.insurer.identifier",
            )
        try:
            [result] = claims.claim_answer_many(actor=actor, answers=[answer])
        except claims.ClaimAnswersInvalid as exc:
            raise FhirError.of(
                422,
                [
                    _answer_issue(field, message)
                    for fields in exc.item_errors.values()
                    for field, messages in fields.items()
                    for message in messages
                ],
            ) from None
        except claims.ClaimConflict as exc:
            raise FhirError(
                409, "conflict", " ".join(exc.messages), "ClaimResponse.request"
            ) from None
        return Response(
            fhir.claim_response_resource(result.claim), status=201 if result.changed else 200
        )
