"""The audit log as several hash chains side by side: simultaneous writers do not wait for each
other, and verification still catches every changed, removed or moved row."""

import threading

import pytest
from django.db import OperationalError, connection, transaction

from audit.models import AuditCheckpoint, AuditEvent
from audit.services import GENESIS_HASH, audit_record, audit_verify_chain
from carechain.access import Actor
from tests import factories
from tests.concurrency import at_once


@pytest.fixture
def patient(chain):
    return factories.PatientFactory(practice=chain.practice_a)


def _write(poh, patient, *, chain: int, times: int = 1) -> list[AuditEvent]:
    """Rows written by a connection whose preferred chain is ``chain`` (free, so it gets it)."""
    connection.audit_chain = chain
    return [
        audit_record(who=Actor.for_user(poh), action="view", patient_id=patient.pk)
        for _ in range(times)
    ]


def _tamper(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")


def test_the_rows_of_one_transaction_stay_on_one_chain(poh, patient):
    with transaction.atomic():
        events = [
            audit_record(who=Actor.for_user(poh), action="view", patient_id=patient.pk)
            for _ in range(3)
        ]
    assert len({event.chain for event in events}) == 1
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]


def test_each_chain_links_only_its_own_rows(poh, patient):
    first_a = _write(poh, patient, chain=2)[0]
    first_b = _write(poh, patient, chain=5)[0]
    second_a = _write(poh, patient, chain=2)[0]

    assert (first_a.prev_hash, first_b.prev_hash) == (GENESIS_HASH, GENESIS_HASH)
    assert second_a.prev_hash == first_a.hash


def test_several_chains_verify_and_leave_a_checkpoint_for_each(poh, patient):
    _write(poh, patient, chain=2, times=2)
    _write(poh, patient, chain=5, times=3)
    _write(poh, patient, chain=2)

    assert audit_verify_chain() == []

    checkpoints = {c.chain: c for c in AuditCheckpoint.objects.all()}
    assert {chain: c.rows for chain, c in checkpoints.items()} == {2: 3, 5: 3}
    for chain, c in checkpoints.items():
        assert c.last_event_id == AuditEvent.objects.filter(chain=chain).latest("id").pk


def test_removing_the_newest_row_of_one_chain_is_detected(poh, patient):
    _write(poh, patient, chain=2, times=2)
    _write(poh, patient, chain=5, times=2)  # the log's newest rows are on chain 5
    assert audit_verify_chain() == []
    newest_of_2 = AuditEvent.objects.filter(chain=2).latest("id")

    _tamper("DELETE FROM audit_auditevent WHERE id = %s", [newest_of_2.pk])

    assert audit_verify_chain() == [
        f"row {newest_of_2.pk}: seen by an earlier check, now gone (rows removed from the end)"
    ]


def test_a_row_moved_to_another_chain_is_detected(poh, patient):
    _write(poh, patient, chain=2, times=3)
    _write(poh, patient, chain=5, times=1)
    middle = AuditEvent.objects.filter(chain=2).order_by("id")[1]

    _tamper("UPDATE audit_auditevent SET chain = 5 WHERE id = %s", [middle.pk])

    problems = audit_verify_chain()
    assert any(p.startswith(f"row {middle.pk}: previous-hash link broken") for p in problems)
    assert AuditCheckpoint.objects.count() == 0


def test_one_configured_chain_puts_every_row_on_it(poh, patient, settings):
    settings.AUDIT_CHAINS = 1
    events = _write(poh, patient, chain=7, times=2)
    assert {event.chain for event in events} == {0}
    assert audit_verify_chain() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_four_writers_in_open_transactions_write_at_once_on_four_chains(
    postgresql_only, poh, patient
):
    """Each writer keeps its transaction open until all four have written: with one chain the
    second would wait for the first's commit and the barrier would break."""
    inside = threading.Barrier(4)

    def writer():
        with transaction.atomic():
            event = audit_record(who=Actor.for_user(poh), action="view", patient_id=patient.pk)
            inside.wait(timeout=20)
        return event.chain

    chains = at_once(writer, times=4)

    assert len(set(chains)) == 4
    assert AuditEvent.objects.count() == 4
    assert audit_verify_chain() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_with_one_chain_a_second_writer_waits_for_the_first(
    postgresql_only, poh, patient, settings
):
    settings.AUDIT_CHAINS = 1
    written, done = threading.Event(), threading.Event()

    def holder():
        with transaction.atomic():
            audit_record(who=Actor.for_user(poh), action="view", patient_id=patient.pk)
            written.set()
            done.wait(timeout=20)
        return "held"

    def second():
        assert written.wait(timeout=20)
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '300ms'")
                audit_record(who=Actor.for_user(poh), action="view", patient_id=patient.pk)
            return "written"
        except OperationalError:
            return "waited"
        finally:
            done.set()

    assert sorted(at_once([holder, second])) == ["held", "waited"]
    assert AuditEvent.objects.count() == 1
