"""NEN 7513: every access to a patient record is logged, and the log cannot be changed."""

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse

from audit.models import AppendOnlyError, AuditCheckpoint, AuditEvent
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
    api.get(f"/api/patients/{patient.public_id}/", HTTP_AUTHORIZATION=f"Api-Key {key}")
    event = AuditEvent.objects.get()
    assert event.patient_id == patient.pk  # the audit log keeps the internal id
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


def _tamper(sql: str, params: list) -> None:
    """What only someone with the database's owner rights could do: bypass the trigger."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")


def test_removing_the_newest_rows_after_a_check_is_detected(poh, patient):
    for _ in range(4):
        audit_record(who=Actor.for_user(poh), action="view", patient_id=patient.pk)
    assert audit_verify_chain() == []
    checkpoint = AuditCheckpoint.objects.get()
    assert (checkpoint.rows, checkpoint.last_event_id) == (4, AuditEvent.objects.latest("id").pk)
    newest = list(AuditEvent.objects.order_by("-id").values_list("id", flat=True)[:2])

    _tamper("DELETE FROM audit_auditevent WHERE id >= %s", [min(newest)])

    problems = audit_verify_chain()
    assert problems == [
        f"row {checkpoint.last_event_id}: seen by an earlier check, now gone "
        "(rows removed from the end)"
    ]
    assert AuditCheckpoint.objects.count() == 1  # a broken chain leaves no new checkpoint
    with pytest.raises(Exception, match="tampered"):
        call_command("audit_verify")


def test_a_newest_row_replaced_after_a_check_is_detected(poh, patient):
    for _ in range(2):
        audit_record(who=Actor.for_user(poh), action="view", patient_id=patient.pk)
    assert audit_verify_chain() == []
    last = AuditEvent.objects.latest("id")
    _tamper("DELETE FROM audit_auditevent WHERE id = %s", [last.pk])
    forged = AuditEvent(**{f.attname: getattr(last, f.attname) for f in last._meta.fields})
    forged.detail = "nothing to see"
    forged.hash = forged.compute_hash()
    AuditEvent.objects.bulk_create([forged])  # the same id, as a forger would give it

    assert audit_verify_chain() == [
        f"row {last.pk}: not the row an earlier check saw (row replaced)"
    ]


def test_the_checkpoints_are_append_only(poh, patient):
    audit_record(who=Actor.for_user(poh), action="view", patient_id=patient.pk)
    audit_verify_chain()
    checkpoint = AuditCheckpoint.objects.get()
    with pytest.raises(AppendOnlyError):
        checkpoint.save()
    with pytest.raises(AppendOnlyError):
        AuditCheckpoint.objects.all().delete()


def test_postgresql_trigger_refuses_changing_a_checkpoint(poh, patient, postgresql_only):
    from django.db import DatabaseError

    audit_record(who=Actor.for_user(poh), action="view", patient_id=patient.pk)
    audit_verify_chain()
    with (
        pytest.raises(DatabaseError, match="audit_auditcheckpoint is append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM audit_auditcheckpoint")
    assert AuditCheckpoint.objects.count() == 1


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
