"""What the privacy officer takes out of the log: the CSV export, a patient's access report (AVG
inzage, a Dutch PDF) and the hash-chain check. Everything here is rendered from audit rows only,
so a report shows what the log says, also about people and organisations that no longer exist.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from carechain.pdf import html_to_pdf

from .models import AuditEvent
from .queries import CHAIN_CHECK_DETAIL, last_event_id
from .services import Who, audit_record, audit_verify_chain

# -- CSV export ----------------------------------------------------------------------------------
CSV_COLUMNS = (
    "id",
    "at",
    "action",
    "channel",
    "user_id",
    "username",
    "api_key",
    "roles",
    "organisation",
    "patient_id",
    "object_type",
    "object_id",
    "detail",
    "ip",
    "patient_count",
    "object_ids",
    "hash",
)
# A cell starting with one of these is a formula to a spreadsheet (CSV injection, OWASP).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """A file-like object whose write returns the line, so csv.writer can feed a streaming response."""

    def write(self, value: str) -> str:
        return value


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def csv_lines(events: Iterable[AuditEvent]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for event in events:
        row = {name: getattr(event, name) for name in CSV_COLUMNS}
        row["at"] = timezone.localtime(event.at).isoformat()
        yield writer.writerow([_cell(row[name]) for name in CSV_COLUMNS])


def export_filename(now=None) -> str:
    return f"auditlog-{timezone.localtime(now or timezone.now()):%Y%m%d-%H%M%S}.csv"


# -- the patient's access report -----------------------------------------------------------------
PSEUDO_ROLE_LABELS = {
    "intake": gettext_lazy("referral intake system"),
    "system": gettext_lazy("system"),
}


def _who(event: AuditEvent) -> str:
    if event.username:
        return event.username
    if event.api_key:
        return _("API key %(key)s") % {"key": event.api_key}
    return _("the system itself")


def roles_text(codes: str, role_labels: Mapping[str, str]) -> str:
    labels = {**PSEUDO_ROLE_LABELS, **role_labels}
    return ", ".join(str(labels.get(code, code)) for code in codes.split(",") if code)


def access_report_rows(
    events: Iterable[AuditEvent], *, role_labels: Mapping[str, str]
) -> list[dict]:
    """Copy each access into plain text in the active language, ready for the template."""
    actions = dict(AuditEvent.Action.choices)
    channels = dict(AuditEvent.Channel.choices)
    return [
        {
            "at": timezone.localtime(event.at),
            "who": _who(event),
            "roles": roles_text(event.roles, role_labels),
            "organisation": event.organisation,
            "action": str(actions.get(event.action, event.action)),
            "channel": str(channels.get(event.channel, event.channel)),
        }
        for event in events
    ]


@dataclass(frozen=True)
class AccessReport:
    """The facts the report shows, copied before rendering (so rendering is pure)."""

    patient: Mapping[str, str]
    issuer: str
    period: tuple
    rows: list[dict]
    generated_at: object
    generated_by: str


def access_report(
    *,
    patient: Mapping[str, str],
    events: Iterable[AuditEvent],
    role_labels: Mapping[str, str],
    issuer: str,
    generated_by: str,
    period: tuple = (None, None),
) -> AccessReport:
    with translation.override("nl"):
        rows = access_report_rows(events, role_labels=role_labels)
    return AccessReport(
        patient=patient,
        issuer=issuer,
        period=period,
        rows=rows,
        generated_at=timezone.localtime(),
        generated_by=generated_by,
    )


def render_access_report_html(report: AccessReport) -> str:
    with translation.override("nl"):
        return render_to_string("audit/pdf/access_report.html", {"report": report})


def render_access_report_pdf(report: AccessReport) -> bytes:
    return html_to_pdf(render_access_report_html(report))


def access_report_filename(patient_id: int) -> str:
    return f"inzage-toegang-patient-{patient_id}.pdf"


# -- the hash-chain check ------------------------------------------------------------------------
@dataclass(frozen=True)
class ChainCheck:
    intact: bool
    rows: int
    up_to_id: int
    problems: list[str]


def chain_check(*, who: Who) -> ChainCheck:
    """Verify the whole chain now and write the outcome into the log itself.

    The outcome row is hash-chained like every other row, so the 'last check' the privacy page
    shows cannot be faked afterwards without the next check noticing.
    """
    up_to_id = last_event_id()
    problems = audit_verify_chain()
    rows = AuditEvent.objects.filter(id__lte=up_to_id).count()
    if problems:
        detail = (
            f"{CHAIN_CHECK_DETAIL}: BROKEN, {len(problems)} problem(s) in {rows} rows "
            f"up to #{up_to_id}; first: {problems[0]}"
        )
    else:
        detail = f"{CHAIN_CHECK_DETAIL}: intact, {rows} rows up to #{up_to_id}"
    checked_up_to = AuditEvent.objects.filter(pk=up_to_id).first()
    audit_record(
        who=who,
        action=AuditEvent.Action.SECURITY,
        patient_id=None,
        obj=checked_up_to,
        detail=detail,
    )
    return ChainCheck(intact=not problems, rows=rows, up_to_id=up_to_id, problems=problems)
