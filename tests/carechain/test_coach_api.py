"""Issue 13: a planner's system learns the provider's coaches, and the opaque id it assigns by.

``GET /api/coaches/`` is the only place a coach's ``id`` comes from; it is for the provider's own
coaches and planners, shows no patient data and is in the audit log.
"""

import uuid

import pytest

from audit.models import AuditEvent
from carechain.models import Membership, Role
from tests import factories
from tests.referrals.api_support import claims_key, intake_key


def test_planner_lists_the_active_coaches_of_her_provider_with_their_registration(
    api, chain, planner, coach, other_coach, django_assert_num_queries
):
    Membership.objects.filter(user=coach).update(agb="01098765", krs_number="KRS-20417")
    gone = factories.member(Role.COACH, chain.provider)
    Membership.objects.filter(user=gone).update(is_active=False)
    api.force_login(planner)

    # session, user, OTP device, grants, the coaches with user and provider; the audit row in a
    # savepoint (lock, previous hash, insert: 5); the session's save in a savepoint (3)
    with django_assert_num_queries(13):
        response = api.get("/api/coaches/")

    assert response.status_code == 200, response.content
    assert response.json() == [
        {
            "id": str(coach.public_id),
            "name": str(coach),
            "provider_agb": chain.provider.agb,
            "krs_number": "KRS-20417",
            "krs_valid_until": Membership.objects.get(user=coach).krs_valid_until.isoformat(),
            "agb": "01098765",
        }
    ]
    uuid.UUID(response.json()[0]["id"])


def test_a_coach_sees_her_colleagues_and_not_another_providers_coaches(
    api, chain, coach, other_coach
):
    colleague = factories.member(Role.COACH, chain.provider)
    api.force_login(other_coach)
    theirs = api.get("/api/coaches/").json()
    api.force_login(coach)
    ours = api.get("/api/coaches/").json()

    assert {row["id"] for row in ours} == {str(coach.public_id), str(colleague.public_id)}
    assert [row["id"] for row in theirs] == [str(other_coach.public_id)]


def test_the_coach_list_read_is_in_the_audit_log(api, planner, coach):
    api.force_login(planner)
    api.get("/api/coaches/")

    event = AuditEvent.objects.get(detail="api coach list")
    assert event.action == AuditEvent.Action.LIST
    assert event.username == planner.username
    assert event.patient_id is None


@pytest.mark.parametrize("who", ["poh", "zorggroep_admin", "insurer_user"])
def test_people_outside_the_provider_may_not_list_its_coaches(api, request, who, coach):
    api.force_login(request.getfixturevalue(who))
    assert api.get("/api/coaches/").status_code == 403


def test_api_keys_may_not_list_coaches(api, chain, coach):
    assert api.get("/api/coaches/", **intake_key(chain.practice_a)).status_code == 403
    assert api.get("/api/coaches/", **claims_key(chain.insurer_a)).status_code == 403
    assert api.get("/api/coaches/").status_code in (401, 403)
