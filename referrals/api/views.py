"""The referral API: the list, the detail, a new referral, and the referral's status actions.

Every write calls the one function in ``referrals.services`` that the browser and FHIR call too.
Access: 404 for a referral the caller may not see, 403 for an action on the other side's part of
the referral (the referrer accepting, the coach cancelling), 409 for an action the referral's
state does not allow.
"""

from functools import cached_property

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response

from audit.models import AuditEvent
from audit.services import Touch, audit_record, audit_record_many
from carechain.access import FEEDBACK, INTAKE, Actor, practices_for_referring
from carechain.api.exceptions import Conflict
from carechain.api.pagination import KeysetCursorPagination
from carechain.api.serializers import UUID_PATTERN, ErrorOutput
from carechain.models import PRACTICE_ROLES

from .. import services
from ..access import PROVIDER_CARE_ROLES, is_provider_staff, is_referrer, referrals_for
from ..models import Channel, ContactAttempt, Referral, ReferralDocument
from . import examples
from .filters import ReferralFilter
from .serializers import (
    ContactAttemptInput,
    ContactAttemptOutput,
    ReferralAssignInput,
    ReferralCancellationInput,
    ReferralCreateInput,
    ReferralDeclineInput,
    ReferralDetailOutput,
    ReferralListOutput,
    ReferralNoteInput,
)

# Referrers (practice roles, referral-intake keys) and the provider's coaches and planners.
# Insurers and zorggroep admins see billing, never clinical referrals.
REFERRAL_ROLES = (*PRACTICE_ROLES, *PROVIDER_CARE_ROLES, INTAKE)
PROVIDER, REFERRER = "provider", "referrer"


class CanHandleReferrals(BasePermission):
    """A feedback key (the referrer's KIS or HIS) reads its referrals; it refers nothing."""

    def has_permission(self, request, view):
        actor = Actor.from_request(request)
        if request.method in SAFE_METHODS and actor.has_role(FEEDBACK):
            return True
        return actor.has_role(*REFERRAL_ROLES)


def _with_list_relations(referrals):
    return referrals.select_related("patient", "practice", "provider", "coach")


def _with_detail_relations(referrals):
    return _with_list_relations(referrals).prefetch_related(
        "events",
        Prefetch("contact_attempts", queryset=ContactAttempt.objects.select_related("by")),
        Prefetch(
            "documents",
            queryset=ReferralDocument.objects.only(
                "id", "referral_id", "kind", "title", "received_at"
            ),
        ),
    )


_BAD_INPUT = OpenApiResponse(
    OpenApiTypes.OBJECT, description="Field errors: `{field: [message, ...]}`; nothing was saved."
)
_DENIED = OpenApiResponse(
    ErrorOutput, description="Your role or organisation may not do this (or see referrals at all)."
)
_NOT_FOUND = OpenApiResponse(ErrorOutput, description="No such referral within your scope.")
_CONFLICT = OpenApiResponse(
    ErrorOutput, description="The referral's current state does not allow this action."
)
_DETAIL = OpenApiResponse(ReferralDetailOutput, description="The referral after the action.")
_ACTION_RESPONSES = {200: _DETAIL, 400: _BAD_INPUT, 403: _DENIED, 404: _NOT_FOUND, 409: _CONFLICT}


_PROVIDER_ONLY = "For coaches and planners of the referral's SMR provider."


def _provider_action(summary: str, request=ReferralNoteInput, description=_PROVIDER_ONLY, **extra):
    return extend_schema(
        summary=summary,
        description=description,
        request=request,
        responses=_ACTION_RESPONSES,
        **extra,
    )


class ReferralPagination(KeysetCursorPagination):
    """Newest first by arrival; the cursor holds a received_at and a public id, no database id."""

    ordering = ("-received_at", "-public_id")


class ReferralViewSet(viewsets.GenericViewSet):
    """Referrals the caller may see: its practice's, its zorggroep's, or its provider's."""

    queryset = Referral.objects.none()  # names the model for the schema; get_queryset scopes
    permission_classes = [CanHandleReferrals]
    filterset_class = ReferralFilter
    pagination_class = ReferralPagination
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    lookup_value_regex = UUID_PATTERN

    @cached_property
    def actor(self) -> Actor:
        return Actor.from_request(self.request)

    def get_queryset(self):
        referrals = referrals_for(self.actor)
        if self.action == "list":
            return _with_list_relations(referrals)
        return _with_detail_relations(referrals)

    def _detail(self, pk, *, status_code=status.HTTP_200_OK) -> Response:
        referral = _with_detail_relations(referrals_for(self.actor)).get(pk=pk)
        return Response(ReferralDetailOutput(referral).data, status=status_code)

    # -- reads ------------------------------------------------------------------------------------
    @extend_schema(
        summary="List referrals",
        responses={200: ReferralListOutput(many=True), 403: _DENIED},
        examples=[examples.LIST_RESPONSE],
    )
    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        audit_record_many(
            who=self.actor,
            action=AuditEvent.Action.LIST,
            touches=[
                Touch(referral.patient_id, referral, "api referral list") for referral in page
            ],
        )
        return self.get_paginated_response(ReferralListOutput(page, many=True).data)

    @extend_schema(
        summary="Show a referral",
        description="With the patient, the history, contact attempts and document metadata.",
        responses={200: ReferralDetailOutput, 403: _DENIED, 404: _NOT_FOUND},
        examples=[examples.DETAIL_RESPONSE],
    )
    def retrieve(self, request, **kwargs):
        referral = self.get_object()
        audit_record(
            who=self.actor,
            action=AuditEvent.Action.VIEW,
            patient_id=referral.patient_id,
            obj=referral,
        )
        return Response(ReferralDetailOutput(referral).data)

    # -- a new referral ---------------------------------------------------------------------------
    @extend_schema(
        summary="Refer a patient",
        description=(
            "For the practice's GP, POH-S and POH-GGZ, and referral-intake API keys of a practice "
            "(its own referrals) or a zorggroep (its practices). The patient is found by BSN or "
            "registered with the referring practice. Sending an `external_id` again answers 200 "
            "with the referral made the first time."
        ),
        request=ReferralCreateInput,
        responses={
            201: OpenApiResponse(ReferralDetailOutput, description="The referral was made."),
            200: OpenApiResponse(
                ReferralDetailOutput, description="This external_id was sent before: that referral."
            ),
            400: _BAD_INPUT,
            403: _DENIED,
            409: OpenApiResponse(
                ErrorOutput, description="The external_id belongs to a referral you cannot see."
            ),
        },
        examples=[examples.CREATE_REQUEST, examples.CREATED_RESPONSE],
    )
    def create(self, request):
        payload = ReferralCreateInput(data=request.data)
        payload.is_valid(raise_exception=True)
        fields = payload.validated_data
        practice = fields["practice"]
        if not practices_for_referring(self.actor).filter(pk=practice.pk).exists():
            raise PermissionDenied(_("You may not refer for this GP practice."))
        provider = fields["provider"] or services.default_provider(practice)
        if provider is None:
            raise ValidationError(
                {
                    "provider_agb": [
                        _(
                            "The zorggroep of this practice has no contracted SMR provider; "
                            "give provider_agb."
                        )
                    ]
                }
            )
        patient = dict(fields["patient"])
        programme = fields.get("ketenzorg_programme") or ""
        data = services.ReferralData(
            practice=practice,
            provider=provider,
            channel=Channel.API if self.actor.api_key is not None else Channel.WEB,
            patient_bsn=patient.pop("bsn"),
            patient_fields=patient,
            external_id=fields.get("external_id", ""),
            referrer_name=fields.get("referrer_name", ""),
            referrer_agb=fields.get("referrer_agb", ""),
            reason=fields["reason"],
            cigarettes_per_day=fields["cigarettes_per_day"],
            years_smoked=fields.get("years_smoked"),
            earlier_quit_attempts=fields.get("earlier_quit_attempts"),
            motivation=fields["motivation"],
            is_ketenzorg=bool(programme),
            ketenzorg_programme=programme,
            best_time_to_call=fields.get("best_time_to_call", ""),
            call_note=fields.get("call_note", ""),
            consent_data_exchange=fields["consent_data_exchange"],
        )
        referral, created = services.referral_create(
            actor=self.actor, data=data, by=self.actor.user
        )
        if created:
            return self._detail(referral.pk, status_code=status.HTTP_201_CREATED)
        if not referrals_for(self.actor).filter(pk=referral.pk).exists():
            raise Conflict(_("Another referral already has this external_id."))
        audit_record(
            who=self.actor,
            action=AuditEvent.Action.VIEW,
            patient_id=referral.patient_id,
            obj=referral,
            detail="api referral create: repeated external_id",
        )
        return self._detail(referral.pk)

    # -- actions ----------------------------------------------------------------------------------
    def _referral_to_act_on(self, side: str) -> Referral:
        """The referral, if visible (else 404), and if the caller is on the acting side (else 403)."""
        referral = get_object_or_404(
            referrals_for(self.actor).select_related("practice"),
            public_id=self.kwargs[self.lookup_url_kwarg],
        )
        if side == PROVIDER and not is_provider_staff(self.actor, referral):
            raise PermissionDenied(_("Only the SMR provider's coaches and planners may do this."))
        if side == REFERRER and not is_referrer(self.actor, referral):
            raise PermissionDenied(_("Only the referring practice may do this."))
        return referral

    def _act(self, request, *, side: str, service, input_class=ReferralNoteInput) -> Response:
        referral = self._referral_to_act_on(side)
        payload = input_class(data=request.data)
        payload.is_valid(raise_exception=True)
        service(actor=self.actor, referral_id=referral.pk, **payload.validated_data)
        return self._detail(referral.pk)

    @_provider_action("Accept the referral", examples=[examples.DETAIL_RESPONSE])
    @action(detail=True, methods=["post"])
    def accept(self, request, **kwargs):
        return self._act(request, side=PROVIDER, service=services.referral_accept)

    @_provider_action(
        "Decline the referral", request=ReferralDeclineInput, examples=[examples.DECLINE_REQUEST]
    )
    @action(detail=True, methods=["post"])
    def decline(self, request, **kwargs):
        return self._act(
            request,
            side=PROVIDER,
            service=services.referral_decline,
            input_class=ReferralDeclineInput,
        )

    @_provider_action(
        "Assign a coach", request=ReferralAssignInput, examples=[examples.ASSIGN_REQUEST]
    )
    @action(detail=True, methods=["post"])
    def assign(self, request, **kwargs):
        referral = self._referral_to_act_on(PROVIDER)
        payload = ReferralAssignInput(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            services.referral_assign(
                actor=self.actor, referral_id=referral.pk, coach_id=payload.validated_data["coach"]
            )
        except DjangoValidationError as exc:
            if hasattr(exc, "error_dict") and "coach" in exc.error_dict:
                raise ValidationError({"coach": exc.message_dict["coach"]}) from None
            raise
        return self._detail(referral.pk)

    @extend_schema(
        summary="Record an attempt to reach the patient",
        description=_PROVIDER_ONLY,
        request=ContactAttemptInput,
        responses={
            201: ContactAttemptOutput,
            **{code: r for code, r in _ACTION_RESPONSES.items() if code != 200},
        },
        examples=[examples.CONTACT_ATTEMPT_REQUEST],
    )
    @action(detail=True, methods=["post"], url_path="contact-attempts")
    def contact_attempts(self, request, **kwargs):
        referral = self._referral_to_act_on(PROVIDER)
        payload = ContactAttemptInput(data=request.data)
        payload.is_valid(raise_exception=True)
        attempt = services.referral_record_attempt(
            actor=self.actor, referral_id=referral.pk, **payload.validated_data
        )
        return Response(ContactAttemptOutput(attempt).data, status=status.HTTP_201_CREATED)

    @_provider_action("Record that the first contact is scheduled")
    @action(detail=True, methods=["post"], url_path="schedule-contact")
    def schedule_contact(self, request, **kwargs):
        return self._act(request, side=PROVIDER, service=services.referral_schedule_contact)

    @_provider_action("Record that the patient did not show up")
    @action(detail=True, methods=["post"], url_path="no-show")
    def no_show(self, request, **kwargs):
        return self._act(request, side=PROVIDER, service=services.referral_record_no_show)

    @_provider_action("Record that the first contact took place")
    @action(detail=True, methods=["post"], url_path="contact-done")
    def contact_done(self, request, **kwargs):
        return self._act(request, side=PROVIDER, service=services.referral_record_contact_done)

    @_provider_action(
        "Close the referral: patient unreachable",
        description=_PROVIDER_ONLY + " Only after three failed contact attempts.",
    )
    @action(detail=True, methods=["post"], url_path="close-unreachable")
    def close_unreachable(self, request, **kwargs):
        return self._act(request, side=PROVIDER, service=services.referral_close_unreachable)

    @extend_schema(
        summary="Ask the provider to cancel the referral",
        description="For the referring practice (its people or its referral-intake key).",
        request=ReferralCancellationInput,
        responses=_ACTION_RESPONSES,
        examples=[examples.CANCELLATION_REQUEST],
    )
    @action(detail=True, methods=["post"], url_path="request-cancellation")
    def request_cancellation(self, request, **kwargs):
        return self._act(
            request,
            side=REFERRER,
            service=services.referral_request_cancellation,
            input_class=ReferralCancellationInput,
        )

    @_provider_action("Confirm the cancellation the referrer asked for")
    @action(detail=True, methods=["post"], url_path="confirm-cancellation")
    def confirm_cancellation(self, request, **kwargs):
        return self._act(request, side=PROVIDER, service=services.referral_confirm_cancellation)
