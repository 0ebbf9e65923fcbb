"""In Chromium: the first login sets up the app, the next one asks its code; under the strict CSP."""

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from carechain.models import Role
from tests import factories
from tests.browser import ARTIFACTS, chromium_page
from tests.otp import current_code

PASSWORD = "secret-password-1"


def _csp_violations(page) -> list[str]:
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return violations


def _password(page, base_url, username):
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_load_state()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_first_login_sets_up_the_app_and_the_next_asks_its_code(live_server):
    poh = factories.member(Role.POH_S, factories.PracticeFactory())
    with chromium_page() as page:
        violations = _csp_violations(page)
        _password(page, live_server.url, poh.username)
        assert "/login/two-factor/setup/" in page.url
        assert page.eval_on_selector("img.qr", "img => img.naturalWidth") > 0
        page.screenshot(path=str(ARTIFACTS / "two-factor-setup.png"), full_page=True)
        device = TOTPDevice.objects.get(user=poh, confirmed=False)
        page.fill("#id_code", current_code(device))
        page.click("#confirm-setup")
        assert page.locator("#recovery-codes li").count() == 10
        page.click("#continue")
        assert "Welkom" in page.inner_text("h1")
        page.click("text=Uitloggen")

        _password(page, live_server.url, poh.username)
        assert page.url.endswith("/login/two-factor/?next=%2F")
        page.fill("#id_code", current_code(TOTPDevice.objects.get(user=poh)))
        page.click("#verify")
        assert "Welkom" in page.inner_text("h1")
        assert violations == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_swagger_ui_works_under_the_content_security_policy(live_server):
    with chromium_page() as page:
        violations = _csp_violations(page)
        page.goto(f"{live_server.url}/api/docs/")
        page.wait_for_selector(".swagger-ui .info .title")
        assert "SMR ketenzorg API" in page.inner_text(".swagger-ui .info .title")
        page.wait_for_selector(".opblock")
        page.screenshot(path=str(ARTIFACTS / "swagger-ui-csp.png"))
        assert violations == []
