"""The provider's worklist and the practice's referral list: scoped, sorted, constant queries."""

import datetime

import time_machine
from django.urls import reverse
from django.utils import timezone

from tests import factories


def _referral(chain, practice=None, **kwargs):
    practice = practice or chain.practice_a
    return factories.ReferralFactory(patient=factories.PatientFactory(practice=practice), **kwargs)


def test_worklist_is_oldest_first_and_marks_overdue_first_contacts(client, chain, coach):
    with time_machine.travel(datetime.datetime(2026, 11, 20, 9, 0, tzinfo=datetime.UTC)):  # Friday
        old = _referral(chain)
    with time_machine.travel(datetime.datetime(2026, 11, 24, 9, 0, tzinfo=datetime.UTC)):
        new = _referral(chain)
    with time_machine.travel(
        datetime.datetime(2026, 11, 25, 9, 0, tzinfo=datetime.UTC)
    ):  # Wednesday
        client.force_login(coach)
        response = client.get(reverse("referral-worklist"))
    assert [row["pk"] for row in response.context["rows"]] == [old.pk, new.pk]
    assert old.first_contact_due == datetime.date(2026, 11, 24)  # two working days after Friday
    assert 'class="overdue"' in response.content.decode()


def test_worklist_shows_only_own_provider(client, chain, other_coach):
    _referral(chain)
    client.force_login(other_coach)
    assert client.get(reverse("referral-worklist")).context["rows"] == []


def test_worklist_runs_a_constant_number_of_queries(
    client, chain, coach, django_assert_num_queries
):
    for _ in range(3):
        _referral(chain)
    client.force_login(coach)
    client.get(reverse("referral-worklist"))
    # session, user, memberships, worklist rows (with patient/practice/coach and attempt counts),
    # audit chain (savepoint, lock on PostgreSQL, last hash, insert, release), menu memberships
    with django_assert_num_queries(_count(client, reverse("referral-worklist"))) as ctx:
        client.get(reverse("referral-worklist"))
    for _ in range(10):
        _referral(chain)
    with django_assert_num_queries(len(ctx.captured_queries)):
        client.get(reverse("referral-worklist"))


def _count(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    return len(ctx.captured_queries)


def test_practice_list_runs_a_constant_number_of_queries(
    client, chain, poh, django_assert_num_queries
):
    _referral(chain)
    client.force_login(poh)
    baseline = _count(client, reverse("referral-list"))
    for _ in range(10):
        _referral(chain)
    with django_assert_num_queries(baseline):
        client.get(reverse("referral-list"))


def test_practice_sees_only_its_own_referrals(client, chain, poh):
    mine = _referral(chain)
    _referral(chain, practice=chain.practice_b)
    client.force_login(poh)
    assert [r.pk for r in client.get(reverse("referral-list")).context["referrals"]] == [mine.pk]


def test_first_contact_due_skips_dutch_public_holidays(chain):
    with time_machine.travel(datetime.datetime(2026, 12, 24, 9, 0, tzinfo=datetime.UTC)):
        referral = _referral(chain, received_at=timezone.now())
    # Thursday 24 Dec: Christmas 25 and 26 Dec, weekend 26-27 -> Mon 28, Tue 29.
    assert referral.first_contact_due == datetime.date(2026, 12, 29)
