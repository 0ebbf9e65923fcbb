"""FHIR endpoints: ZorgDomein and KIS deliveries in, the referral's closed-loop Task out.

Thin on purpose: parse (``fhir_in``), call a service (``intake``), render (``fhir_out``). Who sees
which Task is the one referral access policy (``referrals_for``); every read is audited.
"""

from __future__ import annotations

import uuid

from django.db.models import Prefetch
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
from ..models import FeedbackLetter, Referral
from . import feedback, fhir_out
from .errors import FhirError
from .fhir_in import kis_delivery, zorgdomein_delivery
from .intake import kis_receive, zorgdomein_receive
from .protocol import (
    FhirJsonParser,
    FhirJsonRenderer,
    JsonParser,
    JsonRenderer,
    ReferrerKeyRequired,
    fhir_body,
    fhir_exception_handler,
)
from .search import TaskSearch

# What Task.output needs of each letter: no facts, no PDF.
_LETTERS = Prefetch(
    "letters", queryset=FeedbackLetter.objects.only("id", "referral_id", "public_id", "kind")
)


class FhirView(APIView):
    authentication_classes = [OrganisationAPIKeyAuthentication]
    permission_classes = [IsAuthenticated, ReferrerKeyRequired]
    parser_classes = [FhirJsonParser, JsonParser]
    renderer_classes = [FhirJsonRenderer, JsonRenderer]
    schema = None  # FHIR describes itself in /fhir/metadata, not in the OpenAPI schema

    def get_exception_handler(self):
        return fhir_exception_handler

    @property
    def actor(self) -> Actor:
        return Actor.from_request(self.request, channel=AuditEvent.Channel.FHIR)

    def task_url(self, referral: Referral) -> str:
        return self.request.build_absolute_uri(reverse("fhir:task", args=[referral.public_id]))

    def visible(self, pk: str) -> Referral:
        referral = (
            referrals_for(self.actor)
            .select_related("practice", "provider", "patient")
            .prefetch_related(_LETTERS)
            .filter(public_id=_uuid(pk))
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
            fhir_out.task(referral, list(referral.letters.all())),
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
        return Response(fhir_out.task(referral, list(referral.letters.all())))


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
    """GET [base]/Task?focus=ServiceRequest/<id> | identifier=[system|]value | _id=<id>
    | _lastUpdated=gt<instant> (what changed since the last poll), paged with _count."""

    def get(self, request):
        search = TaskSearch.parse(request.query_params)
        referrals = search.apply(
            referrals_for(self.actor).select_related("practice", "provider", "patient")
        ).prefetch_related(_LETTERS)
        found = list(referrals[: search.count + 1])
        more, found = len(found) > search.count, found[: search.count]
        audit_record_many(
            who=self.actor,
            action=AuditEvent.Action.LIST,
            touches=[Touch(r.patient_id, r, "FHIR Task search") for r in found],
        )
        links = [{"relation": "self", "url": request.build_absolute_uri()}]
        if more:
            links.append({"relation": "next", "url": search.next_url(request, found[-1])})
        bundle = fhir_out.searchset(
            [(self.task_url(r), fhir_out.task(r, list(r.letters.all()))) for r in found],
            links=links,
        )
        return Response(bundle)


class FeedbackBundleView(FhirView):
    """GET [base]/Bundle/<id>: one feedback moment as a FHIR document (Task.output points here)."""

    def get(self, request, pk: str):
        letter = (
            FeedbackLetter.objects.filter(referral__in=referrals_for(self.actor))
            .select_related("referral__practice", "referral__provider", "referral__patient")
            .filter(public_id=_uuid(pk))
            .first()
        )
        if letter is None:
            raise FhirError(
                404,
                "not-found",
                _("No feedback Bundle %(id)s is visible to your organisation.") % {"id": pk},
            )
        audit_record(
            who=self.actor,
            action=AuditEvent.Action.VIEW,
            patient_id=letter.referral.patient_id,
            obj=letter.referral,
            detail="FHIR feedback Bundle",
        )
        return Response(feedback.feedback_bundle(letter, pdf=_pdf(letter)))


def _pdf(letter: FeedbackLetter) -> bytes | None:
    if not letter.pdf:
        return None
    with letter.pdf.open("rb") as handle:
        return handle.read()


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


def _uuid(value: str) -> uuid.UUID | None:
    """A public id from a URL or search; None (matching nothing) for anything else."""
    try:
        return uuid.UUID(value.strip())
    except (ValueError, AttributeError):
        return None
