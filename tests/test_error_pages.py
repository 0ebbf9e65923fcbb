"""What a person sees when something is wrong: a Dutch page in the site's layout, never Django's."""

import pytest
from django.test import Client, override_settings
from django.urls import path

from tests import factories


def _boom(request):
    raise RuntimeError("a bug")


urlpatterns = [path("boom/", _boom)]


@pytest.fixture
def production(settings):
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["testserver"]


def test_an_unknown_page_is_a_dutch_404(client, production, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Pagina niet gevonden" in html
    assert "Not Found" not in html


def test_a_forbidden_page_is_a_dutch_403(client, production, chain):
    from carechain.models import Role

    client.force_login(factories.member(Role.INSURER, chain.insurer_a))
    response = client.get("/referrals/")
    assert response.status_code == 403
    assert "Geen toegang" in response.content.decode()


def test_a_bug_is_a_dutch_500_without_details(production, db):
    with override_settings(ROOT_URLCONF=__name__):
        response = Client(raise_request_exception=False).get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Er ging iets mis" in html
    assert "a bug" not in html and "Traceback" not in html
