"""Helpers shared by the referral API tests (test_api_*.py)."""

import uuid

from django.urls import reverse

from carechain.models import OrganisationAPIKey
from referrals.models import Referral
from tests import factories

LIST_URL = "/api/referrals/"


def detail_url(referral) -> str:
    return reverse("api:referral-detail", args=[referral.public_id])


def action_url(referral, action: str) -> str:
    return reverse(f"api:referral-{action}", args=[referral.public_id])


def referral_pks(rows) -> list[int]:
    """The database ids of the referrals in API rows (which show only their public ids)."""
    by_public_id = dict(
        Referral.objects.filter(public_id__in=[row["id"] for row in rows]).values_list(
            "public_id", "pk"
        )
    )
    return [by_public_id[uuid.UUID(row["id"])] for row in rows]


def key_header(key: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Api-Key {key}"}


def referral_of(practice, **extra):
    """A referral from ``practice`` to its zorggroep's provider, for a new patient of that practice."""
    return factories.ReferralFactory(patient=factories.PatientFactory(practice=practice), **extra)


def referral_body(practice, **overrides) -> dict:
    body = {
        "practice_agb": practice.agb,
        "patient": {
            "bsn": "123456782",
            "initials": "M.",
            "first_name": "Marieke",
            "name_prefix": "de",
            "last_name": "Vries",
            "birth_date": "1968-03-14",
            "gender": "female",
            "phone": "06-12345678",
        },
        "reason": "Wil stoppen na longaanval.",
        "cigarettes_per_day": 20,
        "years_smoked": 30,
        "earlier_quit_attempts": 2,
        "motivation": "motivated",
        "best_time_to_call": "morning",
        "consent_data_exchange": True,
    }
    body.update(overrides)
    return body


def intake_key(organisation) -> dict:
    """Headers of a referral-intake API key of a practice's system or a zorggroep's KIS."""
    return key_header(factories.api_key(organisation))


def claims_key(insurer) -> dict:
    """Headers of an insurer's claims API key."""
    return key_header(factories.api_key(insurer, OrganisationAPIKey.Purpose.CLAIMS))
