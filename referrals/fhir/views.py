"""FHIR endpoints: ZorgDomein and KIS deliveries in, the referral's closed-loop Task out.

Thin on purpose: parse (``fhir_in``), call a service (``intake``), render (``fhir_out``). Who sees
which Task is the one referral access policy (``referrals_for``); every read is audited.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.models import AuditEvent
from audit.services import Touch, audit_record, audit_record_many
from carechain.access import Actor
from carechain.api.authentication import OrganisationAPIKeyAuthentication

from ..access import referrals_for
from ..models import Channel, Referral
from . import fhir_out
from .errors import FhirError
from .fhir_in import ZD_NUMBER_SYSTEM, kis_delivery, zorgdomein_delivery
from .intake import kis_receive, zorgdomein_receive
from .protocol import (
    FhirJsonParser,
    FhirJsonRenderer,
    IntakeKeyRequired,
    JsonParser,
    JsonRenderer,
    fhir_body,
    fhir_exception_handler,
)

SEARCH_LIMIT = 100


class FhirView(APIView):
    authentication_classes = [OrganisationAPIKeyAuthentication]
    permission_classes = [IsAuthenticated, IntakeKeyRequired]
    parser_classes = [FhirJsonParser, JsonParser]
    renderer_classes = [FhirJsonRenderer, JsonRenderer]
    schema = None  # FHIR describes itself in /fhir/metadata, not in the OpenAPI schema

    def get_exception_handler(self):
        return fhir_exception_handler

    @property
    def actor(self) -> Actor:
        return Actor.from_request(self.request, channel=AuditEvent.Channel.FHIR)

    def task_url(self, referral: Referral) -> str:
        return self.request.build_absolute_uri(reverse("fhir:task", args=[referral.pk]))

    def visible(self, pk: str) -> Referral:
        referral = (
            referrals_for(self.actor)
            .select_related("practice", "provider", "patient")
            .filter(pk=_number(pk))
            .first()
        )
        if referral is None:
            raise FhirError(
                404,
                "not-found",
                _("No referral %(id)s is visible to your organisation.") % {"id": pk},
            )
        return referral

    def intake_response(self, referral: Referral, created: bool) -> Response:
        actor = self.actor
        if not created:
            # A replay answers with the referral as it stands now; a new one is as just written.
            referral = Referral.objects.select_related("practice", "provider", "patient").get(
                pk=referral.pk
            )
            audit_record(
                who=actor,
                action=AuditEvent.Action.VIEW,
                patient_id=referral.patient_id,
                obj=referral,
                detail="FHIR delivery replayed",
            )
        return Response(
            fhir_out.task(referral),
            status=201 if created else 200,
            headers={"Location": self.task_url(referral)},
        )


class MetadataView(FhirView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request):
        base_url = request.build_absolute_uri(reverse("fhir:metadata")).rsplit("/metadata", 1)[0]
        return Response(fhir_out.capability_statement(base_url=base_url))


class DocumentBundleView(FhirView):
    """ZorgDomein: POST [base]/Bundle with one document Bundle per delivery."""

    def post(self, request):
        delivery = zorgdomein_delivery(fhir_body(request))
        referral, created = zorgdomein_receive(actor=self.actor, delivery=delivery)
        return self.intake_response(referral, created)


class TransactionView(FhirView):
    """KIS: POST [base] with a transaction Bundle announcing a ketenzorg referral."""

    def post(self, request):
        delivery = kis_delivery(fhir_body(request))
        referral, created = kis_receive(actor=self.actor, delivery=delivery)
        return self.intake_response(referral, created)


class TaskView(FhirView):
    def get(self, request, pk: str):
        referral = self.visible(pk)
        audit_record(
            who=self.actor,
            action=AuditEvent.Action.VIEW,
            patient_id=referral.patient_id,
            obj=referral,
            detail="FHIR Task",
        )
        return Response(fhir_out.task(referral))


class ServiceRequestView(FhirView):
    def get(self, request, pk: str):
        referral = self.visible(pk)
        audit_record(
            who=self.actor,
            action=AuditEvent.Action.VIEW,
            patient_id=referral.patient_id,
            obj=referral,
            detail="FHIR ServiceRequest",
        )
        return Response(fhir_out.service_request(referral))


class TaskSearchView(FhirView):
    """GET [base]/Task?focus=ServiceRequest/<id> | identifier=[system|]value | _id=<id>."""

    def get(self, request):
        params = request.query_params
        if not {"_id", "focus", "identifier"} & set(params):
            raise FhirError(
                400,
                "required",
                _("Search Task by _id, focus (ServiceRequest/<id>) or identifier."),
                "Task",
            )
        referrals = referrals_for(self.actor).select_related("practice", "provider", "patient")
        if "_id" in params:
            referrals = referrals.filter(pk=_number(params["_id"]))
        if "focus" in params:
            referrals = referrals.filter(
                pk=_number(params["focus"].removeprefix("ServiceRequest/"))
            )
        if "identifier" in params:
            system, _bar, value = params["identifier"].rpartition("|")
            if system == fhir_out.REFERRAL_ID_SYSTEM:
                referrals = referrals.filter(pk=_number(value))
            elif system == ZD_NUMBER_SYSTEM:
                referrals = referrals.filter(channel=Channel.ZORGDOMEIN, external_id=value)
            else:
                referrals = referrals.filter(external_id=value).exclude(external_id="")
        found = list(referrals.order_by("pk")[:SEARCH_LIMIT])
        audit_record_many(
            who=self.actor,
            action=AuditEvent.Action.LIST,
            touches=[Touch(r.patient_id, r, "FHIR Task search") for r in found],
        )
        bundle = fhir_out.searchset(
            [(self.task_url(r), fhir_out.task(r)) for r in found],
            self_url=request.build_absolute_uri(),
        )
        return Response(bundle)


class UnsupportedView(FhirView):
    """Anything else under [base]: an OperationOutcome rather than Django's HTML 404 page."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def initial(self, request, *args, **kwargs):
        raise FhirError(
            404,
            "not-supported",
            _("Not supported here. See %(url)s for what this server supports.")
            % {"url": request.build_absolute_uri(reverse("fhir:metadata"))},
        )


def _number(value: str) -> int | None:
    """A referral id from a URL or search; None (matching nothing) for anything else."""
    value = value.strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None
