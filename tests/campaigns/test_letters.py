"""The invitation letters: rendered in chunks on Celery, one printable PDF and one per person,
resumable after a failure without doubles; the practice's text can never run template code."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from pypdf import PdfReader

from audit.models import AuditEvent
from campaigns import generation, letters, services
from campaigns.models import CampaignState, LetterChunk
from carechain.access import Actor
from tests import factories


def _pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(generation, "CHUNK_SIZE", 2)


@pytest.fixture
def generate(poh, django_capture_on_commit_callbacks):
    """Press 'make the letters' and let the queued chunk tasks run (eager Celery)."""

    def press(campaign):
        with django_capture_on_commit_callbacks(execute=True):
            generation.campaign_generate_letters(actor=Actor.for_user(poh), campaign_id=campaign.pk)
        campaign.refresh_from_db()

    return press


@pytest.fixture
def campaign(chain):
    campaign = factories.CampaignFactory(practice=chain.practice_a, name="Voorjaar")
    for name in ("Aalders", "Bakker", "Claessens"):
        factories.InviteeFactory(campaign=campaign, last_name=name)
    return campaign


def test_letters_are_made_in_chunks_as_one_batch_and_per_person(generate, campaign, small_chunks):
    generate(campaign)
    assert campaign.state == CampaignState.LETTERS_READY
    assert campaign.chunks.count() == 2
    with campaign.batch_pdf.open("rb") as handle:
        pages = _pages(handle.read())
    assert len(pages) == 3
    invitees = list(campaign.invitees.order_by("pk"))
    for page, invitee in zip(pages, invitees, strict=True):
        assert invitee.last_name in page
        assert invitee.display_code in page
        assert "/reactie/" in page and "Uw persoonlijke code" in page
        assert campaign.practice.name in page
    single = _pages(generation.invitee_letter_pdf(invitees[2]))
    assert len(single) == 1 and "Claessens" in single[0] and "Bakker" not in single[0]


def test_a_failed_chunk_is_resumed_and_nobody_gets_two_letters(
    generate, campaign, small_chunks, monkeypatch
):
    real = letters.render_letters_pdf
    calls = {"n": 0}

    def flaky(campaign, invitees):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("font cache broken")
        return real(campaign, invitees)

    monkeypatch.setattr(letters, "render_letters_pdf", flaky)
    generate(campaign)  # the failure is the task's: the person's request goes on
    assert campaign.state == CampaignState.GENERATING
    assert sorted(campaign.chunks.values_list("status", flat=True)) == ["done", "failed"]
    assert generation.campaign_progress(campaign)["done"] == 2

    generate(campaign)  # pressed again: resume
    assert campaign.state == CampaignState.LETTERS_READY
    with campaign.batch_pdf.open("rb") as handle:
        pages = _pages(handle.read())
    assert len(pages) == 3
    assert sorted(
        name for page in pages for name in ("Aalders", "Bakker", "Claessens") if name in page
    ) == ["Aalders", "Bakker", "Claessens"]
    assert calls["n"] == 3  # the chunk that was made first was not made again


def test_a_chunk_is_claimed_once(campaign):
    chunk = LetterChunk.objects.create(campaign=campaign, number=1)
    campaign.invitees.update(chunk=chunk)
    assert generation.chunk_render(chunk_id=chunk.pk) is True
    assert generation.chunk_render(chunk_id=chunk.pk) is False  # a second task finds it done
    assert LetterChunk.objects.get(pk=chunk.pk).attempts == 1


def test_a_chunk_whose_worker_died_is_given_back_by_the_sweep(
    campaign, time_machine, django_capture_on_commit_callbacks
):
    chunk = LetterChunk.objects.create(campaign=campaign, number=1, status="rendering")
    campaign.invitees.update(chunk=chunk)
    from campaigns.models import Campaign

    Campaign.objects.filter(pk=campaign.pk).update(state=CampaignState.GENERATING)
    LetterChunk.objects.filter(pk=chunk.pk).update(claimed_at=timezone.now())
    assert generation.chunks_sweep() == 0  # still being made by someone
    time_machine.move_to(timezone.now() + generation.STALE_CLAIM * 2)
    with django_capture_on_commit_callbacks(execute=True):
        assert generation.chunks_sweep() == 1
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.LETTERS_READY
    assert set(campaign.invitees.values_list("letter_status", flat=True)) == {"done"}


def test_the_letter_text_is_text_with_placeholders_never_a_template(chain, poh):
    campaign = factories.CampaignFactory(practice=chain.practice_a)
    invitee = factories.InviteeFactory(campaign=campaign, last_name="<b>Vet</b>")
    text = "Beste {naam}, {{ settings.SECRET_KEY }} {% now 'Y' %} <script>alert(1)</script> {code}"
    html = letters.render_letter_html(campaign, invitee, text=text)
    assert "{{ settings.SECRET_KEY }}" in html
    assert "{% now &#x27;Y&#x27; %}" in html or "{% now 'Y' %}" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>Vet</b>" not in html and "&lt;b&gt;Vet&lt;/b&gt;" in html
    assert invitee.display_code in html


def test_unknown_placeholders_are_refused_and_the_text_is_fixed_once_letters_exist(
    poh, campaign, generate
):
    actor = Actor.for_user(poh)
    with pytest.raises(ValidationError, match="naaam"):
        services.campaign_update(
            actor=actor,
            campaign_id=campaign.pk,
            name="X",
            letter_text="Beste {naaam}",
            retention_months=6,
        )
    services.campaign_update(
        actor=actor,
        campaign_id=campaign.pk,
        name="X",
        letter_text="Beste {naam},\n\nKom langs.",
        retention_months=3,
    )
    generate(campaign)
    with pytest.raises(services.CampaignRefused):
        services.campaign_update(
            actor=actor, campaign_id=campaign.pk, name="X", letter_text="Anders", retention_months=3
        )


def test_preview_shows_the_typed_text_for_a_fictional_person(client, poh, campaign):
    client.force_login(poh)
    response = client.post(
        f"/campaigns/{campaign.pk}/letter/",
        {
            "name": "Voorjaar",
            "letter_text": "Hallo {naam}, <i>welkom</i>",
            "retention_months": 6,
            "preview": "1",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Hallo J. de Vries" in page and "&lt;i&gt;welkom&lt;/i&gt;" in page
    assert "Aalders" not in page  # nobody's data in the preview
    campaign.refresh_from_db()
    assert "Hallo" not in campaign.letter_text  # a preview saves nothing


def test_progress_endpoint_gives_counts_only(client, poh, campaign, generate):
    generate(campaign)
    client.force_login(poh)
    data = client.get(f"/campaigns/{campaign.pk}/progress/").json()
    assert data == {
        "state": "letters_ready",
        "done": 3,
        "total": 3,
        "failed": False,
        "percent": 100,
    }


def test_downloads_are_audited(client, poh, campaign, generate):
    generate(campaign)
    client.force_login(poh)
    response = client.get(f"/campaigns/{campaign.pk}/letters.pdf")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    b"".join(response.streaming_content)
    invitee = campaign.invitees.first()
    assert client.get(f"/campaigns/people/{invitee.pk}/letter.pdf").status_code == 200
    printed = AuditEvent.objects.filter(action="print", username=poh.username)
    assert printed.filter(object_type="campaigns.invitee").count() == 4  # 3 in the batch, 1 alone
    assert printed.filter(object_type="campaigns.campaign").count() == 1
