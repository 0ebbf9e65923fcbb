import datetime

import pytest

from carechain import demo
from carechain.access import Actor
from carechain.models import Practice, User
from pathways.models import Trajectory
from referrals import services as referral_services
from tests import factories
from tests.browser import ARTIFACTS, chromium_page, login


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_coach_intake_contact_escalation_and_poh_ggz_report_back(live_server):
    demo.seed()
    coach = User.objects.get(username="coach.anna")
    practice = Practice.objects.get(name="Huisartsenpraktijk De Linde")
    patient = factories.PatientFactory(practice=practice, first_name="Gerda", last_name="Stoppel")
    referral = factories.ReferralFactory(patient=patient, provider=practice.zorggroep.smr_provider)
    referral_services.referral_accept(actor=Actor.for_user(coach), referral_id=referral.pk)
    url = f"{live_server.url}/trajectories/{Trajectory.objects.get(referral=referral).pk}/"
    quit_date = (datetime.date.today() + datetime.timedelta(days=7)).isoformat()

    with chromium_page() as page:
        login(page, live_server.url, "coach.anna", demo.DEMO_PASSWORD)
        page.goto(url)
        page.fill("form:has(#do-intake) #id_quit_date", quit_date)
        page.check("form:has(#do-intake) input[value=nrt_patch]")
        page.click("#do-intake")
        assert "intake gedaan" in page.inner_text("#state")
        page.click("#do-start-counselling")
        assert "begeleiding" in page.inner_text("#state")
        page.select_option("form:has(#do-contact) #id_kind", "phone")
        page.select_option("form:has(#do-contact) #id_smoking_status", "smoke_free")
        page.fill("form:has(#do-contact) #id_co_ppm", "4")
        page.click("#do-contact")
        assert "rookvrij" in page.inner_text("#latest-status")
        page.click("summary:has-text('Opschalen naar de POH-GGZ')")
        page.select_option("form:has(#do-escalate) #id_reason", "thoughts")
        page.fill("form:has(#do-escalate) #id_explanation", "Denkt: ik verlies mijn vrienden")
        page.click("#do-escalate")
        assert "bij de POH-GGZ" in page.inner_text("#state")
        page.click("text=Uitloggen")

        login(page, live_server.url, "pohggz.linde", demo.DEMO_PASSWORD)
        page.click("nav >> text=Opschalingen")
        page.click("text=Gerda Stoppel")
        page.fill("form:has(#do-session) #id_duration_minutes", "45")
        page.fill("form:has(#do-session) #id_notes", "Gedachten over vriendengroep besproken")
        page.click("#do-session")
        page.fill("#id_report", "Patiënt is beter voorbereid en gaat verder bij de coach.")
        page.click("#do-report")
        page.click("text=Uitloggen")

        login(page, live_server.url, "coach.anna", demo.DEMO_PASSWORD)
        page.click("nav >> text=Caseload")
        assert "Mijn caseload" in page.inner_text("h1")
        assert "begeleiding" in page.inner_text("tr:has-text('Gerda Stoppel')")
        page.screenshot(path=str(ARTIFACTS / "caseload-coach.png"), full_page=True)
        page.click("text=Gerda Stoppel")
        assert page.url == url
        assert "begeleiding" in page.inner_text("#state")
        assert "beter voorbereid" in page.inner_text("main")
        page.screenshot(path=str(ARTIFACTS / "trajectory-back-in-counselling.png"), full_page=True)
