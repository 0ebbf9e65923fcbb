import pytest

from carechain import demo
from tests import factories
from tests.browser import ARTIFACTS, chromium_page, login


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_demo_coach_logs_in_and_sees_the_dutch_home_page(live_server):
    demo.seed()
    with chromium_page() as page:
        login(page, live_server.url, "coach.anna", demo.DEMO_PASSWORD)
        page.wait_for_selector("h1")
        assert "Welkom" in page.inner_text("h1")
        assert "SMR-coach" in page.inner_text("main")
        page.screenshot(path=str(ARTIFACTS / "home-coach.png"), full_page=True)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_wrong_password_shows_a_dutch_error(live_server):
    factories.UserFactory(username="coach.anna")  # one person is all a refused login needs
    with chromium_page() as page:
        login(page, live_server.url, "coach.anna", "wrong-password")
        assert "wachtwoord" in page.inner_text(".errorbox").lower()
