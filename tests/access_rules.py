"""Least privilege, declared: for every URL of the project, who gets through.

``tests/test_access_matrix.py`` walks every URL pattern of the project and every persona below and
checks the answers against this table. A new URL without a row fails the matrix with
"no access rule for <name>". Adding a URL is one line: ``R("name", {PERSONA, ...}, kwargs=...)``.

Reading a row:

* ``allow``: the personas that get through: a 2xx, or a redirect that stays in the same area
  (``/trajectories/…`` to ``/trajectories/…``). Everyone else is denied: 401, 403 or 404, or, for a
  browser page without a session (anonymous, API keys), the redirect to the login page.
* ``path``: for a pattern without a name, the URL to ask, with ``{param}`` filled from ``kwargs``.
* ``kwargs``/``query``: the URL's parameters; ``Ref("trajectory")`` is the primary key of that
  object of the fixture (``tests/access_world.py``), ``Ref("claim", "claim_number")`` one of its
  fields; anything else is used as it is.
* ``post``: the endpoint only takes POST. Everyone is sent this body (an empty one proves most
  denials; a valid one where the view validates the form before it asks who you are). Denied
  personas must get 401/403/404/405, allowed ones must not be refused. Nothing is kept: every
  request runs in a savepoint that is rolled back.
* Object-level rows (a ``Ref`` among the parameters): the same role in another organisation
  (``COUNTERPART``) must get a 404 (the object's existence is not revealed), or for a search an
  empty result (``outsiders=EMPTY_SEARCH``). And everyone who may not act on the object gets the
  same answer for it as for an object that does not exist, also for an empty POST.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import timezone

from carechain.models import OrganisationAPIKey, Role

# -- personas ------------------------------------------------------------------------------------
ANONYMOUS = "anonymous"
GP, POH_S, POH_GGZ = "gp", "poh_s", "poh_ggz"
COACH, PLANNER, PRIVACY = "coach", "planner", "privacy_officer"
ZG_ADMIN, INSURER = "zorggroep_admin", "insurer_user"
SUPERUSER = "admin_without_role"
INTAKE_KEY, CLAIMS_KEY, FEEDBACK_KEY = "intake_key", "claims_key", "feedback_key"


@dataclass(frozen=True)
class Persona:
    """A person with one role in one organisation of the fixture, an API key, or nobody."""

    name: str
    role: str = ""
    organisation: str = ""  # attribute of tests.conftest.Chain
    key_purpose: str = ""
    superuser: bool = False

    @property
    def has_session(self) -> bool:
        return bool(self.role or self.superuser)


INTAKE_PURPOSE = OrganisationAPIKey.Purpose.REFERRAL_INTAKE
CLAIMS_PURPOSE = OrganisationAPIKey.Purpose.CLAIMS
FEEDBACK_PURPOSE = OrganisationAPIKey.Purpose.FEEDBACK

# fmt: off
PERSONAS = [
    Persona(ANONYMOUS),
    Persona(GP, Role.GP, "practice_a"),
    Persona(POH_S, Role.POH_S, "practice_a"),
    Persona(POH_GGZ, Role.POH_GGZ, "practice_a"),
    Persona(COACH, Role.COACH, "provider"),
    Persona(PLANNER, Role.PLANNER, "provider"),
    Persona(PRIVACY, Role.PRIVACY_OFFICER, "provider"),
    Persona(ZG_ADMIN, Role.ZORGGROEP_ADMIN, "zorggroep"),
    Persona(INSURER, Role.INSURER, "insurer_a"),
    Persona(SUPERUSER, superuser=True),
    Persona(INTAKE_KEY, organisation="practice_a", key_purpose=INTAKE_PURPOSE),
    Persona(CLAIMS_KEY, organisation="insurer_a", key_purpose=CLAIMS_PURPOSE),
    Persona(FEEDBACK_KEY, organisation="practice_a", key_purpose=FEEDBACK_PURPOSE),
]

# The same roles in the other organisations: practice B (same zorggroep), another provider, another
# zorggroep, insurer B. They must not even learn that the objects of practice A / provider / insurer
# A exist.
OUTSIDERS = [
    Persona("gp_b", Role.GP, "practice_b"),
    Persona("poh_s_b", Role.POH_S, "practice_b"),
    Persona("poh_ggz_b", Role.POH_GGZ, "practice_b"),
    Persona("coach_other_provider", Role.COACH, "other_provider"),
    Persona("planner_other_provider", Role.PLANNER, "other_provider"),
    Persona("privacy_officer_other_provider", Role.PRIVACY_OFFICER, "other_provider"),
    Persona("zorggroep_admin_other", Role.ZORGGROEP_ADMIN, "other_zorggroep"),
    Persona("insurer_b_user", Role.INSURER, "insurer_b"),
    Persona("intake_key_b", organisation="practice_b", key_purpose=INTAKE_PURPOSE),
    Persona("claims_key_b", organisation="insurer_b", key_purpose=CLAIMS_PURPOSE),
    Persona("feedback_key_b", organisation="practice_b", key_purpose=FEEDBACK_PURPOSE),
]
# fmt: on
COUNTERPART = {
    GP: "gp_b",
    POH_S: "poh_s_b",
    POH_GGZ: "poh_ggz_b",
    COACH: "coach_other_provider",
    PLANNER: "planner_other_provider",
    PRIVACY: "privacy_officer_other_provider",
    ZG_ADMIN: "zorggroep_admin_other",
    INSURER: "insurer_b_user",
    INTAKE_KEY: "intake_key_b",
    CLAIMS_KEY: "claims_key_b",
    FEEDBACK_KEY: "feedback_key_b",
}
# Only in the GGZ-note check: a coach of the same provider who is not the trajectory's coach.
COLLEAGUE_COACH = Persona("colleague_coach", Role.COACH, "provider")

# -- groups of personas the rows use ---------------------------------------------------------------
PRACTICE = frozenset({GP, POH_S, POH_GGZ})
PROVIDER_CARE = frozenset({COACH, PLANNER})
PATIENT_CARE = PRACTICE | PROVIDER_CARE
PEOPLE = frozenset(p.name for p in PERSONAS if p.has_session)
EVERYONE = frozenset(p.name for p in PERSONAS)
CAMPAIGN_TEAM = frozenset({GP, POH_S})  # a practice's letter campaign: its GP and POH-S only
REFERRER_KEYS = frozenset({INTAKE_KEY, FEEDBACK_KEY})
NOBODY = frozenset()


@dataclass(frozen=True)
class Ref:
    """A field (the primary key unless named) of a named object or persona of the fixture."""

    name: str
    field: str = "pk"


# Stands in for an object that does not exist (see test_access_matrix's existence check).
MISSING = Ref("missing")

NOT_FOUND = "404"
EMPTY_SEARCH = "empty search result"


@dataclass(frozen=True)
class Rule:
    name: str
    allow: frozenset[str]
    kwargs: dict = field(default_factory=dict)
    query: dict = field(default_factory=dict)
    post: dict | None = None
    path: str = ""
    outsiders: str = NOT_FOUND
    note: str = ""

    @property
    def object_level(self) -> bool:
        values = [*self.kwargs.values(), *self.query.values()]
        return any(isinstance(v, Ref) for v in values)


def R(name, allow, **kwargs) -> Rule:  # reads as a table row
    return Rule(name, frozenset(allow), **kwargs)


TODAY = timezone.localdate().isoformat()
PK = {"pk": Ref("trajectory")}
ESCALATE = {"expected_state": "counselling", "reason": "thoughts", "explanation": "matrix"}
SESSION = {"date": TODAY, "duration_minutes": 30, "notes": "matrix"}

# fmt: off
RULES = [
    # -- core -----------------------------------------------------------------------------------------
    R("home", PEOPLE),
    R("patient-list", PATIENT_CARE),
    R("patient-create", PRACTICE),
    R("patient-detail", PATIENT_CARE, kwargs={"pk": Ref("patient")}),
    # -- referrals ------------------------------------------------------------------------------------
    R("referral-list", PRACTICE),
    R("referral-create", PRACTICE),
    R("referral-worklist", PROVIDER_CARE),
    R("letters-failed", PROVIDER_CARE),
    R("webhook-deliveries", {PLANNER}),
    R("letter-download", PATIENT_CARE, kwargs={"pk": Ref("letter")}),
    R("referral-detail", PATIENT_CARE, kwargs={"pk": Ref("referral")}),
    R("referral-action", PROVIDER_CARE, kwargs={"pk": Ref("referral"), "action": "accept"}, post={}),
    R("referral-action", PROVIDER_CARE, kwargs={"pk": Ref("referral"), "action": "assign"}, post={"coach": Ref(COACH)}),
    R("referral-action", PRACTICE, kwargs={"pk": Ref("referral"), "action": "request-cancellation"}, post={"reason": "matrix"}),
    # -- FHIR (API keys only; no sessions) ------------------------------------------------------------
    R("fhir-base", {INTAKE_KEY}, post={}),
    R("fhir:base", {INTAKE_KEY}, post={}),
    R("fhir:bundle", {INTAKE_KEY}, post={}),
    R("fhir:task-search", REFERRER_KEYS, query={"_id": Ref("referral", "public_id")}, outsiders=EMPTY_SEARCH),
    R("fhir:task-search", REFERRER_KEYS, query={"_lastUpdated": "ge2000-01-01"}, outsiders=EMPTY_SEARCH),
    R("fhir:task", REFERRER_KEYS, kwargs={"pk": Ref("referral", "public_id")}),
    R("fhir:feedback", REFERRER_KEYS, kwargs={"pk": Ref("letter", "public_id")}),
    R("fhir:service-request", REFERRER_KEYS, kwargs={"pk": Ref("referral", "public_id")}),
    R("fhir:unsupported", NOBODY, path="/fhir/Patient/1", note="an OperationOutcome 404 for all"),
    # -- trajectories ---------------------------------------------------------------------------------
    R("caseload", PROVIDER_CARE),
    R("trajectory-detail", PATIENT_CARE, kwargs=PK),
    R("trajectory-detail", PATIENT_CARE, kwargs={"pk": Ref("escalated_trajectory")}),
    R("trajectory-action", {COACH}, kwargs={**PK, "action": "escalate"}, post=ESCALATE),
    R("trajectory-action", {PLANNER}, kwargs={**PK, "action": "reassign"}, post={"coach": Ref(COACH)}),
    R("poh-ggz-inbox", {POH_GGZ}),
    R("escalation-action", {POH_GGZ}, kwargs={"pk": Ref("escalation"), "action": "session"}, post=SESSION),
    R("group-list", {POH_GGZ, COACH}),
    R("group-create", {POH_GGZ}),
    R("group-detail", {POH_GGZ, COACH}, kwargs={"pk": Ref("group")}),
    R("group-edit", {POH_GGZ}, kwargs={"pk": Ref("group")}),
    R("group-join", {COACH}, kwargs={"pk": Ref("group")}),
    R("group-attendance", {POH_GGZ}, kwargs={"pk": Ref("group"), "meeting_pk": Ref("meeting")}),
    R("group-leave", {POH_GGZ, COACH}, kwargs={"pk": Ref("participant")}),
    R("group-sharing-consent", {COACH}, kwargs={"pk": Ref("participant")}, post={}),
    R("appointment-book", PROVIDER_CARE, kwargs={"trajectory_id": Ref("trajectory")}),
    R("appointment-cancel", PROVIDER_CARE, kwargs={"pk": Ref("appointment")}),
    R("appointment-send-confirmation", PROVIDER_CARE, kwargs={"pk": Ref("appointment")}, post={}),
    R("location-list", PATIENT_CARE),
    R("location-day", PATIENT_CARE, kwargs={"location_id": Ref("location")}),
    R("location-day", PATIENT_CARE, kwargs={"location_id": Ref("location"), "day": TODAY}),
    R("coach-agenda", {COACH}),
    R("coach-agenda", {COACH}, kwargs={"day": TODAY}),
    R("reminder-list", PROVIDER_CARE),
    # -- REST API -------------------------------------------------------------------------------------
    R("api:patient-list", PATIENT_CARE | {INTAKE_KEY}),
    R("api:coach-list", PROVIDER_CARE, note="the ids a planner's system assigns by"),
    R("api:patient-detail", PATIENT_CARE | {INTAKE_KEY}, kwargs={"id": Ref("patient", "public_id")}),
    R("api:referral-list", PATIENT_CARE | REFERRER_KEYS),
    R("api:referral-detail", PATIENT_CARE | REFERRER_KEYS, kwargs={"id": Ref("referral", "public_id")}),
    R("api:referral-accept", PROVIDER_CARE, kwargs={"id": Ref("referral", "public_id")}, post={}),
    R("api:referral-assign", PROVIDER_CARE, kwargs={"id": Ref("referral", "public_id")}, post={}),
    R("api:referral-close-unreachable", PROVIDER_CARE, kwargs={"id": Ref("referral", "public_id")}, post={}),
    R("api:referral-confirm-cancellation", PROVIDER_CARE, kwargs={"id": Ref("referral", "public_id")}, post={}),
    R("api:referral-contact-attempts", PROVIDER_CARE, kwargs={"id": Ref("referral", "public_id")}, post={}),
    R("api:referral-contact-done", PROVIDER_CARE, kwargs={"id": Ref("referral", "public_id")}, post={}),
    R("api:referral-decline", PROVIDER_CARE, kwargs={"id": Ref("referral", "public_id")}, post={}),
    R("api:referral-no-show", PROVIDER_CARE, kwargs={"id": Ref("referral", "public_id")}, post={}),
    R("api:referral-schedule-contact", PROVIDER_CARE, kwargs={"id": Ref("referral", "public_id")}, post={}),
    R("api:referral-request-cancellation", PRACTICE | {INTAKE_KEY}, kwargs={"id": Ref("referral", "public_id")}, post={}),
    R("api-not-found", NOBODY, path="/api/referrals/abc/", note="a JSON 404 for all"),
    # -- billing: invoices to the zorggroep, claims to the insurer ------------------------------------
    R("invoice-list", {ZG_ADMIN, PLANNER}),
    R("invoice-export", {ZG_ADMIN, PLANNER}),
    R("invoice-detail", {ZG_ADMIN, PLANNER}, kwargs={"pk": Ref("invoice")}),
    R("invoice-pdf", {ZG_ADMIN, PLANNER}, kwargs={"pk": Ref("invoice")}),
    R("invoice-action", {ZG_ADMIN}, kwargs={"pk": Ref("invoice"), "action": "approve"}, post={}),
    R("invoice-action", {PLANNER}, kwargs={"pk": Ref("invoice"), "action": "mark-paid"}, post={}),
    R("invoice-line-dispute", {ZG_ADMIN}, kwargs={"pk": Ref("invoice_line")}, post={"reason": "matrix"}),
    R("invoice-line-correct", {PLANNER}, kwargs={"pk": Ref("invoice_line")}, post={"amount": "1.00", "note": "matrix"}),
    R("billing-exceptions", {PLANNER}),
    R("api:claim-list", {CLAIMS_KEY}),
    R("api:claim-answers", {CLAIMS_KEY}, post={}),
    R("api:claim-detail", {CLAIMS_KEY}, kwargs={"claim_number": Ref("claim", "claim_number")}),
    R("api:claim-resubmit", {PLANNER}, kwargs={"claim_number": Ref("claim", "claim_number")}, post={}),
    R("fhir_claims:claim-search", {CLAIMS_KEY}),
    R("fhir/^Claim/$", {CLAIMS_KEY}, path="/fhir/Claim/"),
    R("fhir_claims:claim", {CLAIMS_KEY}, kwargs={"number": Ref("claim", "claim_number")}),
    R("fhir_claims:claim-response", {CLAIMS_KEY}, post={}),
    R("fhir/^Claim/(?P<number>[^/]+)/$", {CLAIMS_KEY}, kwargs={"number": Ref("claim", "claim_number")}, path="/fhir/Claim/{number}/"),
    R("fhir/^ClaimResponse/$", {CLAIMS_KEY}, post={}, path="/fhir/ClaimResponse/"),
    # -- letter campaigns (brievenactie): the practice's GP and POH-S; the answer page is public --
    R("campaign-list", CAMPAIGN_TEAM),
    R("campaign-create", CAMPAIGN_TEAM),
    R("campaign-detail", CAMPAIGN_TEAM, kwargs={"pk": Ref("campaign")}),
    R("campaign-upload", CAMPAIGN_TEAM, kwargs={"pk": Ref("campaign")}),
    R("campaign-patients", CAMPAIGN_TEAM, kwargs={"pk": Ref("campaign")}),
    R("campaign-letter", CAMPAIGN_TEAM, kwargs={"pk": Ref("campaign")}),
    R("campaign-generate", CAMPAIGN_TEAM, kwargs={"pk": Ref("campaign")}, post={}),
    R("campaign-progress", CAMPAIGN_TEAM, kwargs={"pk": Ref("campaign")}),
    R("campaign-letters-pdf", CAMPAIGN_TEAM, kwargs={"pk": Ref("campaign")}),
    R("invitee-list", CAMPAIGN_TEAM, kwargs={"pk": Ref("campaign")}),
    R("invitee-detail", CAMPAIGN_TEAM, kwargs={"pk": Ref("invitee")}),
    R("invitee-phone-answer", CAMPAIGN_TEAM, kwargs={"pk": Ref("invitee")}, post={}),
    R("invitee-refer", CAMPAIGN_TEAM, kwargs={"pk": Ref("invitee")}, post={}),
    R("invitee-letter-pdf", CAMPAIGN_TEAM, kwargs={"pk": Ref("invitee")}),
    R("campaign-answer", EVERYONE, note="the invitee's answer page: no login, rate-limited"),
    R("campaign-answer-thanks", EVERYONE, kwargs={"answer": "yes"}),
    # -- reports: aggregates; the zorggroep's own report, the provider's own figures -----------------
    R("report-home", {ZG_ADMIN, COACH, PLANNER}),
    R("report-zorggroep", {ZG_ADMIN}, kwargs={"pk": Ref("zorggroep")}),
    R("report-zorggroep-export", {ZG_ADMIN}, kwargs={"pk": Ref("zorggroep"), "table": "outcomes", "fmt": "csv"}),
    R("report-zorggroep-export", {ZG_ADMIN}, kwargs={"pk": Ref("zorggroep"), "table": "referrals", "fmt": "xlsx"}),
    R("report-provider", PROVIDER_CARE, kwargs={"pk": Ref("provider")}),
    R("report-provider-export", PROVIDER_CARE, kwargs={"pk": Ref("provider"), "table": "caseload", "fmt": "csv"}),
    # -- the privacy officer's audit pages ------------------------------------------------------------
    R("audit-log", {PRIVACY}),
    R("audit-export", {PRIVACY}),
    R("audit-chain-check", {PRIVACY}, post={}),
    R("audit-access-report", {PRIVACY}, kwargs={"patient_id": Ref("patient")}),
]
# fmt: on

# Patterns the matrix does not walk, each with the reason. Keys are URL names, or a namespace
# followed by ":*".
SKIPPED = {
    "admin:*": "Django admin: its own staff check (test_admin_refuses_people_without_staff_status)",
    "login": "the login page is for everyone",
    "logout": "logging out is for everyone",
    "two-factor": "the login's second step (tests/accounts)",
    "two-factor-setup": "the login's second step, first time (tests/accounts)",
    "set_language": "choosing the language is for everyone (i18n)",
    "healthz": "the load balancer's health check, no data",
    "api-schema": "the OpenAPI schema describes the API, no data",
    "api-docs": "Swagger UI for the schema, no data",
    "fhir:metadata": "the FHIR CapabilityStatement is public by the FHIR specification",
}
