"""Clinical data stays with the care team: billing and contract parties never see it, and the POH-GGZ's
mental-health notes reach only the POH-GGZ of the practice and the trajectory's own coach
(``pathways.access.can_read_ggz_notes``).

Walks the same URLs as the access matrix (``tests/access_rules.py``), every one as each persona,
and reads every answer: pages, API and FHIR responses, error pages.
"""

from __future__ import annotations

import pytest

from tests.access_rules import (
    CLAIMS_KEY,
    COACH,
    INSURER,
    OUTSIDERS,
    POH_GGZ,
    RULES,
    ZG_ADMIN,
)
from tests.access_world import (
    CO_PPM,
    CONTACT_NOTE,
    ESCALATION_EXPLANATION,
    GGZ_REPORT,
    GGZ_SESSION_NOTE,
    GGZ_TEXTS,
    ask,
    endpoints,
    rule_id,
    rules_for,
    skip_reason,
    world_for_module,
)

# Contract and billing parties: they pay for care, they do not read it.
NON_CLINICAL = (INSURER, CLAIMS_KEY, ZG_ADMIN)
GGZ_READERS = {POH_GGZ, COACH}

CLINICAL_MARKERS = (
    *GGZ_TEXTS,
    CONTACT_NOTE,
    # CO measurement, as the pages and the API show it
    f"CO {CO_PPM}",
    f"{CO_PPM} ppm",
    "co_ppm",
    # smoking status, in Dutch and in English, and as an API field
    "rookvrij",
    "enkele sigaretten",
    "smoke-free",
    "a few cigarettes",
    "smoking_status",
)

# The zorggroep's report shows outcomes as counts and shares of many patients (how many quit, CO
# below 10 ppm as the definition): the words are there, no patient's own data. The planted texts
# and the fixture patient's CO value must still never appear on it.
AGGREGATE_REPORTS = {"report-zorggroep", "report-zorggroep-export"}
AGGREGATE_WORDS = {"rookvrij", "smoke-free", "ppm"}
PATIENT_MARKERS = tuple(m for m in CLINICAL_MARKERS if m not in AGGREGATE_WORDS)

WALK = [
    (endpoint, rule)
    for endpoint in endpoints()
    if skip_reason(endpoint) is None
    for rule in rules_for(endpoint, RULES)
]
IDS = [rule_id(endpoint, rule) for endpoint, rule in WALK]


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with world_for_module(django_db_blocker) as built:
        yield built


def test_the_planted_clinical_texts_are_on_the_care_teams_pages(world, client, db):
    """Guards the leak tests below: the texts they look for really are in the fixture's pages."""
    client.force_login(world.users[COACH])
    page = client.get(f"/trajectories/{world.pk('trajectory')}/").content.decode()
    for text in (
        GGZ_SESSION_NOTE,
        GGZ_REPORT,
        ESCALATION_EXPLANATION,
        CONTACT_NOTE,
        f"CO {CO_PPM}",
    ):
        assert text in page
    assert "enkele sigaretten" in page


@pytest.mark.parametrize(("endpoint", "rule"), WALK, ids=IDS)
def test_insurers_and_the_zorggroep_never_see_clinical_data(endpoint, rule, world, db):
    leaks = []
    markers = PATIENT_MARKERS if rule.name in AGGREGATE_REPORTS else CLINICAL_MARKERS
    for name in NON_CLINICAL:
        client = world.clients[name]
        body = ask(client, world, rule).body
        leaks += [f"{name} sees {marker!r}" for marker in markers if marker in body]
    assert not leaks, f"{world.url(rule)}: " + "; ".join(leaks)


@pytest.mark.parametrize(("endpoint", "rule"), WALK, ids=IDS)
def test_ggz_notes_reach_only_the_poh_ggz_of_the_practice_and_the_trajectorys_coach(
    endpoint, rule, world, db
):
    leaks = []
    for name, client in world.clients.items():
        if name in GGZ_READERS:
            continue
        body = ask(client, world, rule).body
        leaks += [f"{name} sees {text!r}" for text in GGZ_TEXTS if text in body]
    assert not leaks, f"{world.url(rule)}: " + "; ".join(leaks)


def test_other_organisations_never_see_the_patient(world, db):
    """Outsiders (practice B, another provider, another zorggroep, insurer B) on every URL: not the
    patient's BSN, not the patient's name."""
    patient = world.objects["patient"]
    leaks = []
    for _endpoint, rule in WALK:
        for name in (p.name for p in OUTSIDERS):
            client = world.clients[name]
            body = ask(client, world, rule).body
            for text in (patient.bsn, patient.last_name):
                if text in body:
                    leaks.append(f"{world.url(rule)}: {name} sees {text!r}")
    assert not leaks, "\n".join(leaks)
