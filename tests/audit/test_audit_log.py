"""NEN 7513: every access to a patient record is logged, and the log cannot be changed."""

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse

from audit.models import AppendOnlyError, AuditEvent
from audit.services import audit_record, audit_verify_chain
from carechain.access import Actor
from tests import factories


@pytest.fixture
def patient(chain):
    return factories.PatientFactory(practice=chain.practice_a)


def test_opening_a_patient_writes_one_audit_row_with_who_what_where(client, poh, patient, chain):
    client.force_login(poh)
    client.get(reverse("patient-detail", args=[patient.pk]), REMOTE_ADDR="10.1.2.3")
    event = AuditEvent.objects.get()
    assert event.action == AuditEvent.Action.VIEW
    assert event.patient_id == patient.pk
    assert event.user_id == poh.pk
    assert event.roles == "poh_s"
    assert event.organisation == chain.practice_a.name
    assert event.channel == "web"
    assert event.ip == "10.1.2.3"


def test_a_refused_patient_view_logs_no_access(client, other_poh, patient):
    client.force_login(other_poh)
    client.get(reverse("patient-detail", args=[patient.pk]))
    assert not AuditEvent.objects.exists()


def test_api_read_is_logged_with_the_api_key_and_channel(api, chain, patient):
    key = factories.api_key(chain.practice_a)
    api.get(f"/api/patients/{patient.pk}/", HTTP_AUTHORIZATION=f"Api-Key {key}")
    event = AuditEvent.objects.get()
    assert event.channel == "api"
    assert event.api_key.startswith(key.split(".")[0])
    assert event.user_id is None


def test_the_log_refuses_change_and_delete_through_the_orm(poh, patient):
    event = audit_record(who=Actor.for_user(poh), action="view", patient_id=patient.pk)
    event.detail = "tampered"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(detail="x")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()


def test_the_admin_cannot_change_or_delete_audit_rows(admin_client, poh, patient):
    event = audit_record(who=Actor.for_user(poh), action="view", patient_id=patient.pk)
    assert admin_client.get(reverse("admin:audit_auditevent_changelist")).status_code == 200
    response = admin_client.post(
        reverse("admin:audit_auditevent_delete", args=[event.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_hash_chain_detects_a_changed_row(poh, patient, postgresql_only):
    for _ in range(3):
        audit_record(who=Actor.for_user(poh), action="view", patient_id=patient.pk)
    assert audit_verify_chain() == []
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_append_only")
        cursor.execute(
            "UPDATE audit_auditevent SET detail = 'edited' WHERE id = %s",
            [AuditEvent.objects.order_by("id")[1].pk],
        )
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_auditevent_append_only")
    problems = audit_verify_chain()
    assert len(problems) == 1 and "changed" in problems[0]
    with pytest.raises(Exception, match="tampered"):
        call_command("audit_verify")


def test_postgresql_trigger_refuses_update_and_delete(poh, patient, postgresql_only):
    from django.db import DatabaseError

    event = audit_record(who=Actor.for_user(poh), action="view", patient_id=patient.pk)
    for sql in (
        "UPDATE audit_auditevent SET detail = 'x' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk, detail="").exists()


def test_admin_patient_view_is_audited(admin_client, patient):
    admin_client.get(reverse("admin:carechain_patient_change", args=[patient.pk]))
    event = AuditEvent.objects.get()
    assert (event.channel, event.action, event.patient_id) == ("admin", "view", patient.pk)
