"""AVG: who did not answer is erased when the campaign's retention period is over; the counts stay."""

import datetime
import os

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError

from audit.models import AuditEvent
from campaigns import answers, generation, queries, services
from campaigns.models import Campaign, CampaignState, Invitee
from carechain.access import Actor
from tests import factories


@pytest.fixture
def campaign(chain, poh, django_capture_on_commit_callbacks):
    campaign = factories.CampaignFactory(practice=chain.practice_a, retention_months=6)
    silent = factories.InviteeFactory(campaign=campaign, last_name="Zwijger")
    yes = factories.InviteeFactory(campaign=campaign, last_name="Jazegger")
    with django_capture_on_commit_callbacks(execute=True):
        generation.campaign_generate_letters(actor=Actor.for_user(poh), campaign_id=campaign.pk)
    answers.invitee_answer_public(code=yes.response_code, answer="yes", consent=True)
    campaign.refresh_from_db()
    campaign.silent, campaign.yes = silent, yes
    return campaign


def test_nobody_is_erased_before_the_retention_period_is_over(campaign, time_machine):
    time_machine.move_to(campaign.letters_ready_at + datetime.timedelta(days=180))
    assert answers.campaign_erase_expired() == 0
    assert Invitee.objects.get(pk=campaign.silent.pk).last_name == "Zwijger"


def test_who_did_not_answer_is_erased_after_the_retention_period_counts_kept(
    campaign, time_machine, client, poh
):
    before = queries.campaign_funnel(campaign)
    code = campaign.silent.response_code
    chunk_files = [c.pdf.path for c in campaign.chunks.all()]
    time_machine.move_to(campaign.letters_ready_at + datetime.timedelta(days=186))
    assert answers.campaign_erase_expired() == 1

    silent = Invitee.objects.get(pk=campaign.silent.pk)
    assert silent.erased_at is not None
    assert [getattr(silent, f) for f in Invitee.PERSONAL_FIELDS] == [""] * len(
        Invitee.PERSONAL_FIELDS
    )
    assert silent.birth_date is None and silent.response_code is None
    assert Invitee.objects.get(pk=campaign.yes.pk).last_name == "Jazegger"  # answered: kept
    assert queries.campaign_funnel(campaign) == before
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.ERASED and not campaign.batch_pdf
    assert not any(os.path.exists(path) for path in chunk_files)
    with pytest.raises(answers.UnknownCode):
        answers.invitee_answer_public(code=code, answer="yes", consent=True)
    event = AuditEvent.objects.filter(
        object_type="campaigns.campaign", detail__startswith="retention"
    ).get()
    assert event.roles == "system" and "1 people" in event.detail
    assert answers.campaign_erase_expired() == 0  # a second run finds nothing


def test_the_practice_sets_the_retention_period(chain, poh):
    campaign = services.campaign_create(actor=Actor.for_user(poh), name="Kort", retention_months=2)
    assert Campaign.objects.get(pk=campaign.pk).retention_months == 2
    with pytest.raises(ValidationError):
        services.campaign_create(actor=Actor.for_user(poh), name="Te lang", retention_months=60)


def test_erasure_runs_daily_from_beat(db):
    entry = settings.CELERY_BEAT_SCHEDULE["campaigns-erase-expired"]
    assert entry["task"] == "campaigns.tasks.erase_expired_invitees"
    from campaigns import tasks

    assert tasks.erase_expired_invitees.name == entry["task"]
    assert tasks.erase_expired_invitees() == 0  # a scan without arguments, never an ETA
