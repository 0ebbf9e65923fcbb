"""Two deliveries of one ZorgDomein document at the same moment: one referral, one document.

Only PostgreSQL shows this: SQLite serialises all writers, so there the race cannot happen.
"""

import pytest
from rest_framework.test import APIClient

from carechain.models import Patient
from referrals.models import Referral, ReferralDocument
from tests.concurrency import at_once

from .fhir_samples import appointment_request, intake_key, post_document, zorgdomein_document


def deliver_twice_at_once(bundle: dict, key: str) -> list:
    """Post the same bundle from two threads released together; each has its own connection."""
    responses = at_once(lambda: post_document(APIClient(), bundle, key=key))
    assert len(responses) == 2
    return responses


@pytest.mark.django_db(transaction=True)
def test_simultaneous_deliveries_of_one_appointment_request_make_one_referral(
    postgresql_only, chain
):
    key = intake_key(chain.practice_a)
    bundle = appointment_request(practice_agb=chain.practice_a.agb, provider_agb=chain.provider.agb)

    responses = deliver_twice_at_once(bundle, key)

    assert sorted(r.status_code for r in responses) == [200, 201]
    referral = Referral.objects.get()
    assert {r.json()["id"] for r in responses} == {str(referral.public_id)}
    assert {r["Location"] for r in responses} == {
        f"http://testserver/fhir/Task/{referral.public_id}"
    }
    assert (Patient.objects.count(), ReferralDocument.objects.count()) == (1, 1)


@pytest.mark.django_db(transaction=True)
def test_simultaneous_deliveries_of_one_referral_letter_store_it_once(postgresql_only, chain):
    key = intake_key(chain.practice_a)
    request = appointment_request(
        practice_agb=chain.practice_a.agb, provider_agb=chain.provider.agb
    )
    assert post_document(APIClient(), request, key=key).status_code == 201

    responses = deliver_twice_at_once(zorgdomein_document("referral-letter"), key)

    assert sorted(r.status_code for r in responses) == [200, 201]
    assert ReferralDocument.objects.filter(kind="referral-letter").count() == 1
