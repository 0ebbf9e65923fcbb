"""manage.py create_api_key: a key printed once, only its hash stored, and clear refusals."""

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from carechain.models import OrganisationAPIKey
from tests import factories


def run(*args) -> str:
    out = StringIO()
    call_command("create_api_key", *args, stdout=out)
    return out.getvalue()


def test_practice_intake_key_is_printed_once_and_works(api, chain):
    printed = run(
        "--organisation-agb", chain.practice_a.agb, "--purpose", "referral_intake", "--name", "HIS"
    )
    [api_key] = OrganisationAPIKey.objects.all()
    key = printed.strip().splitlines()[-1]
    assert key.startswith(f"{api_key.prefix}.")
    assert api_key.hashed_key not in printed and key not in api_key.hashed_key
    assert (api_key.organisation_id, api_key.purpose, api_key.name, api_key.expiry_date) == (
        chain.practice_a.pk,
        "referral_intake",
        "HIS",
        None,
    )
    assert OrganisationAPIKey.objects.get_from_key(key) == api_key
    response = api.get("/api/patients/", HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert response.status_code == 200


def test_insurer_claims_key_with_expiry_and_quiet_output(api, chain):
    key = run(
        "--uzovi",
        chain.insurer_a.uzovi,
        "--purpose",
        "claims",
        "--expires",
        "2099-12-31",
        "--quiet",
    ).strip()
    api_key = OrganisationAPIKey.objects.get_from_key(key)
    assert api_key.organisation_id == chain.insurer_a.pk
    assert api_key.name == f"{chain.insurer_a.name} claims"
    # The key works through the last day, Amsterdam time.
    assert timezone.localtime(api_key.expiry_date) == timezone.make_aware(
        datetime.datetime(2100, 1, 1)
    )
    assert api.get("/api/claims/", HTTP_AUTHORIZATION=f"Api-Key {key}").status_code == 200


def test_zorggroep_intake_key(chain):
    chain.zorggroep.agb = "03060001"
    chain.zorggroep.save()
    run("--organisation-agb", "03060001", "--purpose", "referral_intake", "--quiet")
    assert OrganisationAPIKey.objects.get().organisation_id == chain.zorggroep.pk


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--organisation-agb", "99999999", "--purpose", "referral_intake"], "No GP practice"),
        (["--uzovi", "0000", "--purpose", "claims"], "No insurer with UZOVI code '0000'"),
        (
            ["--uzovi", "PLACEHOLDER", "--purpose", "referral_intake"],
            "cannot hold a referral_intake key; that purpose is for: GP practice, Zorggroep",
        ),
        (
            ["--organisation-agb", "PRACTICE", "--purpose", "claims"],
            r"\(GP practice\) cannot hold a claims key; that purpose is for: Insurer",
        ),
        (
            ["--organisation-agb", "PROVIDER", "--purpose", "referral_intake"],
            r"\(SMR provider\) cannot hold",
        ),
        (
            ["--uzovi", "PLACEHOLDER", "--purpose", "claims", "--expires", "2001-01-01"],
            "in the past",
        ),
        (["--uzovi", "PLACEHOLDER", "--purpose", "claims", "--expires", "soon"], "--expires"),
        (["--uzovi", "PLACEHOLDER", "--purpose", "claims", "--name", " "], "--name"),
        (["--uzovi", "PLACEHOLDER", "--purpose", "claims", "--name", "x" * 51], "at most 50"),
    ],
)
def test_bad_arguments_are_refused_with_a_clear_message(chain, args, message):
    codes = {
        "PLACEHOLDER": chain.insurer_a.uzovi,
        "PRACTICE": chain.practice_a.agb,
        "PROVIDER": chain.provider.agb,
    }
    args = [codes.get(arg, arg) for arg in args]
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert not OrganisationAPIKey.objects.exists()


def test_unknown_purpose_and_missing_organisation_are_refused(chain):
    with pytest.raises(CommandError, match="invalid choice"):
        run("--uzovi", chain.insurer_a.uzovi, "--purpose", "everything")
    with pytest.raises(CommandError, match="one of the arguments"):
        run("--purpose", "claims")
    with pytest.raises(CommandError, match="not allowed with"):
        run(
            "--uzovi",
            chain.insurer_a.uzovi,
            "--organisation-agb",
            "01051234",
            "--purpose",
            "claims",
        )


def test_inactive_organisation_is_refused(chain):
    insurer = factories.InsurerFactory(is_active=False)
    with pytest.raises(CommandError, match="inactive"):
        run("--uzovi", insurer.uzovi, "--purpose", "claims")
