"""The practice's list of smokers: every row checked, bad rows listed, nobody dropped silently."""

import pytest
from django.core.exceptions import ValidationError

from audit.models import AuditEvent
from campaigns import answers, services
from campaigns.listfile import UnreadableFile
from campaigns.models import Invitee, OptOut
from carechain.access import Actor
from tests import factories
from tests.campaigns.support import his_export, row, upload

VALID = ["123456782", "111222333", "999999990"]


@pytest.fixture
def campaign(chain):
    return factories.CampaignFactory(practice=chain.practice_a)


@pytest.mark.parametrize(
    ("delimiter", "encoding", "bom"),
    [(";", "cp1252", False), (",", "utf-8", True), (";", "utf-8", False), (",", "cp1252", False)],
)
def test_his_export_with_either_delimiter_and_encoding_is_read(
    poh, campaign, delimiter, encoding, bom
):
    result = upload(
        poh,
        campaign,
        [row(VALID[0], "Çelik", first="Zoë"), row(VALID[1], "Jansen")],
        delimiter=delimiter,
        encoding=encoding,
        bom=bom,
    )
    assert (result.rows, result.added, result.rejected) == (2, 2, 0)
    names = set(campaign.invitees.values_list("first_name", "last_name"))
    assert ("Zoë", "Çelik") in names


def test_every_bad_row_is_listed_with_its_line_and_reason(poh, campaign):
    result = upload(
        poh,
        campaign,
        [
            row("123456789"),  # line 2: fails the 11-proef
            row(VALID[0], postcode="47011 AB"),  # line 3
            row(VALID[1], last_name=""),  # line 4
            row(VALID[2], birth="31-02-1970"),  # line 5
            row("", birth="2999-01-01"),  # line 6: two reasons
            row("111222333"[:-1] + "3", city=""),  # line 7 (invalid too)
        ],
    )
    reasons = dict(result.rejected_rows.values_list("line", "reason"))
    assert sorted(reasons) == [2, 3, 4, 5, 6, 7]
    assert "11-proef" in reasons[2]
    assert "1234 AB" in reasons[3]
    assert "achternaam ontbreekt" in reasons[4]
    assert "niet begrepen" in reasons[5]
    assert "BSN ontbreekt" in reasons[6] and "onmogelijk" in reasons[6]
    assert (result.rows, result.added, result.rejected) == (6, 0, 6)
    assert not campaign.invitees.exists()


def test_postcode_and_address_from_street_and_number_are_normalised(poh, campaign):
    header = [
        "bsn",
        "achternaam",
        "geboortedatum",
        "straat",
        "huisnummer",
        "postcode",
        "woonplaats",
    ]
    raw = his_export(
        [[VALID[0], "Vries", "1965-12-31", "Markt", "4a", "4701ab", "Roosendaal"]], header=header
    )
    services.campaign_upload_list(actor=Actor.for_user(poh), campaign_id=campaign.pk, raw=raw)
    invitee = campaign.invitees.get()
    assert (invitee.address, invitee.postal_code, str(invitee.birth_date)) == (
        "Markt 4a",
        "4701 AB",
        "1965-12-31",
    )
    assert len(invitee.response_code) == 10


def test_duplicates_in_the_file_and_people_already_invited_are_skipped_and_counted(poh, campaign):
    upload(poh, campaign, [row(VALID[0])])
    result = upload(poh, campaign, [row(VALID[0]), row(VALID[1]), row(VALID[1])])
    assert (result.added, result.skipped_duplicate) == (1, 2)
    assert campaign.invitees.count() == 2


def test_own_patients_with_a_referral_or_trajectory_are_skipped(chain, poh, coach, campaign):
    referred = factories.ReferralFactory(
        patient=factories.PatientFactory(practice=chain.practice_a)
    )
    in_care = factories.trajectory_in(
        "counselling",
        coach=coach,
        referral__patient=factories.PatientFactory(practice=chain.practice_a),
    )
    result = upload(
        poh, campaign, [row(referred.patient.bsn), row(in_care.patient.bsn), row(VALID[0])]
    )
    assert (result.added, result.skipped_in_care) == (1, 2)


def test_care_at_another_practice_is_not_revealed_by_the_upload(chain, poh, coach, campaign):
    """Whether someone is in care elsewhere is not this practice's to learn: they are invited."""
    elsewhere = factories.trajectory_in(
        "counselling",
        coach=coach,
        referral__patient=factories.PatientFactory(practice=chain.practice_b),
    )
    result = upload(poh, campaign, [row(elsewhere.patient.bsn)])
    assert (result.added, result.skipped_in_care) == (1, 0)


def test_opt_out_is_honoured_in_later_campaigns_of_the_practice_only(
    chain, poh, other_poh, campaign
):
    upload(poh, campaign, [row(VALID[0])])
    invitee = campaign.invitees.get()
    answers.invitee_answer_public(code=invitee.response_code, answer="no")
    assert OptOut.objects.get().bsn_hash != VALID[0]  # a keyed hash, never the BSN

    later = factories.CampaignFactory(practice=chain.practice_a)
    assert upload(poh, later, [row(VALID[0])]).skipped_opted_out == 1
    other = factories.CampaignFactory(practice=chain.practice_b)
    assert upload(other_poh, other, [row(VALID[0])]).added == 1


def test_a_file_that_is_not_a_list_is_refused_with_a_reason(poh, campaign):
    with pytest.raises(UnreadableFile, match="achternaam"):
        upload(poh, campaign, [["123456782", "x"]], header=["bsn", "naam2"])
    with pytest.raises(UnreadableFile):
        services.campaign_upload_list(
            actor=Actor.for_user(poh), campaign_id=campaign.pk, raw=b"\x00\x01PK"
        )


def test_upload_page_shows_the_rejected_rows_and_a_bad_file_is_a_form_error(client, poh, campaign):
    client.force_login(poh)
    from django.core.files.uploadedfile import SimpleUploadedFile

    url = f"/campaigns/{campaign.pk}/upload/"
    good = SimpleUploadedFile("export.csv", his_export([row(VALID[0]), row("123456789")]))
    response = client.post(url, {"file": good}, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="rejected"' in page and "11-proef" in page
    bad = SimpleUploadedFile("foto.csv", b"\x89PNG\x00\x00")
    response = client.post(url, {"file": bad})
    assert response.status_code == 200
    assert "CSV" in response.content.decode()


def test_registered_patients_can_be_selected_and_are_linked(chain, poh, campaign):
    patient = factories.PatientFactory(practice=chain.practice_a)
    other_practice = factories.PatientFactory(practice=chain.practice_b)
    eligible = services.eligible_patients(Actor.for_user(poh), campaign)
    assert patient in eligible and other_practice not in eligible
    services.campaign_add_patients(
        actor=Actor.for_user(poh), campaign_id=campaign.pk, patient_ids=[patient.pk]
    )
    assert campaign.invitees.get().patient == patient
    with pytest.raises(ValidationError, match="eigen praktijk"):
        services.campaign_add_patients(
            actor=Actor.for_user(poh), campaign_id=campaign.pk, patient_ids=[other_practice.pk]
        )


def test_upload_is_audited_per_person(poh, campaign):
    upload(poh, campaign, [row(VALID[0]), row(VALID[1])])
    created = AuditEvent.objects.filter(action="create", object_type="campaigns.invitee")
    assert set(created.values_list("object_id", flat=True)) == {
        str(pk) for pk in Invitee.objects.values_list("pk", flat=True)
    }
    assert created.filter(username=poh.username).count() == 2
