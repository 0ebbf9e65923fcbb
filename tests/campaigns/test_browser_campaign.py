"""In Chromium: a POH-S uploads the practice's list, edits and previews the letter, makes the
letters; an invitee answers yes on the public page; the POH-S confirms the referral with one click."""

import pytest

from campaigns.models import Campaign, CampaignState, Invitee, LetterChunk
from referrals.models import Referral
from tests import factories
from tests.browser import ARTIFACTS, chromium_page, login
from tests.campaigns.support import his_export, row

PASSWORD = "secret-password-1"  # tests.factories.UserFactory


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_upload_letters_public_answer_and_one_click_referral(live_server, chain, poh):
    export = his_export(
        [
            row("123456782", "Vermeulen", first="Ria"),
            row("111222333", "Koevoets", first="Gerrit"),
            row("123456789", "Fout"),
            row("123456782", "Vermeulen", first="Ria"),
        ],
        encoding="cp1252",
    )
    with chromium_page() as page:
        login(page, live_server.url, poh.username, PASSWORD)
        page.goto(f"{live_server.url}/campaigns/")
        page.click("#new-campaign")
        page.fill("#id_name", "Brievenactie voorjaar")
        page.click("#do-create")
        page.set_input_files(
            "#id_file", files=[{"name": "his-export.csv", "mimeType": "text/csv", "buffer": export}]
        )
        page.click("#do-upload")
        page.wait_for_selector("#upload-result")
        assert page.inner_text("#result-added") == "2"
        assert page.inner_text("#result-duplicate") == "1"
        assert "11-proef" in page.inner_text("#rejected")
        page.screenshot(path=str(ARTIFACTS / "campaign-upload-result.png"), full_page=True)

        page.click("#to-campaign")
        page.click("#go-letter")
        page.fill(
            "#id_letter_text",
            "Beste {naam},\n\nWij helpen u graag met stoppen.\n\nGroet, {praktijk}",
        )
        page.click("#do-preview")
        assert "Beste J. de Vries" in page.inner_text("#preview")
        page.screenshot(path=str(ARTIFACTS / "campaign-letter-preview.png"), full_page=True)
        page.click("#do-save")
        page.click("#do-generate")
        page.wait_for_selector("#batch-pdf")
        assert page.inner_text("#count-sent") == "2"
        page.screenshot(path=str(ARTIFACTS / "campaign-letters-ready.png"), full_page=True)

        campaign = Campaign.objects.get()
        ria = campaign.invitees.get(last_name="Vermeulen")
        public = page.context.browser.new_context(locale="nl-NL").new_page()
        public.goto(f"{live_server.url}/reactie/")
        public.fill("#id_code", ria.display_code)
        public.check("#id_answer_0")
        public.fill("#id_phone", "06 12345678")
        public.select_option("#id_best_time_to_call", "morning")
        public.check("#id_consent")
        public.screenshot(path=str(ARTIFACTS / "campaign-public-answer.png"), full_page=True)
        public.click("#do-answer")
        assert "Uw praktijk neemt contact met u op" in public.inner_text("#thanks")
        assert "Vermeulen" not in public.content()
        public.screenshot(path=str(ARTIFACTS / "campaign-public-thanks.png"), full_page=True)

        page.reload()
        page.click(f"#draft-{ria.pk}")
        page.click("#do-refer")
        page.wait_for_selector("h1")
        referral = Referral.objects.get()
        assert page.url.endswith(f"/referrals/{referral.pk}/")
        page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
        assert page.inner_text("#count-referred") == "1"
        page.screenshot(path=str(ARTIFACTS / "campaign-funnel.png"), full_page=True)

    assert Invitee.objects.get(pk=ria.pk).referral == referral
    assert referral.patient.last_name == "Vermeulen"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_progress_bar_while_letters_are_being_made(live_server, chain, poh):
    campaign = factories.CampaignFactory(practice=chain.practice_a, name="Grote actie")
    done = LetterChunk.objects.create(campaign=campaign, number=1, status="done")
    waiting = LetterChunk.objects.create(campaign=campaign, number=2, status="rendering")
    factories.InviteeFactory.create_batch(3, campaign=campaign, chunk=done, letter_status="done")
    factories.InviteeFactory.create_batch(1, campaign=campaign, chunk=waiting)
    Campaign.objects.filter(pk=campaign.pk).update(state=CampaignState.GENERATING)
    with chromium_page() as page:
        login(page, live_server.url, poh.username, PASSWORD)
        page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
        from playwright.sync_api import expect

        expect(page.locator("#progress-text")).to_have_text("3 van 4 brieven gemaakt.")
        Invitee.objects.filter(chunk=waiting).update(letter_status="done")  # a worker made them
        expect(page.locator("#progress-text")).to_have_text("4 van 4 brieven gemaakt.")  # polled
        assert page.get_attribute("#letter-progress", "value") == "4"
        page.screenshot(path=str(ARTIFACTS / "campaign-progress.png"), full_page=True)
