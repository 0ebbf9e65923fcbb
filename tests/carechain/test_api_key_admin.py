"""API keys in the admin: made once and shown once, revoked and never deleted, each step audited."""

import datetime
import io

import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework_api_key.models import APIKey

from audit.models import AuditEvent
from carechain.models import OrganisationAPIKey
from tests import factories

ADD = reverse("admin:carechain_organisationapikey_add")


@pytest.fixture
def staff(db):
    return factories.UserFactory(username="beheer", is_staff=True, is_superuser=True)


def _make(client, chain, **extra):
    body = {
        "name": "HIS Praktijk A",
        "organisation": chain.practice_a.pk,
        "purpose": "referral_intake",
        **extra,
    }
    return client.post(ADD, body, follow=True)


def _shown_key(response) -> str:
    (message,) = [str(m) for m in get_messages(response.wsgi_request) if " is: " in str(m)]
    return message.split(" is: ")[1].split(". ")[0]


def test_a_key_made_in_the_admin_is_shown_once_in_dutch_and_works(client, api, chain, staff):
    client.force_login(staff)
    response = _make(client, chain)

    key = _shown_key(response)
    assert "wordt niet nog eens getoond" in response.content.decode()
    stored = OrganisationAPIKey.objects.get()
    assert key not in stored.hashed_key
    assert api.get("/api/patients/", HTTP_AUTHORIZATION=f"Api-Key {key}").status_code == 200
    event = AuditEvent.objects.get(action=AuditEvent.Action.SECURITY)
    assert (event.username, event.channel) == ("beheer", "admin")
    assert event.detail == (
        f"API key {stored.prefix} (referral_intake) of {chain.practice_a.name} made"
    )
    assert key not in event.detail


def test_revoking_a_key_is_audited_and_the_key_is_refused_as_revoked(client, api, chain, staff):
    key = factories.api_key(chain.practice_a)
    stored = OrganisationAPIKey.objects.get()
    client.force_login(staff)
    change = reverse("admin:carechain_organisationapikey_change", args=[stored.pk])
    response = client.post(
        change,
        {
            "name": stored.name,
            "organisation": chain.practice_a.pk,
            "purpose": stored.purpose,
            "revoked": "on",
        },
    )
    assert response.status_code == 302

    event = AuditEvent.objects.get(action=AuditEvent.Action.SECURITY)
    assert event.detail.endswith("revoked")
    refused = api.get("/api/patients/", HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert refused.status_code == 401
    assert refused.json() == {"detail": "Deze API-sleutel is ingetrokken of verlopen."}


def test_a_wrong_secret_for_a_real_prefix_is_an_unknown_key(api, chain):
    key = factories.api_key(chain.practice_a)
    OrganisationAPIKey.objects.update(revoked=True)
    forged = key.split(".")[0] + ".not-the-secret"
    response = api.get("/api/patients/", HTTP_AUTHORIZATION=f"Api-Key {forged}")
    assert response.status_code == 401
    assert response.json() == {"detail": "Onbekende API-sleutel."}


def test_an_expired_key_is_refused_as_expired(api, chain):
    key = factories.api_key(
        chain.practice_a, expiry_date=timezone.now() - datetime.timedelta(minutes=1)
    )
    response = api.get("/api/patients/", HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert response.json() == {"detail": "Deze API-sleutel is ingetrokken of verlopen."}


def test_keys_are_never_deleted_and_the_librarys_own_key_admin_is_gone(client, chain, staff):
    factories.api_key(chain.practice_a)
    stored = OrganisationAPIKey.objects.get()
    client.force_login(staff)
    delete = reverse("admin:carechain_organisationapikey_delete", args=[stored.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert OrganisationAPIKey.objects.exists()
    assert not admin.site.is_registered(APIKey)


def test_the_key_list_speaks_dutch(client, chain, staff):
    factories.api_key(chain.practice_a)
    client.force_login(staff)
    page = client.get(reverse("admin:carechain_organisationapikey_changelist")).content.decode()
    for label in ("Naam", "Aangemaakt", "Verloopt", "Verlopen", "Ingetrokken"):
        assert label in page


def test_a_key_made_on_the_command_line_is_audited(chain):
    out = io.StringIO()
    call_command(
        "create_api_key",
        *("--organisation-agb", chain.practice_a.agb, "--purpose", "referral_intake", "--quiet"),
        stdout=out,
    )
    event = AuditEvent.objects.get(action=AuditEvent.Action.SECURITY)
    assert event.detail.startswith("API key ")
    assert event.roles == "system"
    assert out.getvalue().strip().split(".")[0] in event.detail
