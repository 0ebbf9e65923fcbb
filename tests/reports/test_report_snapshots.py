"""The zorggroep report's stored figures: the beat stores what the live queries compute, the page
and its exports show them while they are fresh, never those of another day for the current period,
and computing again replaces them instead of adding rows."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.urls import reverse

from carechain.models import Role
from reports import build, snapshots, tasks
from reports.models import ReportSnapshot
from reports.periods import parse_period
from tests import factories
from tests.concurrency import at_once
from tests.reports.support import referral, trajectory

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 11, 3)
Q4 = "2026-Q4"
TODAY = datetime.datetime(2026, 12, 20, 12, tzinfo=datetime.UTC)


def _url(chain, period=Q4):
    return reverse("report-zorggroep", args=[chain.zorggroep.pk]) + f"?period={period}"


def _export(chain, table, period=Q4):
    url = reverse("report-zorggroep-export", args=[chain.zorggroep.pk, table, "csv"])
    return url + f"?period={period}"


def _quitters(practice, coach, n):
    for _ in range(n):
        trajectory(
            practice,
            coach=coach,
            intake_date=DAY,
            end_date=DAY,
            end_result="smoke_free",
            end_co_ppm=3,
        )


def _started(html: str, practice_name: str) -> str:
    """The 'started' cell of a practice in the outcomes table of the page."""
    table = html.split('id="table-outcomes"')[1].split("</table>")[0]
    row = table.split(f">{practice_name}<")[1].split("</tr>")[0]
    return row.split('class="num')[1].split(">")[1].split("<")[0]


def _some_data(chain, coach):
    _quitters(chain.practice_a, coach, 7)
    _quitters(chain.practice_b, coach, 6)
    referral(chain.practice_a, received=DAY, channel="kis", contact_after_hours=5)
    referral(chain.practice_b, received=DAY, channel="zorgdomein")


@time_machine.travel(TODAY)
def test_the_beat_stores_what_the_live_queries_compute(chain, coach):
    _some_data(chain, coach)
    assert tasks.refresh_zorggroep_snapshots(chain.zorggroep.pk, "current") == 3
    today = TODAY.date()
    for key in ("2026-12", Q4, "2026"):
        stored = ReportSnapshot.objects.get(zorggroep=chain.zorggroep, period_key=key)
        live = build.zorggroep_figures(chain.zorggroep, parse_period(key), today=today)
        assert stored.figures == live
        assert stored.today == today
    q4 = ReportSnapshot.objects.get(zorggroep=chain.zorggroep, period_key=Q4).figures
    assert q4["outcomes"][str(chain.practice_a.pk)]["started"] == 7
    assert q4["outcomes"][str(chain.practice_b.pk)]["quit_co_validated"] == 6


@time_machine.travel(TODAY)
def test_the_nightly_run_stores_the_other_periods_of_the_menu(chain):
    assert tasks.refresh_zorggroep_snapshots(chain.zorggroep.pk, "menu") == 33
    keys = set(ReportSnapshot.objects.values_list("period_key", flat=True))
    assert {"2026-11", "2025-01", "2026-Q3", "2025-Q1", "2025", "2023"} <= keys
    assert not keys & {"2026-12", Q4, "2026"}  # those are refreshed every 15 minutes


@time_machine.travel(TODAY)
def test_the_beat_scan_refreshes_every_zorggroep_with_a_practice(
    chain, django_capture_on_commit_callbacks
):
    factories.ZorggroepFactory(name="Zonder praktijken")
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.refresh_report_snapshots("current") == 2  # chain's two zorggroepen
    zorggroepen = set(ReportSnapshot.objects.values_list("zorggroep_id", flat=True))
    assert zorggroepen == {chain.zorggroep.pk, chain.practice_other_zorggroep.zorggroep_id}


@time_machine.travel(TODAY)
def test_running_the_refresh_twice_leaves_one_row_per_period(chain, coach):
    _some_data(chain, coach)
    tasks.refresh_zorggroep_snapshots(chain.zorggroep.pk, "current")
    first = ReportSnapshot.objects.get(period_key=Q4).figures
    tasks.refresh_zorggroep_snapshots(chain.zorggroep.pk, "current")
    assert ReportSnapshot.objects.filter(zorggroep=chain.zorggroep).count() == 3
    assert ReportSnapshot.objects.get(period_key=Q4).figures == first


@time_machine.travel(TODAY)
def test_two_refreshes_at_once_leave_one_row(postgresql_only, chain, coach, transactional_db):
    _some_data(chain, coach)
    period = parse_period(Q4)
    at_once(lambda: snapshots.snapshot_refresh(zorggroep=chain.zorggroep, period=period), 3)
    assert ReportSnapshot.objects.filter(zorggroep=chain.zorggroep, period_key=Q4).count() == 1


@time_machine.travel(TODAY)
def test_a_page_served_from_stored_figures_shows_the_live_numbers(
    client, chain, coach, zorggroep_admin
):
    _some_data(chain, coach)
    client.force_login(zorggroep_admin)
    live = client.get(_url(chain)).content.decode()  # no figures yet: computed and stored
    assert ReportSnapshot.objects.filter(period_key=Q4).count() == 1
    served = client.get(_url(chain)).content.decode()
    assert _started(served, "Praktijk A") == _started(live, "Praktijk A") == "7"
    assert _started(served, "Praktijk B") == "6"
    section = 'id="section-outcomes"'
    assert (
        served.split(section)[1].split("</section>")[0]
        == (live.split(section)[1].split("</section>")[0])
    )


@time_machine.travel(TODAY)
def test_the_page_and_its_exports_use_the_stored_figures_while_fresh(
    client, chain, coach, zorggroep_admin
):
    _some_data(chain, coach)
    tasks.refresh_zorggroep_snapshots(chain.zorggroep.pk, "current")
    _quitters(chain.practice_a, coach, 2)  # recorded after the beat ran
    client.force_login(zorggroep_admin)
    html = client.get(_url(chain)).content.decode()
    assert _started(html, "Praktijk A") == "7"
    assert "Cijfers bijgewerkt om 13:00 op 20 december 2026" in html  # Amsterdam time
    assert "elke 15 minuten" in html
    csv = client.get(_export(chain, "outcomes")).content.decode("utf-8-sig")
    assert "Praktijk A;7;" in csv
    assert "Cijfers bijgewerkt om 13:00" in csv


def test_the_current_periods_figures_are_computed_again_once_older_than_allowed(
    client, chain, coach, zorggroep_admin, settings
):
    settings.REPORTS_FRESH_MINUTES = 60
    with time_machine.travel(TODAY):
        _some_data(chain, coach)
        tasks.refresh_zorggroep_snapshots(chain.zorggroep.pk, "current")
        _quitters(chain.practice_a, coach, 2)
    with time_machine.travel(TODAY + datetime.timedelta(minutes=59)):
        client.force_login(zorggroep_admin)
        assert _started(client.get(_url(chain)).content.decode(), "Praktijk A") == "7"
    with time_machine.travel(TODAY + datetime.timedelta(minutes=61)):
        client.force_login(zorggroep_admin)
        assert _started(client.get(_url(chain)).content.decode(), "Praktijk A") == "9"
    stored = ReportSnapshot.objects.get(period_key=Q4)
    assert stored.computed_at >= TODAY + datetime.timedelta(minutes=61)


def test_figures_of_another_day_are_not_used_for_the_current_period(
    client, chain, coach, zorggroep_admin
):
    with time_machine.travel(datetime.datetime(2026, 12, 19, 22, 30, tzinfo=datetime.UTC)):
        # 23:30 on the 19th in Amsterdam: figures stored for the 19th
        _some_data(chain, coach)
        tasks.refresh_zorggroep_snapshots(chain.zorggroep.pk, "current")
        _quitters(chain.practice_a, coach, 2)
    # 00:10 on the 20th: 40 minutes old, fresh by age, but computed for yesterday
    with time_machine.travel(datetime.datetime(2026, 12, 19, 23, 10, tzinfo=datetime.UTC)):
        client.force_login(zorggroep_admin)
        assert _started(client.get(_url(chain)).content.decode(), "Praktijk A") == "9"
    assert ReportSnapshot.objects.get(period_key=Q4).today == datetime.date(2026, 12, 20)


def test_a_past_periods_figures_of_the_same_day_are_used_whatever_their_age(
    client, chain, coach, zorggroep_admin
):
    with time_machine.travel(datetime.datetime(2026, 12, 20, 0, 30, tzinfo=datetime.UTC)):
        _some_data(chain, coach)
        tasks.refresh_zorggroep_snapshots(chain.zorggroep.pk, "menu")
        _quitters(chain.practice_a, coach, 2)
    with time_machine.travel(TODAY + datetime.timedelta(hours=8)):
        client.force_login(zorggroep_admin)
        html = client.get(_url(chain, period="2026-11")).content.decode()
    assert _started(html, "Praktijk A") == "7"
    assert "elke nacht" in html


@time_machine.travel(TODAY)
def test_a_period_outside_the_menu_is_computed_when_viewed_and_stored(
    client, chain, zorggroep_admin
):
    client.force_login(zorggroep_admin)
    assert client.get(_url(chain, period="2019-Q2")).status_code == 200
    stored = ReportSnapshot.objects.get(zorggroep=chain.zorggroep, period_key="2019-Q2")
    assert stored.today == TODAY.date()


@time_machine.travel(TODAY)
def test_stored_figures_keep_the_counts_and_the_page_still_hides_small_cells(
    client, chain, coach, zorggroep_admin
):
    _quitters(chain.practice_a, coach, 3)
    tasks.refresh_zorggroep_snapshots(chain.zorggroep.pk, "current")
    stored = ReportSnapshot.objects.get(period_key=Q4).figures
    assert stored["outcomes"][str(chain.practice_a.pk)]["started"] == 3
    client.force_login(zorggroep_admin)
    html = client.get(_url(chain)).content.decode()
    assert _started(html, "Praktijk A") == "&lt; 5"
    csv = client.get(_export(chain, "outcomes")).content.decode("utf-8-sig")
    assert "Praktijk A;< 5;< 5" in csv
    for t in chain.practice_a.trajectories.select_related("patient"):
        assert t.patient.last_name not in str(stored)


@time_machine.travel(TODAY)
def test_figures_of_another_shape_are_computed_again(client, chain, coach, zorggroep_admin):
    _some_data(chain, coach)
    tasks.refresh_zorggroep_snapshots(chain.zorggroep.pk, "current")
    ReportSnapshot.objects.filter(period_key=Q4).update(
        version=build.FIGURES_VERSION + 1, figures={"old": "shape"}
    )
    client.force_login(zorggroep_admin)
    assert _started(client.get(_url(chain)).content.decode(), "Praktijk A") == "7"
    assert ReportSnapshot.objects.get(period_key=Q4).version == build.FIGURES_VERSION


@time_machine.travel(TODAY)
@pytest.mark.parametrize("who", ["poh", "coach", "other_zorggroep_admin"])
def test_stored_figures_do_not_open_the_report_to_others(client, chain, coach, who, request):
    _some_data(chain, coach)
    tasks.refresh_zorggroep_snapshots(chain.zorggroep.pk, "current")
    if who == "other_zorggroep_admin":
        person = factories.member(Role.ZORGGROEP_ADMIN, chain.practice_other_zorggroep.zorggroep)
        expected = 404
    else:
        person, expected = request.getfixturevalue(who), 403
    client.force_login(person)
    assert client.get(_url(chain)).status_code == expected
    assert client.get(_export(chain, "outcomes")).status_code == expected
