"""The letter campaigns' place in the zorggroep report: rendered only when the app ``campaigns`` is
installed, its counts suppressed like the rest."""

import sys
import types

import pytest
from django.apps import apps

from reports import build
from reports.periods import parse_period

pytestmark = pytest.mark.django_db


def test_no_campaign_section_without_the_campaigns_app(chain):
    report = build.zorggroep_report(
        chain.zorggroep, parse_period("2026-Q4"), today=None or parse_period("2026-Q4").end
    )
    assert "campaigns" not in [s.key for s in report.sections]


def test_campaign_funnels_are_shown_with_small_cells_hidden(chain, monkeypatch):
    queries = types.ModuleType("campaigns.queries")
    queries.campaign_funnels_for_zorggroep = lambda zorggroep: [
        {
            "name": "Praktijk A, voorjaar",
            "sent": 400,
            "answered": 40,
            "referred": 22,
            "started": 18,
            "quit": 3,
        },
        {
            "name": "Praktijk B, najaar",
            "sent": 120,
            "answered": 9,
            "referred": 6,
            "started": 5,
            "quit": 6,
        },
    ]
    package = types.ModuleType("campaigns")
    package.queries = queries
    monkeypatch.setitem(sys.modules, "campaigns", package)
    monkeypatch.setitem(sys.modules, "campaigns.queries", queries)
    real = apps.is_installed
    monkeypatch.setattr(apps, "is_installed", lambda name: name == "campaigns" or real(name))
    period = parse_period("2026-Q4")
    report = build.zorggroep_report(chain.zorggroep, period, today=period.end)
    table = report.table("campaigns")
    texts = {row["label"]: [c.text for c in cells] for row, cells in table.body()}
    assert texts["Praktijk A, voorjaar"][:2] == ["400", "40"]
    assert texts["Praktijk A, voorjaar"][4] == "< 5"
    assert texts["Praktijk B, najaar"][4] == "< 5"  # the complement of A's 3 in the total of 9
