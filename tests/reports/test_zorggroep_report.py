"""The zorggroep report: its figures follow the definitions on the page, small cells are hidden,
every view and export is an audited aggregate read, and no one else gets in."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from openpyxl import load_workbook

from audit.models import AuditEvent
from billing.models import KetenzorgBudget
from carechain.models import Role
from pathways.models import Escalation
from reports import build, queries
from reports.periods import parse_period
from tests import factories
from tests.reports.support import referral, trajectory

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 11, 3)  # a Tuesday
Q4 = "2026-Q4"
TODAY = datetime.datetime(2026, 12, 20, 12, tzinfo=datetime.UTC)


def _url(chain, **query):
    url = reverse("report-zorggroep", args=[chain.zorggroep.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def _export(chain, table, fmt, period=Q4):
    args = [chain.zorggroep.pk, table, fmt]
    return reverse("report-zorggroep-export", args=args) + f"?period={period}"


def _quitters(practice, coach, n, **fields):
    values = {
        "state": "closed",
        "intake_date": DAY,
        "end_date": DAY,
        "end_result": "smoke_free",
        "end_co_ppm": 3,
    } | fields
    return [trajectory(practice, coach=coach, **values) for _ in range(n)]


@time_machine.travel(TODAY)
def test_first_contact_within_two_working_days_share_and_median(chain):
    # received Tuesday 10:00: due Thursday. 4 h and 50 h are within, 80 h is late; one not
    # contacted and overdue; one declined (left out); one from another zorggroep (left out).
    for hours in (4, 50, 80):
        referral(chain.practice_a, received=DAY, contact_after_hours=hours)
    referral(chain.practice_a, received=DAY)
    referral(chain.practice_a, received=DAY, state="declined")
    referral(chain.practice_other_zorggroep, received=DAY, contact_after_hours=1)
    per_practice, total = queries.first_contact_by_practice(
        chain.zorggroep, parse_period(Q4), datetime.date(2026, 12, 20)
    )
    figures = per_practice[chain.practice_a.pk]
    assert (figures["within_target"], figures["late"], figures["not_contacted"]) == (2, 1, 1)
    assert figures["measured"] == 4
    assert figures["median_hours"] == pytest.approx(50.0)
    assert total["measured"] == 4


@time_machine.travel(TODAY)
def test_russell_standard_counts_dropouts_and_unmeasured_as_smoking(chain, coach):
    _quitters(chain.practice_a, coach, 3, end_co_ppm=4)  # CO-validated
    _quitters(chain.practice_a, coach, 1, end_co_ppm=None)  # smoke-free, not measured
    _quitters(chain.practice_a, coach, 1, end_co_ppm=12)  # smoke-free said, CO too high
    _quitters(chain.practice_a, coach, 1, end_result="smoking", end_co_ppm=25)
    trajectory(chain.practice_a, coach=coach, state="dropped_out", intake_date=DAY, end_date=DAY)
    trajectory(
        chain.practice_a, coach=coach, state="stopped_unmotivated", intake_date=DAY, end_date=DAY
    )
    row = queries.outcomes_by_practice(chain.zorggroep, parse_period(Q4), TODAY.date())[
        chain.practice_a.pk
    ]
    assert row["ended"] == 8
    assert (row["end_of_treatment"], row["stopped"], row["dropped_out"]) == (6, 1, 1)
    assert row["quit_self_reported"] == 5
    assert row["quit_co_validated"] == 3


@time_machine.travel(TODAY)
def test_twelve_month_call_not_reached_or_not_made_counts_as_smoking(chain, coach):
    due = {"state": "closed", "intake_date": DAY.replace(year=2025), "follow_up_due": DAY}
    trajectory(
        chain.practice_a, coach=coach, follow_up_result="smoke_free", follow_up_co_ppm=5, **due
    )
    trajectory(chain.practice_a, coach=coach, follow_up_result="smoke_free", **due)
    trajectory(chain.practice_a, coach=coach, follow_up_result="not_reached", **due)
    trajectory(chain.practice_a, coach=coach, **(due | {"state": "follow_up_due"}))
    row = queries.outcomes_by_practice(chain.zorggroep, parse_period(Q4), TODAY.date())[
        chain.practice_a.pk
    ]
    assert row["follow_up_count"] == 4
    assert row["follow_up_quit"] == 2
    assert row["follow_up_co_validated"] == 1
    assert row["follow_up_not_reached"] == 2


@time_machine.travel(TODAY)
def test_share_of_poh_s_whose_patients_were_escalated_counts_the_referrers(chain, coach):
    poh_1, poh_2 = (factories.member(Role.POH_S, chain.practice_a) for _ in range(2))
    in_care = {"state": "counselling", "intake_date": DAY}
    escalated = trajectory(chain.practice_a, coach=coach, **in_care)
    escalated.referral.referred_by = poh_1
    escalated.referral.save()
    for poh in (poh_1, poh_2):
        t = trajectory(chain.practice_a, coach=coach, **in_care)
        t.referral.referred_by = poh
        t.referral.save()
    Escalation.objects.create(
        trajectory=escalated,
        practice=chain.practice_a,
        reason="thoughts",
        explanation="x",
        created_by=coach,
        status="returned",
        created_at=TODAY - datetime.timedelta(days=10),
    )
    row = queries.outcomes_by_practice(chain.zorggroep, parse_period(Q4), TODAY.date())[
        chain.practice_a.pk
    ]
    assert (row["in_care"], row["escalated"]) == (3, 1)
    assert (row["referrers"], row["referrers_escalating"]) == (2, 1)
    outcomes = queries.escalations_by_practice(chain.zorggroep, parse_period(Q4))
    assert outcomes[chain.practice_a.pk]["returned"] == 1


@time_machine.travel(TODAY)
def test_page_hides_small_cells_and_states_the_rules(client, chain, coach, zorggroep_admin):
    _quitters(chain.practice_a, coach, 6)
    _quitters(chain.practice_b, coach, 2)
    client.force_login(zorggroep_admin)
    page = client.get(_url(chain, period=Q4))
    assert page.status_code == 200
    html = page.content.decode()
    assert "&lt; 5" in html
    assert 'id="privacy-rule"' in html
    assert "10 ppm" in html  # the Russell Standard definition is on the page
    assert "<svg" in html and "<title" in html
    for t in chain.practice_a.trajectories.select_related("patient"):
        assert t.patient.last_name not in html
    report = build.zorggroep_report(chain.zorggroep, parse_period(Q4), today=TODAY.date())
    outcomes = report.table("outcomes")
    texts = {r["label"]: [c.text for c in cells] for r, cells in outcomes.body()}
    assert texts["Praktijk B"][0] == "< 5"
    assert texts["Praktijk A"][0] == "×"  # the complement: 8 total minus A would give B


@time_machine.travel(TODAY)
def test_view_and_exports_are_audited_as_aggregate_reads(client, chain, coach, zorggroep_admin):
    _quitters(chain.practice_a, coach, 2)
    client.force_login(zorggroep_admin)
    before = AuditEvent.objects.count()
    assert client.get(_url(chain, period=Q4)).status_code == 200
    csv = client.get(_export(chain, "outcomes", "csv"))
    xlsx = client.get(_export(chain, "referrals", "xlsx"))
    assert csv.status_code == xlsx.status_code == 200
    events = list(AuditEvent.objects.order_by("id")[before:])
    assert [e.action for e in events] == ["view", "export", "export"]
    assert all(e.patient_id is None for e in events)
    assert all(e.object_type == "carechain.zorggroep" for e in events)
    assert events[0].detail.startswith("report zorggroep, period 2026-Q4")
    assert "outcomes.csv" in events[1].detail and "referrals.xlsx" in events[2].detail


@time_machine.travel(TODAY)
def test_csv_and_xlsx_keep_small_cells_hidden(client, chain, coach, zorggroep_admin):
    _quitters(chain.practice_a, coach, 3)
    client.force_login(zorggroep_admin)
    text = client.get(_export(chain, "outcomes", "csv")).content.decode("utf-8-sig")
    assert "Praktijk A;< 5;< 5" in text
    workbook = load_workbook(io.BytesIO(client.get(_export(chain, "outcomes", "xlsx")).content))
    values = [c for row in workbook.active.iter_rows(values_only=True) for c in row]
    assert "< 5" in values and 3 not in values


@time_machine.travel(TODAY)
def test_practices_that_referred_nobody_this_quarter_are_listed(client, chain, zorggroep_admin):
    referral(chain.practice_a, received=DAY)
    client.force_login(zorggroep_admin)
    html = client.get(_url(chain, period="2026-11")).content.decode()
    silent = html.split('id="silent-practices"')[1].split("</section>")[0]
    assert "Praktijk B" in silent and "Praktijk A" not in silent


@time_machine.travel(TODAY)
def test_budget_per_month_against_the_years_budget(chain, coach):
    from tests.reports.test_support_billing import committed_line

    KetenzorgBudget.objects.create(zorggroep=chain.zorggroep, year=2026, amount=Decimal("1000"))
    committed_line(chain, coach, end_date=datetime.date(2026, 3, 5), amount=Decimal("300"))
    committed_line(chain, coach, end_date=datetime.date(2026, 11, 5), amount=Decimal("550"))
    amount, per_month = queries.budget_by_month(chain.zorggroep, 2026)
    assert amount == Decimal("1000")
    assert per_month == {3: Decimal("300"), 11: Decimal("550")}
    report = build.zorggroep_report(chain.zorggroep, parse_period(Q4), today=TODAY.date())
    budget = report.table("budget")
    november = [c.text for c in budget.cells(10)]
    assert november[1] == "€ 850,00" and november[2] == "85,0%"
    chart = next(s for s in report.sections if s.key == "money").charts[0]
    assert len([line for line in chart.lines if line["cls"] == "reference"]) == 2


def test_bad_period_is_a_message_on_the_page_and_a_400_for_an_export(
    client, chain, zorggroep_admin
):
    client.force_login(zorggroep_admin)
    page = client.get(_url(chain, period="2026-Q7"))
    assert page.status_code == 200
    assert "2026-Q7" in page.content.decode()
    assert client.get(_export(chain, "outcomes", "csv", period="x")).status_code == 400
    assert client.get(_export(chain, "nonsense", "csv")).status_code == 404
    assert client.get(_export(chain, "outcomes", "pdf")).status_code == 404


@pytest.mark.parametrize("who", ["poh", "gp", "insurer_user", "coach"])
def test_people_outside_the_zorggroep_management_are_refused(client, chain, who, request):
    client.force_login(request.getfixturevalue(who))
    assert client.get(_url(chain)).status_code == 403
    assert client.get(_export(chain, "outcomes", "csv")).status_code == 403


def test_the_admin_of_another_zorggroep_gets_a_404(client, chain):
    other = factories.member(Role.ZORGGROEP_ADMIN, chain.practice_other_zorggroep.zorggroep)
    client.force_login(other)
    assert client.get(_url(chain)).status_code == 404
    assert client.get(_export(chain, "outcomes", "csv")).status_code == 404


def _data(chain, coach, n):
    for i in range(n):
        practice = chain.practice_a if i % 2 else chain.practice_b
        t = trajectory(practice, coach=coach, state="counselling", intake_date=DAY)
        Escalation.objects.create(
            trajectory=t,
            practice=practice,
            reason="thoughts",
            explanation="x",
            created_by=coach,
            created_at=TODAY - datetime.timedelta(days=5),
        )
        referral(practice, received=DAY, channel="kis", contact_after_hours=3 + i)


@time_machine.travel(TODAY)
def test_the_page_runs_the_same_queries_for_2_or_20_trajectories(
    client, chain, coach, zorggroep_admin, django_assert_num_queries
):
    from reports.models import ReportSnapshot

    client.force_login(zorggroep_admin)
    # session, user, OTP device, memberships, the zorggroep (5); the stored figures (1); the audit
    # row: savepoint, last hash, insert, release (4), on PostgreSQL also the chain's advisory lock
    # (1); the session saved: savepoint, update, release (3)
    stored = 14 if connection.vendor == "postgresql" else 13
    # no fresh figures: also computed: practices, referrals per practice and channel, per month,
    # silent practices, first contact per practice and total, outcomes, escalations, meetings,
    # participants, budget, committed per month, payers, the letter campaigns' funnels (14), and
    # stored (1)
    computed = stored + 15
    for n in (2, 18):
        _data(chain, coach, n)
        ReportSnapshot.objects.all().delete()
        with django_assert_num_queries(computed):
            assert client.get(_url(chain, period=Q4)).status_code == 200
        with django_assert_num_queries(stored):
            assert client.get(_url(chain, period=Q4)).status_code == 200
