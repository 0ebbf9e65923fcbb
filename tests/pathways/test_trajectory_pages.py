"""The coach's caseload and the trajectory page: scoping, GGZ-note privacy, buttons, query counts."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from carechain.access import Actor
from pathways import services
from pathways.models import Trajectory
from tests import factories
from tests.concurrency import at_once

GGZ_NOTE = "Angst voor afwijzing door vrienden"


@pytest.fixture
def escalated(chain, coach, poh_ggz):
    trajectory = factories.trajectory_in(
        "escalated",
        coach=coach,
        referral__patient=factories.PatientFactory(practice=chain.practice_a),
    )
    services.escalation_record_session(
        actor=Actor.for_user(poh_ggz),
        escalation_id=trajectory.escalations.get().pk,
        date=datetime.date.today(),
        duration_minutes=45,
        notes=GGZ_NOTE,
    )
    return trajectory


def _page(client, user, trajectory):
    client.force_login(user)
    return client.get(reverse("trajectory-detail", args=[trajectory.pk]))


def test_ggz_notes_are_visible_to_the_poh_ggz_and_the_coach_of_the_trajectory(
    client, escalated, coach, poh_ggz
):
    assert GGZ_NOTE in _page(client, coach, escalated).content.decode()
    assert GGZ_NOTE in _page(client, poh_ggz, escalated).content.decode()


@pytest.mark.parametrize("persona", ["poh", "gp", "planner"])
def test_ggz_notes_are_hidden_from_other_roles(client, escalated, request, persona):
    response = _page(client, request.getfixturevalue(persona), escalated)
    assert response.status_code == 200
    assert GGZ_NOTE not in response.content.decode()


def test_a_colleague_coach_does_not_see_the_ggz_notes(client, escalated):
    colleague = factories.member("coach", escalated.provider)
    assert GGZ_NOTE not in _page(client, colleague, escalated).content.decode()


@pytest.mark.parametrize("persona", ["other_coach", "other_poh", "insurer_user", "zorggroep_admin"])
def test_outsiders_get_404_on_the_trajectory_page(client, escalated, request, persona):
    assert _page(client, request.getfixturevalue(persona), escalated).status_code == 404


def test_the_page_offers_exactly_the_transitions_allowed_now(client, chain, coach):
    trajectory = factories.trajectory_in(
        "counselling",
        coach=coach,
        referral__patient=factories.PatientFactory(practice=chain.practice_a),
    )
    body = _page(client, coach, trajectory).content.decode()
    assert 'id="do-escalate"' in body and 'id="do-end-treatment"' in body
    assert 'id="do-intake"' not in body and 'id="do-follow-up"' not in body


def test_a_stale_form_gets_changed_meanwhile_and_changes_nothing(client, chain, coach):
    trajectory = factories.trajectory_in(
        "counselling",
        coach=coach,
        referral__patient=factories.PatientFactory(practice=chain.practice_a),
    )
    services.trajectory_escalate(
        actor=Actor.for_user(coach), trajectory_id=trajectory.pk, reason="thoughts", explanation="x"
    )
    client.force_login(coach)
    response = client.post(
        reverse("trajectory-action", args=[trajectory.pk, "end-treatment"]),
        {"expected_state": "counselling", "end_date": "2026-11-01", "result": "smoke_free"},
        follow=True,
    )
    assert "gewijzigd" in response.content.decode()
    assert Trajectory.objects.get(pk=trajectory.pk).state == "escalated"


def test_contact_form_with_co_out_of_range_shows_an_error(client, chain, coach):
    trajectory = factories.trajectory_in(
        "counselling",
        coach=coach,
        referral__patient=factories.PatientFactory(practice=chain.practice_a),
    )
    client.force_login(coach)
    response = client.post(
        reverse("trajectory-action", args=[trajectory.pk, "contact"]),
        {
            "kind": "phone",
            "date": "2026-11-01",
            "duration_minutes": "15",
            "smoking_status": "smoke_free",
            "co_ppm": "150",
        },
        follow=True,
    )
    assert 'class="error"' in response.content.decode()
    assert trajectory.contacts.count() == 1


def _caseload_queries(client):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("caseload"))
    assert response.status_code == 200
    return len(ctx.captured_queries), response


def test_caseload_runs_a_constant_number_of_queries(
    client, chain, coach, django_assert_num_queries
):
    def add(n):
        for _ in range(n):
            factories.trajectory_in(
                "counselling",
                coach=coach,
                referral__patient=factories.PatientFactory(practice=chain.practice_a),
            )

    add(2)
    client.force_login(coach)
    baseline, _ = _caseload_queries(client)
    add(8)
    # session, user, memberships, caseload rows (one query with all annotations), coaches,
    # locations, practices, audit chain (savepoint, lock on PostgreSQL, last hash, insert, release)
    with django_assert_num_queries(baseline):
        response = client.get(reverse("caseload"))
    assert len(response.context["rows"]) == 10


def test_caseload_is_one_audit_row_found_in_every_listed_patients_access_report(
    client, chain, coach
):
    from audit.models import AuditEvent
    from audit.queries import events_of_patient
    from carechain.models import Role

    colleague = factories.member(Role.COACH, chain.provider)

    mine = [
        factories.trajectory_in(
            "counselling",
            coach=coach,
            referral__patient=factories.PatientFactory(practice=chain.practice_a),
        )
        for _ in range(3)
    ]
    someone_else = factories.trajectory_in(
        "counselling",
        coach=colleague,
        referral__patient=factories.PatientFactory(practice=chain.practice_a),
    )
    client.force_login(coach)
    before = AuditEvent.objects.count()
    assert client.get(reverse("caseload")).status_code == 200
    (row,) = AuditEvent.objects.filter(pk__gt=before, detail="caseload")
    assert (row.action, row.user_id, row.patient_count) == ("list", coach.pk, 3)
    assert sorted(row.object_ids.split(",")) == sorted(str(t.pk) for t in mine)
    for trajectory in mine:
        assert row in events_of_patient(trajectory.patient_id)
    assert row not in events_of_patient(someone_else.patient_id)


def test_caseload_shows_the_next_action_and_marks_overdue(client, chain, coach):
    trajectory = factories.trajectory_in(
        "intake_done",
        coach=coach,
        intake_date=datetime.date(2026, 1, 5),
        quit_date=datetime.date(2026, 1, 10),
        referral__patient=factories.PatientFactory(practice=chain.practice_a, last_name="Laat"),
    )
    client.force_login(coach)
    _, response = _caseload_queries(client)
    row = response.context["rows"][0]
    assert row["pk"] == trajectory.pk
    assert row["action"].due == datetime.date(2026, 1, 10)
    assert row["overdue"]


def test_caseload_search_by_bsn_and_coach_sees_only_own_provider(client, chain, coach, other_coach):
    patient = factories.PatientFactory(practice=chain.practice_a)
    factories.trajectory_in("counselling", coach=coach, referral__patient=patient)
    client.force_login(coach)
    assert len(client.get(reverse("caseload"), {"q": patient.bsn}).context["rows"]) == 1
    assert len(client.get(reverse("caseload"), {"q": "999999990"}).context["rows"]) == 0
    client.force_login(other_coach)
    assert client.get(reverse("caseload"), {"coach": ""}).context["rows"] == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_coaches_acting_at_once_never_overwrite_each_other(postgresql_only, chain, coach):
    trajectory = factories.trajectory_in(
        "counselling",
        coach=coach,
        referral__patient=factories.PatientFactory(practice=chain.practice_a),
    )
    colleague = factories.member("coach", trajectory.provider)

    def act(user, call):
        try:
            call(Actor.for_user(user))
            return "ok"
        except services.ValidationError as exc:
            return exc.code

    outcomes = at_once(
        [
            lambda: act(
                coach,
                lambda a: services.trajectory_escalate(
                    actor=a,
                    trajectory_id=trajectory.pk,
                    reason="thoughts",
                    explanation="x",
                    expected_state="counselling",
                ),
            ),
            lambda: act(
                colleague,
                lambda a: services.trajectory_end_treatment(
                    actor=a,
                    trajectory_id=trajectory.pk,
                    end_date=datetime.date.today(),
                    result="smoke_free",
                    expected_state="counselling",
                ),
            ),
        ]
    )
    assert sorted(outcomes) == ["changed_meanwhile", "ok"]
    trajectory = Trajectory.objects.get(pk=trajectory.pk)
    assert trajectory.events.filter(action__in=["escalate", "end_treatment"]).count() == 1


def test_planner_filters_the_caseload_by_coach_and_sees_the_coach_column(
    client, chain, coach, planner
):
    colleague = factories.member(
        "coach", chain.provider, user__first_name="Bea", user__last_name="Collega"
    )
    factories.trajectory_in(
        "counselling",
        coach=coach,
        referral__patient=factories.PatientFactory(practice=chain.practice_a, last_name="Eigen"),
    )
    factories.trajectory_in(
        "intake_done",
        coach=colleague,
        referral__patient=factories.PatientFactory(
            practice=chain.practice_a, last_name="<i>Schuin</i>"
        ),
    )
    client.force_login(planner)
    everyone = client.get(reverse("caseload"))
    assert len(everyone.context["rows"]) == 2
    response = client.get(reverse("caseload"), {"coach": colleague.pk})
    html = response.content.decode()
    assert [row["coach"] for row in response.context["rows"]] == ["Bea Collega"]
    assert f'<option value="{colleague.pk}" selected>Bea Collega</option>' in html
    assert "<td>Bea Collega</td>" in html  # the planner's coach column
    assert "&lt;i&gt;Schuin&lt;/i&gt;" in html and "<i>Schuin</i>" not in html
    assert "Eigen" not in html


def test_the_reminders_box_on_the_caseload_is_one_query_however_many_reminders(
    client, chain, coach
):
    from reminders.models import Reminder

    def remind(n):
        for _ in range(n):
            trajectory = factories.trajectory_in(
                "end_of_treatment",
                coach=coach,
                referral__patient=factories.PatientFactory(practice=chain.practice_a),
            )
            Reminder.objects.create(
                key=f"call-{trajectory.pk}",
                kind=Reminder.Kind.FOLLOW_UP_CALL,
                provider=chain.provider,
                user=coach,
                trajectory=trajectory,
                due=datetime.date(2026, 1, 5),
            )

    remind(1)
    client.force_login(coach)
    baseline, response = _caseload_queries(client)
    assert "05-01-2026 · " in response.content.decode()
    remind(4)
    queries, response = _caseload_queries(client)
    assert queries == baseline
    assert response.content.decode().count("05-01-2026 · ") == 5
