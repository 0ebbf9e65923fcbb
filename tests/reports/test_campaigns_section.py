"""The letter campaigns of the zorggroep's practices in its report: counts only, small cells hidden,
and no campaign of another zorggroep."""

import pytest
from django.utils import timezone

from campaigns.models import Answer, LetterStatus
from reports import build
from reports.periods import parse_period
from tests import factories

pytestmark = pytest.mark.django_db


def _invitees(campaign, *, sent: int, answered: int) -> None:
    for index in range(sent):
        factories.InviteeFactory(
            campaign=campaign,
            letter_status=LetterStatus.DONE,
            answered_at=timezone.now() if index < answered else None,
            answer=Answer.NO if index < answered else "",
        )


def test_campaign_funnels_of_the_zorggroep_are_shown_with_small_cells_hidden(chain):
    spring = factories.CampaignFactory(practice=chain.practice_a, name="Voorjaar")
    autumn = factories.CampaignFactory(practice=chain.practice_b, name="Najaar")
    elsewhere = factories.CampaignFactory(practice=chain.practice_other_zorggroep, name="Elders")
    _invitees(spring, sent=12, answered=6)
    _invitees(autumn, sent=7, answered=3)
    _invitees(elsewhere, sent=9, answered=9)

    period = parse_period("2026-Q4")
    report = build.zorggroep_report(chain.zorggroep, period, today=period.end)
    texts = {
        row["label"]: [c.text for c in cells] for row, cells in report.table("campaigns").body()
    }

    assert set(texts) == {"Praktijk A: Voorjaar", "Praktijk B: Najaar"}
    assert texts["Praktijk A: Voorjaar"][:2] == ["12", "×"]  # hidden so that 9 − 6 gives no 3
    assert texts["Praktijk B: Najaar"][:2] == ["7", "< 5"]
