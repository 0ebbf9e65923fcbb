"""In Chromium: the zorggroep admin opens the report from the menu, picks a period, sees the
charts with their tables and downloads a table as CSV."""

from pathlib import Path

import pytest
from django.utils import timezone

from tests.browser import ARTIFACTS, chromium_page, login
from tests.reports.support import referral, trajectory

PASSWORD = "secret-password-1"  # tests.factories.UserFactory


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_zorggroep_admin_opens_the_report_with_charts_and_exports_a_table(
    live_server, chain, coach, zorggroep_admin
):
    today = timezone.localdate()
    day = today.replace(day=1)
    for i in range(7):
        trajectory(
            chain.practice_a,
            coach=coach,
            state="closed",
            intake_date=day,
            end_date=day,
            end_result="smoke_free" if i % 3 else "smoking",
            end_co_ppm=4,
        )
    referral(chain.practice_b, received=day, channel="kis", contact_after_hours=20)

    with chromium_page() as page:
        login(page, live_server.url, zorggroep_admin.username, PASSWORD)
        page.click("nav.mainnav >> text=Rapportages")
        page.wait_for_selector("#section-outcomes")
        assert "Zorggroep West" in page.inner_text("h1")
        page.select_option("#id_period", f"{today:%Y-%m}")
        page.click("#period-form button[type=submit]")
        page.wait_for_url(f"**period={today:%Y-%m}")
        page.wait_for_selector("#chart-outcomes svg")
        assert page.locator("#chart-outcomes svg title").first.text_content()
        assert page.locator("figure.chart svg[role=img]").count() >= 5
        assert page.locator("#table-outcomes td.suppressed").count() > 0
        assert "Russell Standard" in page.inner_text("#section-outcomes")
        page.screenshot(path=str(ARTIFACTS / "zorggroep-report.png"), full_page=True)
        with page.expect_download() as download:
            page.click("#export-outcomes-csv")
        text = Path(download.value.path()).read_text(encoding="utf-8-sig")
        assert "Praktijk A" in text and "< 5" in text
