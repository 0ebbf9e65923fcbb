"""The campaign pages: only the practice's own GP and POH-S; the zorggroep gets counts only."""

import pytest
from django.db import connection

from audit.models import AuditEvent
from campaigns import queries
from campaigns.models import Answer
from carechain.models import Role
from tests import factories


@pytest.fixture
def campaign(chain):
    campaign = factories.CampaignFactory(practice=chain.practice_a, name="Voorjaarsactie")
    factories.InviteeFactory.create_batch(3, campaign=campaign, letter_status="done")
    return campaign


@pytest.mark.parametrize("role", [Role.GP, Role.POH_S])
def test_the_practices_gp_and_poh_s_see_the_campaign(client, chain, campaign, role):
    client.force_login(factories.member(role, chain.practice_a))
    assert client.get("/campaigns/").status_code == 200
    assert client.get(f"/campaigns/{campaign.pk}/").status_code == 200


def test_another_practice_does_not_learn_the_campaign_exists(client, other_poh, campaign):
    client.force_login(other_poh)
    assert client.get(f"/campaigns/{campaign.pk}/").status_code == 404
    assert client.get(f"/campaigns/{campaign.pk}/people/").status_code == 404
    assert "Voorjaarsactie" not in client.get("/campaigns/").content.decode()


@pytest.mark.parametrize(
    "persona", ["poh_ggz", "coach", "planner", "zorggroep_admin", "insurer_user"]
)
def test_other_roles_are_refused_the_campaign_pages(client, request, campaign, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get("/campaigns/").status_code == 403
    assert client.get(f"/campaigns/{campaign.pk}/").status_code == 403
    invitee = campaign.invitees.first()
    assert client.get(f"/campaigns/people/{invitee.pk}/").status_code == 403


def test_the_campaign_list_takes_constant_queries(client, chain, poh, django_assert_num_queries):
    for _ in range(4):
        factories.InviteeFactory.create_batch(
            2, campaign=factories.CampaignFactory(practice=chain.practice_a)
        )
    client.force_login(poh)
    client.get("/campaigns/")  # warm the session
    # session, user, its TOTP device, memberships (the actor), the campaigns with all their counts
    # in one query; then the session saved (savepoint, update, release)
    with django_assert_num_queries(8):
        response = client.get("/campaigns/")
    assert response.status_code == 200
    assert response.content.decode().count("/campaigns/") >= 5


def test_the_list_of_people_takes_constant_queries_and_is_audited(
    client, poh, campaign, django_assert_num_queries
):
    client.force_login(poh)
    client.get(f"/campaigns/{campaign.pk}/people/")
    # session, user, TOTP device, memberships; the campaign, the paginator's count, one page of
    # people; the audit rows (savepoint, newest hash, one bulk insert, release, plus the advisory
    # lock on PostgreSQL); the session saved (savepoint, update, release)
    expected = 14 + (connection.vendor == "postgresql")
    with django_assert_num_queries(expected):
        client.get(f"/campaigns/{campaign.pk}/people/")
    factories.InviteeFactory.create_batch(5, campaign=campaign)
    with django_assert_num_queries(expected):
        page = client.get(f"/campaigns/{campaign.pk}/people/").content.decode()
    assert page.count("Uitgenodigd") >= 8
    listed = AuditEvent.objects.filter(
        action="list", object_type="campaigns.invitee", username=poh.username
    )
    assert listed.count() == 3 + 3 + 8


def test_the_campaign_page_shows_the_funnel_as_counts_and_a_chart(client, poh, coach, campaign):
    invitees = list(campaign.invitees.order_by("pk"))
    referral = factories.trajectory_in(
        "end_of_treatment",
        coach=coach,
        referral__patient=factories.PatientFactory(practice=campaign.practice),
    ).referral
    invitees[0].answer, invitees[0].answered_at, invitees[0].referral = (
        Answer.YES,
        referral.received_at,
        referral,
    )
    invitees[0].save()
    invitees[1].answer, invitees[1].answered_at = Answer.NO, referral.received_at
    invitees[1].save()
    assert {k: v for k, v in queries.campaign_funnel(campaign).items() if k in queries.FUNNEL} == {
        "sent": 3,
        "answered": 2,
        "referred": 1,
        "started": 1,
        "quit": 1,
    }
    client.force_login(poh)
    page = client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert '<svg class="funnel"' in page and "<script>" not in page
    assert 'id="count-sent">3<' in page and 'id="count-quit">1<' in page


def test_the_zorggroep_gets_every_campaign_of_its_practices_as_counts(
    chain, campaign, django_assert_num_queries
):
    factories.CampaignFactory(practice=chain.practice_b, name="Actie B")
    factories.CampaignFactory(practice=chain.practice_other_zorggroep, name="Elders")
    with django_assert_num_queries(1):
        rows = queries.campaign_funnels_for_zorggroep(chain.zorggroep)
    assert [(r["practice"], r["campaign"]) for r in rows] == [
        ("Praktijk A", "Voorjaarsactie"),
        ("Praktijk B", "Actie B"),
    ]
    assert rows[0]["sent"] == 3
    assert set(rows[0]) == {
        "campaign_id",
        "practice",
        "campaign",
        "started_on",
        "sent",
        "answered",
        "referred",
        "started",
        "quit",
    }


def test_the_menu_offers_campaigns_to_the_practice_only(client, poh, poh_ggz):
    client.force_login(poh)
    assert "/campaigns/" in client.get("/").content.decode()
    client.force_login(poh_ggz)
    assert "/campaigns/" not in client.get("/").content.decode()
