"""A Content-Security-Policy without inline script or style, which the templates keep possible."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from tests.otp import unverified_login

ROOT = Path(__file__).resolve().parents[2]
POLICY = {
    "default-src": "'self'",
    "img-src": "'self' data:",
    "style-src": "'self'",
    "script-src": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
}
# Rendered to PDF by WeasyPrint or sent as e-mail, never served to a browser under this policy.
NOT_SERVED = ("letters/", "pdf", "email/")
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.IGNORECASE)
POST_FORM = re.compile(r"<form\b[^>]*method=[\"']?post", re.IGNORECASE)


def _policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


def _served_templates():
    found = [*ROOT.glob("templates/**/*.html"), *ROOT.glob("*/templates/**/*.html")]
    assert len(found) > 20
    for path in sorted(found):
        relative = path.relative_to(ROOT).as_posix()
        if not any(part in relative for part in NOT_SERVED):
            yield relative, path.read_text(encoding="utf-8")


@pytest.mark.parametrize("url", ["/login/", "/api/docs/"])
def test_pages_carry_the_policy(client, db, url):
    assert _policy(client.get(url)) == POLICY


def test_the_policy_covers_the_second_factor_pages_and_redirects(client, coach):
    unverified_login(client, coach)
    assert _policy(client.get(reverse("two-factor-setup"))) == POLICY
    assert _policy(client.get(reverse("home"))) == POLICY


def test_no_template_has_an_inline_script_or_a_style_attribute():
    offenders = [
        name
        for name, text in _served_templates()
        if INLINE_SCRIPT.search(text) or STYLE_ATTRIBUTE.search(text)
    ]
    assert offenders == []


def test_every_post_form_carries_a_csrf_token():
    offenders = [
        name
        for name, text in _served_templates()
        if len(POST_FORM.findall(text)) > text.count("{% csrf_token %}")
    ]
    assert offenders == []


def test_swagger_ui_loads_its_start_script_from_its_own_url(client, db):
    page = client.get("/api/docs/")
    html = page.content.decode()
    assert not INLINE_SCRIPT.search(html) and "<style" not in html
    (start,) = re.findall(r'<script src="(/api/docs/\?[^"]*script[^"]*)"', html)
    script = client.get(start.replace("&amp;", "&"))
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()
