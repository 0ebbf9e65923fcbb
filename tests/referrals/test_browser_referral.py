import pytest

from carechain import demo
from tests.browser import ARTIFACTS, chromium_page, login


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_poh_refers_coach_accepts_poh_sees_accepted(live_server):
    demo.seed()
    with chromium_page() as page:
        login(page, live_server.url, "pohs.linde", demo.DEMO_PASSWORD)
        page.click("text=Patiënt verwijzen")
        page.fill("#id_bsn", "123456782")
        page.click("button[type=submit].primary")
        page.fill("#id_patient-initials", "K.")
        page.fill("#id_patient-last_name", "Rookmans")
        page.fill("#id_patient-birth_date", "1968-04-12")
        page.fill("#id_patient-phone", "06-12121212")
        page.fill("#id_reason", "Wil stoppen, COPD in de familie")
        page.fill("#id_cigarettes_per_day", "25")
        page.fill("#id_years_smoked", "30")
        page.select_option("#id_motivation", "motivated")
        page.check("#id_consent_data_exchange")
        page.click("text=Verwijzing versturen")
        page.wait_for_selector("text=De verwijzing is verstuurd")
        assert "37,5" in page.inner_text("main")  # pack-years: 25/20 × 30, Dutch decimal comma
        referral_url = page.url
        page.click("text=Uitloggen")

        login(page, live_server.url, "coach.anna", demo.DEMO_PASSWORD)
        page.click("nav >> text=Werklijst")
        page.click("text=K. Rookmans")
        page.click("#accept")
        page.wait_for_selector("text=Opgeslagen.")
        page.click("text=Uitloggen")

        login(page, live_server.url, "pohs.linde", demo.DEMO_PASSWORD)
        page.goto(referral_url)
        assert "geaccepteerd" in page.inner_text(".pagehead")
        page.screenshot(path=str(ARTIFACTS / "referral-accepted-poh.png"), full_page=True)
