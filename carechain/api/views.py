from django.core.exceptions import PermissionDenied
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from audit.models import AuditEvent
from audit.services import Touch, audit_record, audit_record_many
from carechain import services
from carechain.access import Actor, can_see_patients, patients_for
from carechain.api.pagination import KeysetCursorPagination
from carechain.queries import COACH_LIST_ROLES, coach_memberships_for

from .serializers import UUID_PATTERN, CoachOutput, ErrorOutput, PatientInput, PatientOutput


class CanSeePatients(BasePermission):
    def has_permission(self, request, view):
        return can_see_patients(Actor.from_request(request))


class PatientPagination(KeysetCursorPagination):
    """Newest registration first; the cursor holds a created_at and a public id, no database id."""

    ordering = ("-created_at", "-public_id")


class PatientViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Patients the caller may see: its practice's patients, or the provider's caseload."""

    permission_classes = [CanSeePatients]
    serializer_class = PatientOutput
    filterset_fields = ["bsn"]
    pagination_class = PatientPagination
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    lookup_value_regex = UUID_PATTERN

    def get_queryset(self):
        actor = Actor.from_request(self.request)
        return (
            patients_for(actor)
            .select_related("practice")
            .prefetch_related("insurances__insurer", "ketenzorg_enrolments__zorggroep")
        )

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        audit_record_many(
            who=Actor.from_request(request),
            action=AuditEvent.Action.LIST,
            touches=[Touch(patient.pk, None, "api patient list") for patient in page],
        )
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        patient = self.get_object()
        audit_record(
            who=Actor.from_request(request),
            action=AuditEvent.Action.VIEW,
            patient_id=patient.pk,
            obj=patient,
        )
        return Response(self.get_serializer(patient).data)

    @extend_schema(
        description=(
            "Register a patient of your practice. A BSN is one person: one the platform knows under "
            "another practice is that patient changing GP to yours, as a referral from you would "
            "be. The record moves to your practice, takes the contact details you send (the "
            "identity stays as stored), and the insurance and ketenzorg periods you send replace "
            "what it held for those dates. Either way the answer is 201. A BSN already registered "
            "at your practice is a 400 on `bsn`."
        ),
        request=PatientInput,
        responses={
            201: PatientOutput,
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="Field errors: `{field: [message, ...]}`; nothing was saved.",
            ),
            404: OpenApiResponse(
                ErrorOutput, description="The practice is not one you may register patients for."
            ),
        },
    )
    def create(self, request, *args, **kwargs):
        actor = Actor.from_request(request)
        data = PatientInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        practice = fields.pop("practice")
        insurances = fields.pop("insurances", [])
        enrolments = fields.pop("ketenzorg_enrolments", [])
        try:
            patient = services.patient_register(
                actor=actor,
                practice=practice,
                fields=fields,
                insurances=insurances,
                enrolments=enrolments,
            )
        except PermissionDenied:
            raise NotFound() from None
        return Response(PatientOutput(patient).data, status=status.HTTP_201_CREATED)


COACH_LIST_EXAMPLE = OpenApiExample(
    "The provider's coaches",
    response_only=True,
    value=[
        {
            "id": "5d1e9a3c-7f20-4b6e-a8c4-2e9b0f61d7a5",
            "name": "Sanne Bakker",
            "provider_agb": "73730001",
            "krs_number": "KRS-20417",
            "krs_valid_until": "2028-06-30",
            "agb": "01098765",
        }
    ],
)


class IsProviderCoachOrPlanner(BasePermission):
    def has_permission(self, request, view):
        return Actor.from_request(request).has_role(*COACH_LIST_ROLES)


class CoachViewSet(viewsets.GenericViewSet):
    """The provider's active coaches: how a planner's system learns the ids it assigns by."""

    permission_classes = [IsProviderCoachOrPlanner]
    serializer_class = CoachOutput
    pagination_class = None  # a provider's coaches are a short list: one answer, no pages

    def get_queryset(self):
        return coach_memberships_for(Actor.from_request(self.request))

    @extend_schema(
        summary="List the provider's coaches",
        description=(
            "For coaches and planners of an SMR provider: its active coaches, by name, with the "
            "`id` that `POST /api/referrals/{id}/assign/` takes as `coach`, their KRS "
            "registration and personal AGB code. No patient data; the read is in the audit log."
        ),
        responses={
            200: CoachOutput(many=True),
            403: OpenApiResponse(ErrorOutput, description="Not a coach or planner of a provider."),
        },
        examples=[COACH_LIST_EXAMPLE],
    )
    def list(self, request):
        coaches = list(self.get_queryset())
        audit_record(
            who=Actor.from_request(request),
            action=AuditEvent.Action.LIST,
            patient_id=None,
            detail="api coach list",
        )
        return Response(CoachOutput(coaches, many=True).data)
