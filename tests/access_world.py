"""The fixture the access matrix and the leak test walk: one of everything, and every persona.

Built once per test module inside a transaction that is rolled back at the end of the module
(``world_for_module``); each test then runs in its own savepoint (pytest-django's ``db``), and each
request in a savepoint of its own, so no request can change what the next one sees.
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from carechain.access import Actor
from tests import factories
from tests.access_rules import (
    COLLEAGUE_COACH,
    MISSING,
    OUTSIDERS,
    PERSONAS,
    SKIPPED,
    Persona,
    Ref,
    Rule,
)

# Texts planted in the fixture that only the care team may ever read.
GGZ_SESSION_NOTE = "GGZ-SESSIENOTITIE-4417 angst voor afwijzing"
GGZ_REPORT = "GGZ-TERUGKOPPELING-8152 piekeren neemt af"
ESCALATION_EXPLANATION = "ESCALATIE-UITLEG-5523 denkt het niet te kunnen"
CONTACT_NOTE = "CONTACTNOTITIE-6631 moeilijk moment na het eten"
CO_PPM = 83
GGZ_TEXTS = (GGZ_SESSION_NOTE, GGZ_REPORT, ESCALATION_EXPLANATION)
MISSING_ID = 987654321  # no object of the fixture has this key
MISSING_PUBLIC_ID = uuid.UUID("00000000-0000-4000-8000-000000000000")  # nor this public id


# -- URL patterns ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Endpoint:
    key: str  # "namespace:name", or the route when the pattern has no name
    route: str
    params: frozenset[str]
    namespace: str = ""

    def __str__(self) -> str:
        return self.key if self.key == self.route else f"{self.key} ({self.route})"


def _walk(patterns, prefix: str = "", namespace: str = "") -> Iterator[Endpoint]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern.url_patterns, route, inner)
        elif isinstance(pattern, URLPattern):
            name = pattern.name
            key = (f"{namespace}:{name}" if namespace else name) if name else route
            params = frozenset(pattern.pattern.regex.groupindex)
            yield Endpoint(key=key, route=route, params=params, namespace=namespace)


def endpoints() -> list[Endpoint]:
    """Every URL pattern of the project, in URLconf order."""
    return list(_walk(get_resolver().url_patterns))


def skip_reason(endpoint: Endpoint) -> str | None:
    if endpoint.namespace and f"{endpoint.namespace}:*" in SKIPPED:
        return SKIPPED[f"{endpoint.namespace}:*"]
    return SKIPPED.get(endpoint.key)


def rule_id(endpoint: Endpoint, rule: Rule) -> str:
    """A test id: the pattern, and the action or object when one pattern has several rows."""
    extra = rule.kwargs.get("action") or next(
        (v.name for v in rule.kwargs.values() if isinstance(v, Ref)), ""
    )
    return f"{endpoint} {extra}".strip()


def rules_for(endpoint: Endpoint, rules: list[Rule]) -> list[Rule]:
    """The rows for this pattern: same name, and parameters that fit this pattern's shape."""
    return [r for r in rules if r.name == endpoint.key and set(r.kwargs) == endpoint.params]


# -- the world -----------------------------------------------------------------------------------
@dataclass
class World:
    objects: dict = field(default_factory=dict)
    users: dict = field(default_factory=dict)  # persona name -> User
    keys: dict = field(default_factory=dict)  # persona name -> API key secret
    clients: dict = field(default_factory=dict)  # persona name -> logged-in test client

    def pk(self, name: str):
        return self.value(Ref(name))

    def value(self, ref: Ref):
        if ref.name == MISSING.name:
            return MISSING_PUBLIC_ID if ref.field == "public_id" else MISSING_ID
        return getattr(self.objects.get(ref.name) or self.users[ref.name], ref.field)

    def resolve(self, values: dict) -> dict:
        return {k: self.value(v) if isinstance(v, Ref) else v for k, v in values.items()}

    def url(self, rule: Rule) -> str:
        kwargs = self.resolve(rule.kwargs)
        path = rule.path.format(**kwargs) if rule.path else reverse(rule.name, kwargs=kwargs)
        query = self.resolve(rule.query)
        if query:
            path += "?" + "&".join(f"{k}={v}" for k, v in query.items())
        return path


def _organisations(chain) -> dict:
    return {
        "practice_a": chain.practice_a,
        "practice_b": chain.practice_b,
        "provider": chain.provider,
        "other_provider": chain.other_provider,
        "zorggroep": chain.zorggroep,
        "other_zorggroep": chain.practice_other_zorggroep.zorggroep,
        "insurer_a": chain.insurer_a,
        "insurer_b": chain.insurer_b,
    }


def _persona(world: World, persona: Persona, organisations: dict) -> None:
    if persona.key_purpose:
        world.keys[persona.name] = factories.api_key(
            organisations[persona.organisation], persona.key_purpose
        )
    elif persona.superuser:
        world.users[persona.name] = factories.UserFactory(is_staff=True, is_superuser=True)
    elif persona.role:
        world.users[persona.name] = factories.member(
            persona.role, organisations[persona.organisation]
        )


def build_world() -> World:
    from billing.models import Claim, Invoice, InvoiceLine, Prestatie
    from pathways import groups, services
    from pathways.models import Appointment, GroupParticipant
    from tests.conftest import Chain

    provider = factories.ProviderFactory(name="Stoppen BV")
    zorggroep = factories.ZorggroepFactory(name="Zorggroep West", smr_provider=provider)
    chain = Chain(
        zorggroep=zorggroep,
        practice_a=factories.PracticeFactory(name="Praktijk A", zorggroep=zorggroep),
        practice_b=factories.PracticeFactory(name="Praktijk B", zorggroep=zorggroep),
        practice_other_zorggroep=factories.PracticeFactory(name="Praktijk Elders"),
        provider=provider,
        other_provider=factories.ProviderFactory(name="Andere Stoppers BV"),
        insurer_a=factories.InsurerFactory(name="Verzekeraar A"),
        insurer_b=factories.InsurerFactory(name="Verzekeraar B"),
    )
    organisations = _organisations(chain)
    world = World()
    for persona in (*PERSONAS, *OUTSIDERS, COLLEAGUE_COACH):
        _persona(world, persona, organisations)
    coach, poh_ggz = world.users["coach"], world.users["poh_ggz"]
    today = timezone.localdate()

    patient = factories.PatientFactory(
        practice=chain.practice_a, last_name="Matrixpatient", email="patient@example.nl"
    )
    factories.InsuranceFactory(patient=patient, insurer=chain.insurer_a)
    trajectory = factories.trajectory_in("counselling", coach=coach, referral__patient=patient)
    as_coach, as_poh_ggz = Actor.for_user(coach), Actor.for_user(poh_ggz)
    services.trajectory_record_contact(
        actor=as_coach,
        trajectory_id=trajectory.pk,
        kind="phone",
        date=today,
        duration_minutes=20,
        smoking_status="lapse",
        cigarettes_per_day=2,
        co_ppm=CO_PPM,
        notes=CONTACT_NOTE,
    )
    returned = services.trajectory_escalate(
        actor=as_coach,
        trajectory_id=trajectory.pk,
        reason="anxiety",
        explanation=ESCALATION_EXPLANATION,
    )
    services.escalation_record_session(
        actor=as_poh_ggz,
        escalation_id=returned.pk,
        date=today,
        duration_minutes=45,
        notes=GGZ_SESSION_NOTE,
    )
    services.escalation_report_back(actor=as_poh_ggz, escalation_id=returned.pk, report=GGZ_REPORT)

    escalated = factories.trajectory_in(
        "counselling",
        coach=coach,
        referral__patient=factories.PatientFactory(practice=chain.practice_a),
    )
    escalation = services.trajectory_escalate(
        actor=as_coach,
        trajectory_id=escalated.pk,
        reason="thoughts",
        explanation=ESCALATION_EXPLANATION,
    )
    services.escalation_record_session(
        actor=as_poh_ggz,
        escalation_id=escalation.pk,
        date=today,
        duration_minutes=30,
        notes=GGZ_SESSION_NOTE,
    )

    letter = trajectory.referral.letters.order_by("pk").first()
    letter.pdf.save(f"matrix-{letter.pk}.pdf", ContentFile(b"%PDF-1.4\n%%EOF\n"), save=True)

    location = factories.LocationFactory(practice=chain.practice_a, provider=chain.provider)
    noon = timezone.make_aware(datetime.datetime.combine(today, datetime.time(12)))
    appointment = Appointment.objects.create(
        trajectory=trajectory,
        kind="location",
        starts_at=noon,
        duration_minutes=30,
        coach=coach,
        location=location,
    )
    group = groups.group_create(
        actor=as_poh_ggz,
        location=location,
        year=today.year,
        meetings=[(at, theme, poh_ggz) for at, theme in groups.default_meetings(today.year)],
    )
    meeting = group.meetings.order_by("number").first()
    participant = GroupParticipant.objects.create(
        group=group, trajectory=trajectory, joined_at=meeting
    )

    prestatie = Prestatie.objects.create(code="SMR01", kind="programme", description="Programma")
    invoice = Invoice.objects.create(
        zorggroep=chain.zorggroep,
        state="sent",
        sent_at=timezone.now(),
        number="MATRIX-0001",
        year=today.year,
        month=today.month,
        issued_on=today,
        due_on=today + datetime.timedelta(days=30),
        seller={"name": provider.name},
        buyer={"name": zorggroep.name},
        total=Decimal("258.00"),
    )
    invoice.pdf.save(f"matrix-{invoice.pk}.pdf", ContentFile(b"%PDF-1.4\n%%EOF\n"), save=True)
    invoice_line = InvoiceLine.objects.create(
        zorggroep=chain.zorggroep,
        trajectory=trajectory,
        prestatie=prestatie,
        invoice=invoice,
        amount=Decimal("258.00"),
        patient_name=patient.full_name,
        patient_bsn=patient.bsn,
        patient_birth_date=patient.birth_date,
        practice_name=chain.practice_a.name,
        start_date=today,
        end_date=today,
    )
    claim = Claim.objects.create(
        trajectory=trajectory,
        prestatie=prestatie,
        insurer=chain.insurer_a,
        claim_number="MATRIX-C-0001",
        bsn=patient.bsn,
        patient_name=patient.full_name,
        birth_date=patient.birth_date,
        uzovi=chain.insurer_a.uzovi,
        policy_number="POL-MATRIX",
        provider_agb=provider.agb,
        performer_agb="12345678",
        prestatie_code=prestatie.code,
        start_date=today,
        end_date=today,
        amount=Decimal("268.00"),
    )
    campaign, invitee = _campaign(chain)
    world.objects.update(
        campaign=campaign,
        invitee=invitee,
        chain=chain,
        zorggroep=chain.zorggroep,
        provider=chain.provider,
        patient=patient,
        referral=trajectory.referral,
        trajectory=trajectory,
        escalated_trajectory=escalated,
        escalation=escalation,
        letter=letter,
        location=location,
        appointment=appointment,
        group=group,
        meeting=meeting,
        participant=participant,
        invoice=invoice,
        invoice_line=invoice_line,
        claim=claim,
    )
    world.clients = clients(world, (*PERSONAS, *OUTSIDERS, COLLEAGUE_COACH))
    return world


def _campaign(chain):
    """A letter campaign of practice A with its letters made (a one-page stand-in PDF) and one
    person who answered yes, waiting for the practice to confirm the referral."""
    import io

    from pypdf import PdfWriter

    from campaigns.models import Campaign, LetterChunk

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    campaign = factories.CampaignFactory(practice=chain.practice_a, name="Matrixactie")
    chunk = LetterChunk.objects.create(campaign=campaign, number=1, status="done")
    chunk.pdf.save(f"matrix-chunk-{chunk.pk}.pdf", ContentFile(buffer.getvalue()), save=True)
    campaign.batch_pdf.save(
        f"matrix-campaign-{campaign.pk}.pdf", ContentFile(buffer.getvalue()), save=False
    )
    Campaign.objects.filter(pk=campaign.pk).update(
        state="letters_ready", letters_ready_at=timezone.now(), batch_pdf=campaign.batch_pdf.name
    )
    invitee = factories.InviteeFactory(
        campaign=campaign,
        last_name="Matrixgenodigde",
        chunk=chunk,
        letter_status="done",
        letter_first_page=0,
        letter_pages=1,
        answer="yes",
        answer_channel="web",
        answered_at=timezone.now(),
        consent_data_exchange=True,
    )
    return campaign, invitee


@contextmanager
def world_for_module(django_db_blocker) -> Iterator[World]:
    """Build the world once; everything is rolled back when the module is done."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


# -- requests --------------------------------------------------------------------------------------
def clients(world: World, personas) -> dict[str, Client]:
    """One client per persona: a session for people, the Authorization header for API keys.

    Logged in once with the world (the sessions live as long as the module's transaction); every
    request starts from that session again, whatever an earlier answer set.
    """
    made = {}
    for persona in personas:
        if persona.name in world.keys:
            client = Client(
                raise_request_exception=False,
                HTTP_AUTHORIZATION=f"Api-Key {world.keys[persona.name]}",
            )
        else:
            client = Client(raise_request_exception=False)
            if persona.name in world.users:
                client.force_login(world.users[persona.name])
        client.session_cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
        made[persona.name] = client
    return made


@dataclass(frozen=True)
class Answer:
    status: int
    location: str
    body: str
    error: str = ""
    content_type: str = ""


def ask(client: Client, world: World, rule: Rule) -> Answer:
    """One request, rolled back afterwards; the body is read before the rollback."""
    url = world.url(rule)
    client.cookies.clear()  # no messages or language cookie from an earlier answer
    if client.session_cookie is not None:
        client.cookies[settings.SESSION_COOKIE_NAME] = client.session_cookie.value
    with transaction.atomic():
        if rule.post is None:
            response = client.get(url)
        elif url.startswith(("/api/", "/fhir")):
            body = json.dumps(world.resolve(rule.post))
            response = client.post(url, body, content_type="application/json")
        else:
            response = client.post(url, world.resolve(rule.post))
        raw = b"".join(response.streaming_content) if response.streaming else response.content
        transaction.set_rollback(True)
    exc_info = getattr(response, "exc_info", None)
    return Answer(
        status=response.status_code,
        location=response.get("Location", ""),
        body=raw.decode("utf-8", errors="replace"),
        error=f"{exc_info[0].__name__}: {exc_info[1]}" if exc_info else "",
        content_type=response.get("Content-Type", ""),
    )


def login_url() -> str:
    return resolve_url(settings.LOGIN_URL)
