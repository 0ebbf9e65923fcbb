"""The audit log's detail column as readable Dutch for the privacy officer.

The stored ``detail`` stays as written (stable English technical text): the hash chain covers it,
and stored rows are never rewritten. Each known text is a code, parameterised ones are parsed by a
pattern; both are translated through Django i18n when shown, so old rows read in Dutch as well. A
text this catalogue does not know is shown as stored (``tests/audit/test_detail_catalogue.py``
walks the code for every detail it writes and fails on one this catalogue does not know).

Values inside a text that are a model's choice (a letter's kind, a claim's status) are shown with
the choice's label: the app owning the choices registers them with ``register_vocabulary`` in its
``AppConfig.ready`` (the audit log is core and never imports the rooms above it).
"""

from __future__ import annotations

import re

from django.apps import apps
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy

_ = gettext_lazy

# Transitions, as the referral and trajectory services name them.
_EXACT = {
    "accept": _("referral accepted"),
    "decline": _("referral declined"),
    "schedule_contact": _("contact scheduled"),
    "record_no_show": _("no-show recorded"),
    "record_contact_done": _("first contact done"),
    "close_unreachable": _("closed: patient unreachable"),
    "request_cancellation": _("cancellation requested"),
    "confirm_cancellation": _("cancellation confirmed"),
    "complete": _("referral completed"),
    "record_intake": _("intake recorded"),
    "start_counselling": _("counselling started"),
    "escalate": _("escalated to the POH-GGZ"),
    "return_from_escalation": _("returned from the POH-GGZ"),
    "stop_unmotivated": _("care stopped: no longer motivated"),
    "drop_out": _("care stopped: dropped out"),
    "end_treatment": _("end of treatment recorded"),
    "mark_follow_up_due": _("12-month call due"),
    "close_with_follow_up": _("12-month result recorded"),
    "assigned": _("coach assigned"),
    "reassigned": _("coach reassigned"),
    "contact": _("contact recorded"),
    "contact attempt": _("contact attempt recorded"),
    "appointment": _("appointment planned"),
    "appointment cancelled": _("appointment cancelled"),
    "appointment confirmation": _("appointment confirmation sent"),
    "POH-GGZ session": _("POH-GGZ session recorded"),
    "left relapse-prevention group": _("left the relapse-prevention group"),
    "consent: named in shared group": _("consent recorded: named in the shared group"),
    # Reads: which page or interface showed the record.
    "patient list": _("patient list"),
    "referral list": _("referral list"),
    "worklist": _("worklist"),
    "failed letters": _("failed letters"),
    "reminders": _("reminders"),
    "caseload": _("caseload"),
    "POH-GGZ inbox": _("POH-GGZ inbox"),
    "billing exceptions": _("billing exceptions"),
    "coach agenda": _("coach's agenda"),
    "location day view": _("day view of a room"),
    "appointments of the trajectory": _("appointments of the trajectory"),
    "cancel appointment": _("cancelling an appointment"),
    "relapse-prevention group": _("relapse-prevention group"),
    "relapse-prevention group attendance": _("attendance of a relapse-prevention group"),
    "relapse-prevention group: leave": _("leaving a relapse-prevention group"),
    "relapse-prevention group: may join": _("who may join a relapse-prevention group"),
    "referral form: found by BSN": _("referral form: patient found by BSN"),
    "api patient list": _("patient list via the REST API"),
    "api referral list": _("referral list via the REST API"),
    "api coach list": _("list of the provider's coaches via the REST API"),
    "api referral create: repeated external_id": _(
        "referral via the REST API sent again (same external identifier)"
    ),
    "api claim": _("claim via the REST API"),
    "api claim list": _("claim list via the REST API"),
    "FHIR Task": _("FHIR Task (referral status) read"),
    "FHIR Task search": _("FHIR Task search"),
    "FHIR ServiceRequest": _("FHIR ServiceRequest read"),
    "FHIR feedback Bundle": _("FHIR feedback document read"),
    "FHIR delivery replayed": _("FHIR delivery received again"),
    "FHIR Claim": _("FHIR Claim read"),
    "FHIR Claim search": _("FHIR Claim search"),
    "audit log search": _("audit log searched"),
    "AVG access report": _("GDPR access report"),
    "wrong username or password": _("wrong username or password"),
    "second factor passed: authenticator app set up": _(
        "second factor passed: authenticator app set up"
    ),
    # Logins (accounts.services).
    "logged in": _("logged in"),
    "password accepted; second factor next": _("password accepted; second factor next"),
    "second factor passed: authenticator app": _("second factor passed: authenticator app"),
    "second factor refused: wrong authenticator app": _(
        "second factor refused: wrong code from the authenticator app"
    ),
    "second factor refused: wrong recovery code": _("second factor refused: wrong recovery code"),
    "second factor refused: too many wrong codes (authenticator app), waiting": _(
        "second factor refused: too many wrong codes from the authenticator app, waiting"
    ),
    "second factor refused: too many wrong codes (recovery code), waiting": _(
        "second factor refused: too many wrong recovery codes, waiting"
    ),
    "two-factor set-up: the device was already confirmed or removed": _(
        "two-factor set-up: the app was already set up or removed"
    ),
    "two-factor set-up: too many wrong codes, waiting": _(
        "two-factor set-up: too many wrong codes, waiting"
    ),
    "two-factor set-up: wrong code": _("two-factor set-up: wrong code"),
    "login refused: locked after repeated failed logins": _(
        "login refused: account locked after repeated failed logins"
    ),
    "login refused: address locked after repeated failed logins": _(
        "login refused: address locked after repeated failed logins"
    ),
    # Invoices (billing.invoicing).
    "invoice sent": _("invoice sent"),
    "invoice approved": _("invoice approved"),
    "invoice paid": _("invoice paid"),
    # Letter campaigns (campaigns).
    "letter": _("campaign letter text changed"),
    "campaign letter": _("campaign letter printed"),
    "letters resumed": _("campaign letters resumed"),
    "campaign letter (batch)": _("campaign letter printed (in the batch)"),
    "campaign answers to confirm": _("campaign answers to confirm"),
}

_PATTERNS = [
    (
        r"attendance meeting (?P<number>\d+): (?P<attendance>\w+)",
        _("attendance meeting %(number)s: %(attendance)s"),
    ),
    (
        r"joined relapse-prevention group (?P<group>\d+) at meeting (?P<number>\d+)",
        _("joined relapse-prevention group %(group)s at meeting %(number)s"),
    ),
    (r"feedback letter (?P<letter_kind>\w+)", _("feedback letter: %(letter_kind)s")),
    (
        r"feedback letter (?P<letter_kind>\w+) sent again \((?P<letter_status>\w+)\)",
        _("feedback letter sent again: %(letter_kind)s (was %(letter_status)s)"),
    ),
    (
        r"second factor passed: recovery code \((?P<n>\d+) left\)",
        _("second factor passed: recovery code (%(n)s left)"),
    ),
    (
        r"locked for (?P<minutes>\d+) minutes after (?P<n>\d+) failed logins",
        _("account locked for %(minutes)s minutes after %(n)s failed logins"),
    ),
    (
        r"address locked for (?P<minutes>\d+) minutes after (?P<n>\d+) failed logins from it",
        _("address locked for %(minutes)s minutes after %(n)s failed logins from it"),
    ),
    (r"line (?P<line>\d+) disputed", _("invoice line %(line)s disputed")),
    (
        r"line (?P<line>\d+) corrected by (?P<number>\S+): (?P<note>.*)",
        _("invoice line %(line)s corrected by %(number)s: %(note)s"),
    ),
    (
        r"report zorggroep, period (?P<period>\S+) \(aggregates\)",
        _("zorggroep report, period %(period)s (totals only)"),
    ),
    (
        r"report provider, period (?P<period>\S+) \(aggregates\)",
        _("provider's caseload figures, period %(period)s (totals only)"),
    ),
    (
        r"report provider own caseload, period (?P<period>\S+) \(aggregates\)",
        _("own caseload figures, period %(period)s (totals only)"),
    ),
    (
        r"report (?P<report>\w+) export (?P<table>\w+)\.(?P<format>\w+), "
        r"period (?P<period>\S+) \(aggregates\)",
        _("report table %(table)s exported as %(format)s, period %(period)s (totals only)"),
    ),
    (r"letters started: (?P<n>\d+)", _("campaign letters started: %(n)s")),
    (r"campaign letters PDF: (?P<n>\d+) letters", _("campaign letters printed: %(n)s")),
    (
        r"campaign (?P<campaign>\d+): (?P<added>\d+) added, (?P<rows>\d+) rows",
        _("campaign list: %(added)s of %(rows)s rows added"),
    ),
    (r"campaign (?P<campaign>\d+) list", _("list of a letter campaign")),
    (
        r"campaign (?P<campaign>\d+): patients to invite",
        _("registered patients to invite to a letter campaign"),
    ),
    (r"campaign (?P<campaign>\d+): referred", _("campaign answer turned into a referral")),
    (
        r"campaign answer \(answer page\): (?P<answer>\w+)",
        _("campaign answer on the answer page: %(answer)s"),
    ),
    (r"campaign answer \(phone\): (?P<answer>\w+)", _("campaign answer by phone: %(answer)s")),
    (
        r"retention over: (?P<n>\d+) people who did not answer erased",
        _("retention period over: %(n)s people who did not answer erased"),
    ),
    (r"document (?P<document_kind>[\w-]+)", _("document received: %(document_kind)s")),
    (r"referral updated: (?P<fields>.*)", _("referral changed: %(fields)s")),
    (r"claim answered: (?P<claim_status>\w+)", _("claim answered: %(claim_status)s")),
    (
        r"claim (?P<old>\S+) corrected and resubmitted as (?P<new>\S+)",
        _("claim %(old)s corrected and resubmitted as %(new)s"),
    ),
    (r"invoice PDF (?P<number>\S+)", _("invoice PDF %(number)s")),
    (r"invoice lines CSV (?P<number>\S+)", _("invoice lines (CSV) %(number)s")),
    (r"invoice (?P<number>\S+)", _("invoice %(number)s")),
    (
        r"two-factor authentication set up: authenticator app and (?P<n>\d+) recovery codes",
        _("two-factor authentication set up: authenticator app and %(n)s recovery codes"),
    ),
    (
        r"two-factor authentication reset for (?P<user>.+)",
        _("two-factor authentication reset for %(user)s"),
    ),
    (
        r"audit log export up to #(?P<id>\d+): (?P<filters>.*)",
        _("audit log exported up to #%(id)s (%(filters)s)"),
    ),
    (
        r"hash chain check: intact, (?P<rows>\d+) rows up to #(?P<id>\d+)",
        _("hash chain check: intact, %(rows)s rows up to #%(id)s"),
    ),
    (
        r"hash chain check: BROKEN, (?P<n>\d+) problem\(s\) in (?P<rows>\d+) rows up to "
        r"#(?P<id>\d+); first: (?P<first>.*)",
        _(
            "hash chain check: BROKEN, %(n)s problem(s) in %(rows)s rows up to #%(id)s; first: %(first)s"
        ),
    ),
    (
        r"API key (?P<prefix>\S+) \((?P<purpose>\w+)\) of (?P<org>.+) made(, expires (?P<until>.+))?",
        _("API key %(prefix)s (%(purpose)s) of %(org)s made%(until)s"),
    ),
    (
        r"API key (?P<prefix>\S+) \((?P<purpose>\w+)\) of (?P<org>.+) revoked",
        _("API key %(prefix)s (%(purpose)s) of %(org)s revoked"),
    ),
    (
        r"API key (?P<prefix>\S+) \((?P<purpose>\w+)\) of (?P<org>.+) changed: (?P<fields>.*)",
        _("API key %(prefix)s (%(purpose)s) of %(org)s changed: %(fields)s"),
    ),
    (
        r"registration by (?P<agb>\d+): (?P<fields>.*) updated, (?P<policies>\d+) insurance and "
        r"(?P<enrolments>\d+) enrolment periods sent, (?P<replaced>\d+) stored periods changed",
        _(
            "registration by %(agb)s: %(fields)s updated, %(policies)s insurance and "
            "%(enrolments)s enrolment periods sent, %(replaced)s stored periods changed"
        ),
    ),
]
# Choice labels per named group of the patterns above (see register_vocabulary).
_VOCABULARIES: dict[str, dict[str, object]] = {}


def register_vocabulary(group: str, choices) -> None:
    """Show the value a pattern captured as ``group`` by its label in ``choices`` (a Django
    ``TextChoices``): ``feedback letter intake_done`` reads as "terugkoppelingsbrief: intake
    gedaan". Called from the owning app's ``AppConfig.ready``."""
    _VOCABULARIES[group] = dict(choices.choices)


_COMPILED = [(re.compile(f"^{pattern}$"), message) for pattern, message in _PATTERNS]
_NO_FIELD = pgettext_lazy("audit detail", "no field")
_NO_FILTER = pgettext_lazy("audit detail", "no filter")


def readable_object(label: str) -> str:
    """The stored object type (``carechain.user``) as the model's name in the active language
    ("gebruiker"); a model that no longer exists is shown as stored."""
    if not label:
        return ""
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        return label
    return str(model._meta.verbose_name)


def recognised(detail: str) -> bool:
    """Whether the catalogue knows the text (exactly or by a pattern)."""
    return detail in _EXACT or any(pattern.match(detail) for pattern, _message in _COMPILED)


def readable(detail: str) -> str:
    """The detail in the active language (Dutch on the privacy pages); unknown text as stored."""
    if not detail:
        return ""
    if detail in _EXACT:
        return str(_EXACT[detail])
    for pattern, message in _COMPILED:
        found = pattern.match(detail)
        if found:
            values = {
                k: str(_VOCABULARIES.get(k, {}).get(v, v or ""))
                for k, v in found.groupdict().items()
            }
            if values.get("until"):
                values["until"] = gettext(", expires %(moment)s") % {"moment": values["until"]}
            if values.get("fields") == "no field":
                values["fields"] = str(_NO_FIELD)
            if values.get("filters") == "no filter":
                values["filters"] = str(_NO_FILTER)
            return str(message) % values
    return detail
