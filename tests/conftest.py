"""Shared fixtures: the named personas of access tests, and CI's rule that missing services fail."""

import os
from dataclasses import dataclass

import pytest
from django.db import connection
from rest_framework.test import APIClient

from carechain.models import Role
from tests import factories

IN_CI = os.environ.get("CI", "").lower() == "true"


def need_service(reason: str) -> None:
    """Skip locally, but fail on CI: there a missing PostgreSQL, Redis or Chromium is a red build."""
    if IN_CI:
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session", autouse=True)
def _ci_runs_on_postgresql(django_db_setup, django_db_blocker):
    if IN_CI:
        with django_db_blocker.unblock():
            if connection.vendor != "postgresql":
                pytest.fail("CI=true but the tests do not run on PostgreSQL (set DATABASE_URL)")


@pytest.fixture
def postgresql_only(db):
    if connection.vendor != "postgresql":
        need_service("this test needs PostgreSQL (DATABASE_URL=postgres://...)")


@dataclass
class Chain:
    """Two practices of one zorggroep, a third in another; two providers; two insurers."""

    zorggroep: object
    practice_a: object
    practice_b: object
    practice_other_zorggroep: object
    provider: object
    other_provider: object
    insurer_a: object
    insurer_b: object


@pytest.fixture
def chain(db):
    provider = factories.ProviderFactory(name="Stoppen BV")
    zorggroep = factories.ZorggroepFactory(name="Zorggroep West", smr_provider=provider)
    return Chain(
        zorggroep=zorggroep,
        practice_a=factories.PracticeFactory(name="Praktijk A", zorggroep=zorggroep),
        practice_b=factories.PracticeFactory(name="Praktijk B", zorggroep=zorggroep),
        practice_other_zorggroep=factories.PracticeFactory(name="Praktijk Elders"),
        provider=provider,
        other_provider=factories.ProviderFactory(name="Andere Stoppers BV"),
        insurer_a=factories.InsurerFactory(name="Verzekeraar A"),
        insurer_b=factories.InsurerFactory(name="Verzekeraar B"),
    )


@pytest.fixture
def poh(chain):
    """The referring POH-S of practice A."""
    return factories.member(Role.POH_S, chain.practice_a)


@pytest.fixture
def gp(chain):
    return factories.member(Role.GP, chain.practice_a)


@pytest.fixture
def poh_ggz(chain):
    return factories.member(Role.POH_GGZ, chain.practice_a)


@pytest.fixture
def other_poh(chain):
    """A POH-S of practice B: same zorggroep, different practice."""
    return factories.member(Role.POH_S, chain.practice_b)


@pytest.fixture
def coach(chain):
    return factories.member(Role.COACH, chain.provider)


@pytest.fixture
def planner(chain):
    return factories.member(Role.PLANNER, chain.provider)


@pytest.fixture
def other_coach(chain):
    return factories.member(Role.COACH, chain.other_provider)


@pytest.fixture
def zorggroep_admin(chain):
    return factories.member(Role.ZORGGROEP_ADMIN, chain.zorggroep)


@pytest.fixture
def insurer_user(chain):
    return factories.member(Role.INSURER, chain.insurer_a)


@pytest.fixture
def api():
    return APIClient()
