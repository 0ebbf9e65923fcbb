"""Two workers on one chunk, and two answers with one code, at the same moment (PostgreSQL only:
SQLite serialises all writers, so there the race cannot happen)."""

import io

import pytest
from pypdf import PdfReader

from campaigns import answers, generation
from campaigns.models import Campaign, CampaignState, Invitee, LetterChunk, OptOut
from tests import factories
from tests.concurrency import at_once


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_on_one_chunk_make_its_letters_once(postgresql_only, chain):
    campaign = factories.CampaignFactory(practice=chain.practice_a)
    chunk = LetterChunk.objects.create(campaign=campaign, number=1)
    factories.InviteeFactory.create_batch(2, campaign=campaign, chunk=chunk)
    Campaign.objects.filter(pk=campaign.pk).update(state=CampaignState.GENERATING)

    results = at_once(lambda: generation.chunk_render(chunk_id=chunk.pk))

    assert sorted(results) == [False, True]
    chunk.refresh_from_db()
    assert (chunk.status, chunk.attempts) == ("done", 1)
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.LETTERS_READY
    with campaign.batch_pdf.open("rb") as handle:
        assert len(PdfReader(io.BytesIO(handle.read())).pages) == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_answers_with_one_code_at_once_count_once(postgresql_only, chain):
    invitee = factories.InviteeFactory(
        campaign=factories.CampaignFactory(practice=chain.practice_a)
    )
    unknown = []

    def answer(**kwargs):
        try:
            answers.invitee_answer_public(code=invitee.response_code, **kwargs)
        except answers.UnknownCode:
            unknown.append(kwargs["answer"])  # a "no" that won erased the person: code gone

    at_once([lambda: answer(answer="no"), lambda: answer(answer="yes", consent=True)])
    invitee.refresh_from_db()
    assert invitee.answered_at is not None
    assert OptOut.objects.count() == (1 if invitee.answer == "no" else 0)
    assert unknown in ([], ["yes"]) and (not unknown or invitee.answer == "no")
    assert Invitee.objects.count() == 1
