"""The two reports put together from ``queries``: tables (suppressed for zorggroep users), the
charts drawn from those tables, and the definitions the page states."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from decimal import Decimal

from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from referrals.models import Channel

from . import charts, queries
from .periods import MONTH_NAMES, Period
from .tables import COUNT, MEDIAN, MONEY, SHARE, TEXT, TOTAL_LABEL, Column, Table


@dataclass
class Section:
    key: str
    title: str
    tables: list[Table]
    charts: list[charts.Chart] = field(default_factory=list)
    definition: str = ""
    extra: dict = field(default_factory=dict)


@dataclass
class Report:
    title: str
    period: Period
    sections: list[Section]
    suppressed: bool
    computed_at: datetime.datetime | None = None  # when the figures were computed

    def table(self, key: str) -> Table | None:
        for section in self.sections:
            for table in section.tables:
                if table.key == key:
                    return table
        return None


def _sum_rows(rows: list[dict], columns: list[Column]) -> dict:
    total = {"label": str(TOTAL_LABEL)}
    for column in columns:
        if column.kind in (COUNT, MONEY):
            total[column.key] = sum((row.get(column.key) or 0) for row in rows)
    return total


def _finish(table: Table, suppress: bool) -> Table:
    return table.suppress() if suppress else table


def _month_label(day: datetime.date) -> str:
    return date_format(day, "M y")


# -- the zorggroep --------------------------------------------------------------------------------
# The report is made in two steps: ``zorggroep_figures`` runs the queries and returns plain,
# JSON-able numbers (what ``reports.snapshots`` stores), ``zorggroep_report_from_figures`` turns
# them into tables and charts and suppresses small cells. The page always builds from the JSON
# form, whether the figures were just computed or stored by the beat, so both show the same.
FIGURES_VERSION = 1  # raise when the figures' shape changes: stored figures of another are unused


def _keyed(figures: dict) -> dict[str, dict]:
    return {str(key): dict(value) for key, value in figures.items()}


def _jsonable(figures: dict) -> dict:
    return json.loads(json.dumps(figures, cls=DjangoJSONEncoder))


def zorggroep_figures(zorggroep, period: Period, *, today: datetime.date) -> dict:
    """Every figure of the zorggroep's report for the period, as JSON-able numbers per practice
    (nothing about a patient: counts, shares' parts, medians, amounts)."""
    practices = queries.zorggroep_practices(zorggroep)
    months = period.trend_months(12)
    per_month = queries.referrals_per_month(
        months=months, practice_id__in=queries._practices_of(zorggroep)
    )
    contact_per_practice, contact_total = queries.first_contact_by_practice(
        zorggroep, period, today
    )
    outcomes = queries.outcomes_by_practice(
        zorggroep, period, today, practice_ids=[p["pk"] for p in practices]
    )
    amount, committed = queries.budget_by_month(zorggroep, period.end.year)
    figures = {
        "version": FIGURES_VERSION,
        "period": period.key,
        "today": today,
        "practices": practices,
        "referrals": _keyed(queries.referrals_by_practice_and_channel(zorggroep, period)),
        "referrals_per_month": {
            month.isoformat(): dict(counts) for month, counts in per_month.items()
        },
        "silent_practices": queries.practices_without_referrals(zorggroep, period.quarter()),
        "first_contact": {"per_practice": _keyed(contact_per_practice), "total": contact_total},
        "outcomes": _keyed(outcomes),
        "escalations": _keyed(queries.escalations_by_practice(zorggroep, period)),
        "meetings": queries.group_meetings(zorggroep, period),
        "group_participants": queries.group_participants(zorggroep, period),
        "budget": {
            "amount": amount,
            "committed": {str(month): total for month, total in committed.items()},
        },
        "payers": _keyed(queries.payers_by_practice(zorggroep, period)),
        "campaigns": _campaign_figures(zorggroep) if apps.is_installed("campaigns") else None,
    }
    return _jsonable(figures)


def zorggroep_report(zorggroep, period: Period, *, today: datetime.date, suppress: bool = True):
    """The report computed live (the page uses ``reports.snapshots``, which stores the figures)."""
    return zorggroep_report_from_figures(
        zorggroep, period, zorggroep_figures(zorggroep, period, today=today), suppress=suppress
    )


def zorggroep_report_from_figures(
    zorggroep, period: Period, figures: dict, *, suppress: bool = True, computed_at=None
) -> Report:
    practices = figures["practices"]
    sections = [
        _referrals_section(period, practices, figures, suppress),
        _first_contact_section(practices, figures["first_contact"], suppress),
        _outcomes_section(practices, figures["outcomes"], suppress),
        _escalations_section(practices, figures["outcomes"], figures["escalations"], suppress),
        _groups_section(period, figures, suppress),
        _money_section(period, practices, figures, suppress),
    ]
    if figures.get("campaigns") is not None:
        sections.append(_campaigns_section(figures["campaigns"], suppress))
    return Report(
        title=_("Report %(name)s") % {"name": zorggroep.name},
        period=period,
        sections=sections,
        suppressed=suppress,
        computed_at=computed_at,
    )


def _practice_rows(practices, figures: dict, keys) -> list[dict]:
    rows = []
    for practice in practices:
        data = figures.get(str(practice["pk"]), {})
        rows.append({"label": practice["name"], **{k: data.get(k) or 0 for k in keys}})
    return rows


CHANNEL_COLUMNS = [
    (Channel.ZORGDOMEIN, "ZorgDomein"),
    (Channel.KIS, "KIS"),
    (Channel.WEB, None),
    (Channel.API, None),
]


def _channel_columns() -> list[Column]:
    columns = [
        Column(str(c), label or str(Channel(c).label), part_of="total")
        for c, label in CHANNEL_COLUMNS
    ]
    return [*columns, Column("total", _("Total"))]


def _referrals_section(period, practices, figures, suppress) -> Section:
    by_practice = figures["referrals"]
    columns = _channel_columns()
    rows = []
    for practice in practices:
        counts = by_practice.get(str(practice["pk"]), {})
        row = {"label": practice["name"], **{str(c): counts.get(c, 0) for c, _l in CHANNEL_COLUMNS}}
        row["total"] = sum(counts.values())
        rows.append(row)
    table = _finish(
        Table(
            "referrals",
            _("Referrals per practice and channel"),
            _("Practice"),
            columns,
            rows,
            _sum_rows(rows, columns),
        ),
        suppress,
    )
    months = period.trend_months(12)
    per_month = {
        datetime.date.fromisoformat(month): counts
        for month, counts in figures["referrals_per_month"].items()
    }
    month_table = _month_table(months, per_month, suppress)
    quarter = period.quarter()
    silent = figures["silent_practices"]
    return Section(
        "referrals",
        _("Referrals"),
        [table, month_table],
        [_month_chart(month_table, months, _("Referrals per month and channel"))],
        definition=_(
            "A referral counts in the month it was received. The chart shows the 12 months up to "
            "the end of the chosen period."
        ),
        extra={"silent_practices": silent, "quarter": quarter},
    )


def _month_table(months, per_month, suppress, key="referrals_month") -> Table:
    columns = _channel_columns()
    rows = []
    for month in months:
        counts = per_month.get(month, {})
        row = {
            "label": _month_label(month),
            **{str(c): counts.get(c, 0) for c, _l in CHANNEL_COLUMNS},
        }
        row["total"] = sum(counts.values())
        rows.append(row)
    return _finish(
        Table(
            key,
            _("Referrals per month"),
            _("Month"),
            columns,
            rows,
            _sum_rows(rows, columns) | {"label": _("12 months")},
        ),
        suppress,
    )


def _month_chart(table: Table, months, title) -> charts.Chart:
    series = []
    for c, label in CHANNEL_COLUMNS:
        values = [table.value(i, str(c)) for i in range(len(months))]
        if any(v for v in values) or any(v is None for v in values):
            series.append((label or str(Channel(c).label), values))
    if not series:
        series = [(_("Total"), [0] * len(months))]
    return charts.bar_chart(
        id=f"chart-{table.key}",
        title=title,
        description=_("Stacked bars: referrals per month, one colour per channel."),
        x_label=_("Month"),
        y_label=_("Referrals"),
        categories=[_month_label(m) for m in months],
        series=series,
    )


def _first_contact_columns() -> list[Column]:
    return [
        Column("measured", _("Referrals to contact")),
        Column("contacted", _("Contacted"), part_of="measured"),
        Column("within_target", _("Within 2 working days"), part_of="contacted"),
        Column("late", _("Later"), part_of="contacted"),
        Column("not_contacted", _("Not contacted, overdue"), part_of="measured"),
        Column(
            "share_within",
            _("Share within target"),
            SHARE,
            numerator="within_target",
            denominator="measured",
        ),
        Column(
            "median_hours",
            _("Median time to first contact"),
            MEDIAN,
            denominator="contacted",
            unit=_("hours"),
        ),
    ]


def _contact_row(label, figures) -> dict:
    row = {"label": label}
    for key in ("within_target", "late", "not_contacted"):
        row[key] = figures.get(key) or 0
    row["contacted"] = row["within_target"] + row["late"]
    row["measured"] = row["contacted"] + row["not_contacted"]
    row["median_hours"] = figures.get("median_hours")
    return row


def _first_contact_section(practices, first_contact, suppress) -> Section:
    per_practice, total = first_contact["per_practice"], first_contact["total"]
    rows = [_contact_row(p["name"], per_practice.get(str(p["pk"]), {})) for p in practices]
    table = _finish(
        Table(
            "first_contact",
            _("Time from referral to first contact"),
            _("Practice"),
            _first_contact_columns(),
            rows,
            _contact_row(str(TOTAL_LABEL), total),
        ),
        suppress,
    )
    labels = [r["label"] for r in rows] + [str(TOTAL_LABEL)]
    values = [table.value(i, "share_within") for i in range(len(labels))]
    chart = charts.hbar_chart(
        id="chart-first-contact",
        title=_("Share of referrals contacted within 2 working days"),
        description=_("One bar per practice and one for the zorggroep total, in percent."),
        x_label=_("Share within target (%)"),
        y_label=_("Practice"),
        categories=labels,
        values=values,
    )
    return Section(
        "first_contact",
        _("Time to first contact"),
        [table],
        [chart],
        definition=_(
            "Target: the coach contacts the patient within 2 working days after the referral was "
            "received (weekends and Dutch public holidays do not count). Counted: the referrals "
            "received in the period that were contacted, and those not contacted whose 2 working "
            "days have passed (these count as not within target). Declined and cancelled "
            "referrals, and those still within their 2 days, are left out. The median is taken "
            "over the contacted referrals, in clock hours from receipt to first contact."
        ),
    )


def _outcome_columns() -> list[Column]:
    return [
        Column("started", _("Started (intake)")),
        Column("ended", _("Ended")),
        Column("end_of_treatment", _("End of treatment"), part_of="ended"),
        Column("stopped", _("Stopped (not motivated)"), part_of="ended"),
        Column("dropped_out", _("Dropped out"), part_of="ended"),
        Column("quit_self_reported", _("Smoke-free, self-reported")),
        Column(
            "share_quit",
            _("Quit rate, self-reported"),
            SHARE,
            numerator="quit_self_reported",
            denominator="ended",
        ),
        Column("quit_co_validated", _("Smoke-free, CO-validated")),
        Column(
            "share_quit_co",
            _("Quit rate, CO-validated"),
            SHARE,
            numerator="quit_co_validated",
            denominator="ended",
        ),
    ]


def _follow_up_columns() -> list[Column]:
    return [
        Column("follow_up_count", _("12-month calls due")),
        Column("follow_up_quit", _("Smoke-free, self-reported")),
        Column(
            "share_follow_up",
            _("Quit rate, self-reported"),
            SHARE,
            numerator="follow_up_quit",
            denominator="follow_up_count",
        ),
        Column("follow_up_co_validated", _("Smoke-free, CO-validated")),
        Column(
            "share_follow_up_co",
            _("Quit rate, CO-validated"),
            SHARE,
            numerator="follow_up_co_validated",
            denominator="follow_up_count",
        ),
        Column("follow_up_not_reached", _("Not reached or not recorded")),
    ]


RUSSELL_DEFINITION = gettext_lazy(
    "Russell Standard: smoke-free means at most 5 cigarettes since two weeks after the quit date, "
    "as the patient reports it to the coach (self-reported); CO-validated means smoke-free and an "
    "exhaled CO below 10 ppm measured at that moment. Everyone who ended in the period counts in "
    "the denominator: whoever stopped, dropped out, was not reached or was not measured counts as "
    "smoking. At 12 months: the trajectories whose follow-up call was due in the period (and is "
    "due by today); a call not made or a patient not reached counts as smoking."
)


def _outcomes_section(practices, outcomes, suppress) -> Section:
    columns = _outcome_columns()
    keys = [c.key for c in columns if c.kind == COUNT]
    rows = _practice_rows(practices, outcomes, keys)
    table = _finish(
        Table(
            "outcomes",
            _("Trajectory outcomes"),
            _("Practice"),
            columns,
            rows,
            _sum_rows(rows, columns),
        ),
        suppress,
    )
    fcolumns = _follow_up_columns()
    fkeys = [c.key for c in fcolumns if c.kind == COUNT]
    frows = _practice_rows(practices, outcomes, fkeys)
    follow_up = _finish(
        Table(
            "follow_up",
            _("Quit at the 12-month call"),
            _("Practice"),
            fcolumns,
            frows,
            _sum_rows(frows, fcolumns),
        ),
        suppress,
    )
    total = len(rows)
    shown = [
        ("started", _("Started")),
        ("ended", _("Ended")),
        ("quit_self_reported", _("Smoke-free")),
        ("quit_co_validated", _("CO-validated")),
        ("stopped", _("Stopped")),
        ("dropped_out", _("Dropped out")),
    ]
    chart = charts.bar_chart(
        id="chart-outcomes",
        title=_("Trajectory outcomes, zorggroep total"),
        description=_("One bar per outcome for all practices together."),
        x_label=_("Outcome"),
        y_label=_("Trajectories"),
        categories=[str(label) for _k, label in shown],
        series=[(_("Trajectories"), [table.value(total, k) for k, _l in shown])],
    )
    return Section(
        "outcomes",
        _("Outcomes and quit rates"),
        [table, follow_up],
        [chart],
        definition=str(RUSSELL_DEFINITION),
    )


def _escalation_columns() -> list[Column]:
    return [
        Column("in_care", _("Trajectories in care")),
        Column("escalated", _("Escalated to the POH-GGZ")),
        Column(
            "share_escalated",
            _("Share escalated"),
            SHARE,
            numerator="escalated",
            denominator="in_care",
        ),
        Column("referrers", _("Referring POH-S")),
        Column("referrers_escalating", _("POH-S with an escalation")),
        Column(
            "share_referrers",
            _("Share of POH-S"),
            SHARE,
            numerator="referrers_escalating",
            denominator="referrers",
        ),
    ]


def _escalation_outcome_columns() -> list[Column]:
    return [
        Column("escalations", _("Escalations started")),
        Column("returned", _("Returned to the coach"), part_of="escalations"),
        Column("care_stopped", _("Care stopped"), part_of="escalations"),
        Column("open", _("Still with the POH-GGZ"), part_of="escalations"),
    ]


def _escalations_section(practices, outcomes, esc, suppress) -> Section:
    columns = _escalation_columns()
    rows = _practice_rows(practices, outcomes, [c.key for c in columns if c.kind == COUNT])
    table = _finish(
        Table(
            "escalations",
            _("Escalation to the POH-GGZ"),
            _("Practice"),
            columns,
            rows,
            _sum_rows(rows, columns),
            rows_add_up=False,  # a POH-S referring for two practices counts in both
        ),
        suppress,
    )
    ocolumns = _escalation_outcome_columns()
    orows = _practice_rows(practices, esc, [c.key for c in ocolumns])
    outcome_table = _finish(
        Table(
            "escalation_outcomes",
            _("Outcome of the escalations"),
            _("Practice"),
            ocolumns,
            orows,
            _sum_rows(orows, ocolumns),
        ),
        suppress,
    )
    with_escalation = sum(1 for r in rows if r["escalated"])
    practice_count = len(rows)
    labels = [r["label"] for r in rows] + [str(TOTAL_LABEL)]
    chart = charts.hbar_chart(
        id="chart-escalations",
        title=_("Share of referring POH-S whose patients were escalated"),
        description=_("One bar per practice and one for the zorggroep total, in percent."),
        x_label=_("Share of POH-S (%)"),
        y_label=_("Practice"),
        categories=labels,
        values=[table.value(i, "share_referrers") for i in range(len(labels))],
    )
    return Section(
        "escalations",
        _("Escalations to the POH-GGZ"),
        [table, outcome_table],
        [chart],
        definition=_(
            "Share escalated: trajectories with an escalation to the POH-GGZ that started in the "
            "period, of all trajectories in care during the period (intake before the end of the "
            "period, not ended before its start). POH-S: the person who referred the patient (the "
            "account that referred in the browser, or the referrer named by ZorgDomein or KIS), "
            "counted per practice; the share of POH-S is the share of them with at least one "
            "patient escalated in the period. The coach decides on an escalation; we count it "
            "with the POH-S who referred, because the zorggroep steers on its practices. "
            "Escalation outcomes: the escalations started in the period, by where they stand now."
        ),
        extra={
            "practices_with_escalation": with_escalation,
            "practice_count": practice_count,
            "practice_share": (
                number_format(100 * with_escalation / practice_count, 0) + "%"
                if practice_count
                else "–"
            ),
        },
    )


def _groups_section(period, figures, suppress) -> Section:
    meetings = figures["meetings"]
    participants = figures["group_participants"]
    columns = [
        Column("theme", _("Theme"), TEXT),
        Column("enrolled", _("Participants")),
        Column("present", _("Present")),
        Column("absent_notice", _("Absent with notice")),
        Column("no_show", _("No-show")),
        Column(
            "share_present",
            _("Attendance"),
            SHARE,
            numerator="present",
            denominator="enrolled",
        ),
    ]
    rows = [
        {
            "label": f"{m['practice']}, {m['location']} · {m['number']} "
            f"({date_format(datetime.datetime.fromisoformat(m['starts_at']), 'SHORT_DATE_FORMAT')})",
            **{k: m[k] for k in ("theme", "enrolled", "present", "absent_notice", "no_show")},
        }
        for m in meetings
    ]
    table = _finish(
        Table(
            "groups",
            _("Relapse-prevention groups: attendance per meeting"),
            _("Meeting"),
            columns,
            rows,
            _sum_rows(rows, columns) | {"label": _("All meetings"), "theme": ""},
        ),
        suppress,
    )
    summary_columns = [
        Column("groups", _("Groups"), TEXT),  # groups, not patients: never suppressed
        Column("participants", _("Participants")),
        Column("active", _("Still taking part")),
    ]
    summary_row = {"label": str(period.start.year), **participants}
    summary = _finish(
        Table(
            "group_participants",
            _("Participants of the relapse-prevention groups"),
            _("Year"),
            summary_columns,
            [summary_row],
            None,
        ),
        suppress,
    )
    chart = charts.bar_chart(
        id="chart-groups",
        title=_("Present per group meeting"),
        description=_("One bar per meeting in the period: participants present."),
        x_label=_("Meeting"),
        y_label=_("Participants present"),
        categories=[f"{m['number']}" for m in meetings] or [""],
        series=[(_("Present"), [table.value(i, "present") for i in range(len(rows))] or [0])],
    )
    return Section(
        "groups",
        _("Relapse-prevention groups"),
        [summary, table],
        [chart] if meetings else [],
        definition=_(
            "Meetings of the POH-GGZ's relapse-prevention groups at the zorggroep's practices in "
            "the period. Participants of a meeting: those who had joined the group by that "
            "meeting. The groups' participants count per year."
        ),
    )


def _money_section(period, practices, figures, suppress) -> Section:
    year = period.end.year
    budget_figures = figures["budget"]
    amount = None if budget_figures["amount"] is None else Decimal(budget_figures["amount"])
    per_month = budget_figures["committed"]
    rows, running = [], Decimal("0")
    cumulative = []
    for month in range(1, 13):
        committed = Decimal(per_month.get(str(month)) or "0")
        running += committed
        share = number_format(running * 100 / amount, 1) + "%" if amount else "–"
        rows.append(
            {
                "label": f"{MONTH_NAMES[month - 1]} {year}",
                "committed": committed,
                "cumulative": running,
                "share": share,
            }
        )
        cumulative.append(running if datetime.date(year, month, 1) <= period.end else None)
    columns = [
        Column("committed", _("Invoiced in the month"), MONEY),
        Column("cumulative", _("Used so far"), MONEY),
        Column("share", _("Share of the year's budget"), TEXT),
    ]
    budget = Table(
        "budget",
        _("Ketenzorg budget used per month"),
        _("Month"),
        columns,
        rows,
        {
            "label": _("Budget %(year)s") % {"year": year},
            "committed": None,
            "cumulative": amount,
            "share": "100%" if amount else "–",
        },
        rows_add_up=False,
    )
    references = []
    if amount:
        references = [
            (amount * Decimal("0.8"), _("%(share)s of the budget") % {"share": "80%"}),
            (amount, _("%(share)s: budget %(year)s") % {"share": "100%", "year": year}),
        ]
    chart = charts.line_chart(
        id="chart-budget",
        title=_("Ketenzorg budget %(year)s: used so far") % {"year": year},
        description=_(
            "The amount invoiced to the zorggroep so far this year, month by month, against the lines at 80 and 100 percent of the year's budget."
        ),
        x_label=_("Month"),
        y_label=_("Euro"),
        categories=[date_format(datetime.date(year, m, 1), "M") for m in range(1, 13)],
        values=cumulative,
        references=references,
    )
    pcolumns = [
        Column("ended", _("Ended trajectories")),
        Column("invoiced", _("Invoiced to the zorggroep")),
        Column("claimed", _("Claimed from insurers")),
        Column("claim_accepted", _("Claims accepted")),
        Column("claim_rejected", _("Claims rejected")),
    ]
    prows = _practice_rows(practices, figures["payers"], [c.key for c in pcolumns])
    payer_table = _finish(
        Table(
            "payers",
            _("Invoiced and claimed (counts)"),
            _("Practice"),
            pcolumns,
            prows,
            _sum_rows(prows, pcolumns),
        ),
        suppress,
    )
    return Section(
        "money",
        _("Money"),
        [budget, payer_table],
        [chart],
        definition=_(
            "Budget used: invoice lines of invoices sent to the zorggroep (and later), credits "
            "included, in the month the care ended, as on the invoice pages. Invoiced and "
            "claimed: the trajectories that ended in the period, by who pays: the zorggroep "
            "(ketenzorg) or the insurer. Counts only: the amounts insurers pay stay with the "
            "provider."
        ),
        extra={"budget_amount": amount, "year": year},
    )


CAMPAIGN_STEPS = [
    ("sent", gettext_lazy("Sent")),
    ("answered", gettext_lazy("Answered")),
    ("referred", gettext_lazy("Referred")),
    ("started", gettext_lazy("Started")),
    ("quit", gettext_lazy("Quit")),
]


def _campaign_figures(zorggroep) -> list[dict]:
    """Integration point for the letter campaign (brievenactie), app ``campaigns``: its
    ``campaigns.queries.campaign_funnels_for_zorggroep(zorggroep)`` gives one dict per campaign
    with ``practice``, ``campaign`` and the counts ``sent``, ``answered``, ``referred``,
    ``started`` and ``quit``."""
    from campaigns.queries import campaign_funnels_for_zorggroep

    return [
        {
            "label": f"{f['practice']}: {f['campaign']}",
            **{k: int(f.get(k) or 0) for k, _l in CAMPAIGN_STEPS},
        }
        for f in campaign_funnels_for_zorggroep(zorggroep)
    ]


def _campaigns_section(campaigns: list[dict], suppress: bool = True) -> Section:
    """Counts of people, so suppressed like every other count."""
    columns = [Column(key, label) for key, label in CAMPAIGN_STEPS]
    rows = [dict(row) for row in campaigns]
    table = _finish(
        Table(
            "campaigns",
            _("Letter campaigns: from letter to quitting"),
            _("Campaign"),
            columns,
            rows,
            _sum_rows(rows, columns),
            rows_add_up=True,
        ),
        suppress,
    )
    chart = charts.bar_chart(
        id="chart-campaigns",
        title=_("Letter campaigns of the zorggroep's practices: the funnel"),
        description=_("One bar per step, all campaigns together."),
        x_label=_("Step"),
        y_label=_("People"),
        categories=[str(label) for _k, label in CAMPAIGN_STEPS],
        series=[(_("People"), [table.value(len(rows), k) for k, _l in CAMPAIGN_STEPS])],
    )
    return Section(
        "campaigns",
        _("Letter campaigns"),
        [table],
        [chart],
        definition=_(
            "The letter campaigns (brievenactie) of the zorggroep's practices: letters sent, "
            "people who answered, were referred, started a trajectory and quit."
        ),
    )


# -- the provider ---------------------------------------------------------------------------------
def provider_report(provider, coaches, period: Period, *, today, coach_id=None) -> Report:
    """Caseload figures per coach: for the planner all coaches, for a coach only their own."""
    referrals = queries.provider_referrals_by_coach(provider.pk, period, today, coach_id)
    trajectories = queries.provider_trajectories_by_coach(provider.pk, period, today, coach_id)
    people = [(c.pk, str(c)) for c in coaches]
    if coach_id is None and (None in referrals or None in trajectories):
        people.append((None, _("Not assigned to a coach")))
    caseload_columns = [
        Column("new", _("New referrals")),
        Column("waiting", _("Not yet accepted")),
        Column("overdue_first_contact", _("First contact overdue")),
        Column("in_progress", _("In progress")),
        Column("calls_due", _("12-month calls due")),
    ]
    rows = []
    for pk, name in people:
        r, t = referrals.get(pk, {}), trajectories.get(pk, {})
        rows.append(
            {
                "label": name,
                **{c.key: (r.get(c.key) or t.get(c.key) or 0) for c in caseload_columns},
            }
        )
    total = _sum_rows(rows, caseload_columns) | {"label": _("Provider total")}
    caseload = Table(
        "caseload",
        _("Caseload per coach"),
        _("Coach"),
        caseload_columns,
        rows,
        total if coach_id is None else None,
    )
    outcome_columns = [c for c in _outcome_columns()] + [
        c
        for c in _follow_up_columns()
        if c.key in ("follow_up_count", "follow_up_quit", "share_follow_up")
    ]
    orows = []
    for pk, name in people:
        t = trajectories.get(pk, {})
        orows.append(
            {
                "label": name,
                **{c.key: t.get(c.key) or 0 for c in outcome_columns if c.kind == COUNT},
            }
        )
    outcomes = Table(
        "coach_outcomes",
        _("Outcomes per coach"),
        _("Coach"),
        outcome_columns,
        orows,
        (_sum_rows(orows, outcome_columns) | {"label": _("Provider total")})
        if coach_id is None
        else None,
    )
    months = period.trend_months(12)
    scope = {"provider_id": provider.pk}
    if coach_id is not None:
        scope["coach_id"] = coach_id
    month_table = _month_table(
        months, queries.referrals_per_month(months=months, **scope), False, key="provider_month"
    )
    labels = [r["label"] for r in orows]
    quit_chart = charts.hbar_chart(
        id="chart-coach-quit",
        title=_("Quit rate at the end of treatment per coach (self-reported)"),
        description=_(
            "One bar per coach, in percent of the trajectories that ended in the period."
        ),
        x_label=_("Quit rate (%)"),
        y_label=_("Coach"),
        categories=labels,
        values=[outcomes.value(i, "share_quit") for i in range(len(labels))],
    )
    return Report(
        title=_("Caseload figures %(name)s") % {"name": provider.name},
        period=period,
        sections=[
            Section(
                "caseload",
                _("Caseload"),
                [caseload],
                definition=_(
                    "New referrals: received in the period. Not yet accepted, first contact "
                    "overdue (more than 2 working days after receipt), in progress (intake to "
                    "counselling and with the POH-GGZ) and 12-month calls due (within 7 days or "
                    "overdue): as of today."
                ),
            ),
            Section(
                "coach_outcomes",
                _("Outcomes"),
                [outcomes],
                [quit_chart],
                definition=str(RUSSELL_DEFINITION),
            ),
            Section(
                "provider_month",
                _("Referrals per month"),
                [month_table],
                [_month_chart(month_table, months, _("Referrals per month and channel"))],
            ),
        ],
        suppressed=False,
    )
