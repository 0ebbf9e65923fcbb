"""KIS over FHIR: a zorggroep's transaction Bundle refers a ketenzorg patient for its practices."""

import pytest

from referrals.models import Referral

from .fhir_samples import (
    BSN,
    KIS_IDENTIFIER,
    appointment_request,
    intake_key,
    kis_referral,
    outcome_issue,
    post_fhir,
    post_kis,
    stored_counts,
)


@pytest.fixture
def key(chain):
    """The KIS of zorggroep West (practices A and B)."""
    return intake_key(chain.zorggroep)


@pytest.fixture
def bundle(chain):
    return kis_referral(practice_agb=chain.practice_a.agb, provider_agb=chain.provider.agb)


def test_kis_transaction_creates_a_ketenzorg_referral(api, chain, key, bundle):
    response = post_kis(api, bundle, key=key)

    assert response.status_code == 201, response.json()
    referral = Referral.objects.select_related("patient").get()
    assert response["Location"].endswith(f"/fhir/Task/{referral.public_id}")
    assert response.json()["resourceType"] == "Task"
    assert (referral.channel, referral.external_id) == ("kis", KIS_IDENTIFIER)
    assert (referral.practice, referral.provider) == (chain.practice_a, chain.provider)
    assert referral.is_ketenzorg
    assert referral.ketenzorg_programme == "dm2"
    assert referral.patient.bsn == BSN
    assert "Diabetes mellitus type 2" in referral.reason
    assert (referral.cigarettes_per_day, referral.years_smoked) == (20, 30)
    document = referral.documents.get()
    assert (document.kind, document.source_id) == ("kis-referral", f"kis:{KIS_IDENTIFIER}")
    assert document.payload == bundle


def test_the_fhir_base_also_takes_the_transaction_with_a_trailing_slash(api, key, bundle):
    response = post_fhir(api, "/fhir/", bundle, key=key)
    assert response.status_code == 201


def test_a_practice_key_may_use_the_kis_channel_for_its_own_patients(api, chain, bundle):
    response = post_kis(api, bundle, key=intake_key(chain.practice_a))
    assert response.status_code == 201


def test_resending_the_same_kis_referral_is_idempotent(api, chain, key, bundle):
    first = post_kis(api, bundle, key=key)
    again = kis_referral(
        practice_agb=chain.practice_a.agb,
        provider_agb=chain.provider.agb,
        bundle_id="another-transaction-id",
    )

    second = post_kis(api, again, key=key)

    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert stored_counts() == (1, 1, 1)


def test_a_zorggroep_cannot_refer_for_a_practice_of_another_zorggroep(api, chain, key):
    bundle = kis_referral(
        practice_agb=chain.practice_other_zorggroep.agb, provider_agb=chain.provider.agb
    )

    response = post_kis(api, bundle, key=key)

    assert response.status_code == 403
    issue = outcome_issue(response)
    assert issue["code"] == "forbidden"
    assert chain.practice_other_zorggroep.agb in issue["diagnostics"]
    assert stored_counts() == (0, 0, 0)


def test_the_task_owner_must_be_a_known_provider(api, key, chain):
    bundle = kis_referral(practice_agb=chain.practice_a.agb, provider_agb="99999999")

    response = post_kis(api, bundle, key=key)

    assert response.status_code == 422
    issue = outcome_issue(response)
    assert issue["code"] == "not-found"
    assert issue["expression"] == ["Bundle.entry[4].resource.owner.identifier"]
    assert stored_counts() == (0, 0, 0)


def test_the_kis_referral_needs_its_identifier(api, key, bundle):
    del bundle["entry"][0]["resource"]["identifier"]

    response = post_kis(api, bundle, key=key)

    assert response.status_code == 422
    issue = outcome_issue(response)
    assert issue["code"] == "required"
    assert issue["expression"] == ["Bundle.entry[0].resource.identifier"]
    assert stored_counts() == (0, 0, 0)


def test_a_document_bundle_at_the_fhir_base_is_refused(api, chain, key):
    bundle = appointment_request(practice_agb=chain.practice_a.agb, provider_agb=chain.provider.agb)

    response = post_kis(api, bundle, key=key)

    assert response.status_code == 422
    assert outcome_issue(response)["expression"] == ["Bundle.type"]
    assert stored_counts() == (0, 0, 0)
