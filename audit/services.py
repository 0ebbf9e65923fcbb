"""Writing and verifying the audit log. Every room calls ``audit_record`` / ``audit_record_many``.

The log is not one hash chain but ``settings.AUDIT_CHAINS`` of them (16 unless configured), side by
side in one table: each row names its ``chain`` and carries the hash of the previous row *of that
chain*. A writer holds one chain (a PostgreSQL advisory lock keyed by the chain's number) from its
first audit row to the end of its transaction, so the rows of one chain are linked in commit order
and no row can be slipped between two others. One chain was measured to serialise every audited
request of the platform behind a single lock, held across the commit's fsync (docs/scaling.md);
with several chains, writers that arrive together each take a free chain (``pg_try_advisory_
xact_lock``) and only wait when every chain is busy. ``AUDIT_CHAINS=1`` is the former single chain.

``audit_verify_chain`` walks all rows in id order, following each chain's links separately, and
leaves one checkpoint per chain (its newest row), so removing the newest rows of any chain is
noticed just as with one chain. Within one chain ids grow with commit order, because the next
writer of a chain only gets its lock after the previous one committed.

**A page of a bulk pull is one row** (``audit_record_page``), not one row per record on it. An
insurer pulling a year of claims reads 5,000 claims a request; one row per claim was measured at
about 190 µs a row (a row of ~300 bytes into a table with seven indexes, a hash per row), most of
the request (docs/explain/claims_pull.md). NEN 7513 asks that the log say *who* (user, role,
organisation, API key), *when*, *what action*, *through which channel* and *whose record*
(the cliënt) was accessed, and that the patient can be told every access to their record; it
does not ask for one row per record. So a page row keeps all of that: the action, who and when once,
every patient on the page in ``AuditEventPatient`` (one narrow row per distinct patient, indexed
by patient: the patient's access report and the privacy officer's search by patient find the
page row, ``audit.queries``), and the keys of every claim on the page in ``object_ids``, in page
order, so which claims were read stays reconstructible. The row's hash covers the patient list and
the keys, and ``audit_verify_chain`` reads the list back: a patient taken away from (or added to)
a page row breaks the chain like any changed row. The care staff's own lists (the caseload of 200,
the worklist of 300) are pages too: a row per record there was 5-20 ms of a page of about 50
(docs/benchmarks.md). Single reads (``audit_record``) stay one row per record, and so do the
changes a task makes to many records at once (``audit_record_rows``: each is a change of its own).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from carechain.sql_arrays import bigint_array

from .models import AuditCheckpoint, AuditEvent, AuditEventPatient

logger = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
_CHAIN_LOCK_ID = 7513


class Who(Protocol):
    """Whoever touches patient data: a person in the browser, an API client, a background task."""

    audit_user_id: int | None
    audit_username: str
    audit_api_key: str
    audit_roles: str
    audit_organisation: str
    channel: str
    ip: str | None


@dataclass(frozen=True)
class Touch:
    """One patient record (and optionally the object within it) that was accessed."""

    patient_id: int | None
    obj: Model | None = None
    detail: str = ""


def _chain_count() -> int:
    return max(1, int(getattr(settings, "AUDIT_CHAINS", 1)))


def _lock_chain() -> tuple[int, str]:
    """Hold one chain until the end of the transaction; returns (chain, hash of its newest row).

    Each connection prefers the chain it used last (random at first), so the rows of one
    transaction stay on one chain (advisory locks are re-entrant) and writers that run side by
    side keep to different chains. When the preferred chain is busy the others are tried without
    waiting; only when all are busy does the writer wait, for its preferred one.
    """
    chains = _chain_count()
    preferred = getattr(connection, "audit_chain", None)
    if preferred is None or preferred >= chains:
        preferred = random.randrange(chains)  # noqa: S311 - spreading load, not a secret
    chain = _claim(preferred, chains) if connection.vendor == "postgresql" else preferred
    connection.audit_chain = chain
    last = (
        AuditEvent.objects.filter(chain=chain)
        .order_by("-id")
        .values_list("hash", flat=True)
        .first()
    )
    return chain, last or GENESIS_HASH


def _who_fields(who: Who) -> dict:
    """Who acted, as every audit row stores it (cut to the columns' lengths)."""
    return {
        "channel": who.channel,
        "user_id": who.audit_user_id,
        "username": who.audit_username[:150],
        "api_key": who.audit_api_key[:150],
        "roles": who.audit_roles[:200],
        "organisation": who.audit_organisation[:300],
    }


def _claim(preferred: int, chains: int) -> int:
    with connection.cursor() as cursor:
        if chains > 1:
            for candidate in [preferred, *(c for c in range(chains) if c != preferred)]:
                cursor.execute(
                    "SELECT pg_try_advisory_xact_lock(%s, %s)", [_CHAIN_LOCK_ID, candidate]
                )
                if cursor.fetchone()[0]:
                    return candidate
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_CHAIN_LOCK_ID, preferred])
    return preferred


def audit_record_many(*, who: Who, action: str, touches: Iterable[Touch]) -> list[AuditEvent]:
    touches = list(touches)
    if not touches:
        return []
    now = timezone.now()
    with transaction.atomic():
        chain, prev = _lock_chain()
        events = []
        for touch in touches:
            event = AuditEvent(
                at=now,
                action=action,
                **_who_fields(who),
                patient_id=touch.patient_id,
                object_type=touch.obj._meta.label_lower if touch.obj is not None else "",
                object_id=str(touch.obj.pk) if touch.obj is not None else "",
                detail=touch.detail[:300],
                ip=who.ip,
                chain=chain,
                prev_hash=prev,
            )
            event.hash = event.compute_hash()
            prev = event.hash
            events.append(event)
        return AuditEvent.objects.bulk_create(events)


def audit_record_rows(
    *,
    who: Who,
    action: str,
    model: type[Model],
    rows: Iterable[tuple[int | None, object]],
    detail: str,
) -> int:
    """One audit row per (patient id, primary key) of ``model``: the rows of a page of a list.

    What ``audit_record_many`` writes for the same touches, in one INSERT without building a model
    instance per row, and with the chain's hashes from one template (``AuditEvent.chain_hashes``):
    an API page of 200 claims costs a fraction of a millisecond here instead of tens. Returns the
    number of rows written.
    """
    object_type = model._meta.label_lower
    rows = [(patient_id, str(pk)) for patient_id, pk in rows]
    if not rows:
        return 0
    constant = {
        "at": timezone.now(),
        "action": action,
        **_who_fields(who),
        "object_type": object_type,
        "detail": detail[:300],
        "ip": who.ip,
        "patient_count": 0,  # a row per record: no page's patients (the columns have no default)
        "object_ids": "",
    }
    with transaction.atomic():
        chain, prev = _lock_chain()
        constant["chain"] = chain
        hashes = AuditEvent.chain_hashes(constant, rows, prev=prev)
        _insert_rows(constant, rows, prev, hashes)
    return len(rows)


def audit_record_page(
    *,
    who: Who,
    action: str,
    model: type[Model],
    patient_ids: Iterable[int | None],
    object_ids: Sequence[object],
    detail: str,
) -> AuditEvent | None:
    """One audit row for a page of a bulk pull: every object of ``model`` on it, every patient.

    ``object_ids`` are the primary keys in page order, ``patient_ids`` the patients whose records
    they are (in any order, each once or more: the page's columns as
    ``StableCursorPagination.paginate_json`` returns them, no tuple per row). The row names the
    page's distinct patients (``AuditEventPatient``) and the keys of its objects in page order
    (``object_ids``); its hash covers both. Two statements on PostgreSQL (the row and its
    patients in one INSERT, after the chain's lock and newest hash), whatever the page size. An
    empty page writes nothing.
    """
    if not object_ids:
        return None
    patients = sorted({patient_id for patient_id in patient_ids if patient_id is not None})
    event = AuditEvent(
        at=timezone.now(),
        action=action,
        **_who_fields(who),
        patient_id=None,
        object_type=model._meta.label_lower,
        detail=detail[:300],
        ip=who.ip,
        patient_count=len(patients),
        object_ids=",".join(map(str, object_ids)),
    )
    with transaction.atomic():
        event.chain, event.prev_hash = _lock_chain()
        event.hash = event.compute_hash(patients)
        if connection.vendor == "postgresql":
            _insert_page_row(event, patients)
        else:
            event.save()
            AuditEventPatient.objects.bulk_create(
                AuditEventPatient(event=event, patient_id=patient_id) for patient_id in patients
            )
    return event


def _insert_page_row(event: AuditEvent, patients: list[int]) -> None:
    """The row and its patients in one statement (a data-modifying CTE)."""
    meta = AuditEvent._meta
    quote = connection.ops.quote_name
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    columns = ", ".join(quote(f.column) for f in fields)
    marks = ", ".join("%s" for _f in fields)
    values = [f.get_db_prep_save(getattr(event, f.attname), connection) for f in fields]
    link = AuditEventPatient._meta
    with connection.cursor() as cursor:
        # Identifiers come from the models' metadata, quoted; every value is a parameter. Both
        # INSERTs run (a data-modifying CTE always does), the statement returns the row's id.
        cursor.execute(
            f"WITH e AS (INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({marks}) "  # noqa: S608
            f"RETURNING {quote(meta.pk.column)} AS id), "
            f"p AS (INSERT INTO {quote(link.db_table)} ({quote('event_id')}, {quote('patient_id')}) "
            "SELECT e.id, u.patient_id FROM e, unnest(%s::bigint[]) AS u(patient_id)) "
            "SELECT id FROM e",
            [*values, bigint_array(patients)],
        )
        found = cursor.fetchone()
    event.pk = found[0]
    event._state.adding = False


def _insert_rows(
    constant: dict, rows: list[tuple[int | None, str]], prev: str, hashes: list[str]
) -> None:
    meta = AuditEvent._meta
    quote = connection.ops.quote_name
    fixed = list(constant)
    varying = ["patient_id", "object_id", "prev_hash", "hash"]
    columns = ", ".join(quote(meta.get_field(name).column) for name in fixed + varying)
    table = quote(meta.db_table)
    prevs = [prev, *hashes[:-1]]
    at = meta.get_field("at").get_db_prep_value(constant["at"], connection)
    values = [at if name == "at" else constant[name] for name in fixed]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Identifiers come from the model's metadata, quoted; every value is a parameter. The
            # ordinality keeps the ids in chain order, which audit_verify walks.
            constants = ", ".join("%s::inet" if name == "ip" else "%s" for name in fixed)
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT {constants}, "  # noqa: S608
                "u.patient_id, u.object_id, u.prev_hash, u.hash FROM unnest("
                "%s::bigint[], %s::text[], %s::text[], %s::text[]) WITH ORDINALITY "
                "AS u(patient_id, object_id, prev_hash, hash, position) ORDER BY u.position",
                [
                    *values,
                    [patient_id for patient_id, _pk in rows],
                    [pk for _patient_id, pk in rows],
                    prevs,
                    hashes,
                ],
            )
        else:
            marks = ", ".join(["%s"] * (len(fixed) + len(varying)))
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608
                [
                    (*values, patient_id, pk, before, after)
                    for (patient_id, pk), before, after in zip(rows, prevs, hashes, strict=True)
                ],
            )


def audit_record(
    *, who: Who, action: str, patient_id: int | None, obj: Model | None = None, detail: str = ""
) -> AuditEvent:
    return audit_record_many(
        who=who, action=action, touches=[Touch(patient_id=patient_id, obj=obj, detail=detail)]
    )[0]


def audit_verify_chain(*, batch_size: int = 5000, checkpoint: bool = True) -> list[str]:
    """Walk the whole log in insertion order; return a description of every broken link.

    Each row must link to the previous row of its own chain, and hash to its own hash; a page row's
    hash covers the patients it names, read back from ``AuditEventPatient`` a batch of rows at a
    time, so a patient taken from or added to a page row is noticed too. Each earlier checkpoint
    must still find its row, unchanged: that catches the newest rows being removed, which breaks no
    link. An intact walk leaves a checkpoint of its own for every chain (``checkpoint``).
    """
    problems: list[str] = []
    expected = dict(AuditCheckpoint.objects.values_list("last_event_id", "last_hash"))
    prevs: dict[int, str] = {}
    rows: dict[int, int] = {}
    lasts: dict[int, AuditEvent] = {}
    after = 0
    while batch := list(AuditEvent.objects.filter(id__gt=after).order_by("id")[:batch_size]):
        named: dict[int, list[int]] = {}
        for event_id, patient_id in (
            AuditEventPatient.objects.filter(event_id__gt=after, event_id__lte=batch[-1].pk)
            .order_by("event_id", "patient_id")
            .values_list("event_id", "patient_id")
        ):
            named.setdefault(event_id, []).append(patient_id)
        for event in batch:
            if event.prev_hash != prevs.get(event.chain, GENESIS_HASH):
                problems.append(
                    f"row {event.pk}: previous-hash link broken (row deleted or inserted)"
                )
            if event.compute_hash(named.pop(event.pk, None)) != event.hash:
                problems.append(f"row {event.pk}: content does not match its hash (row changed)")
            if expected.pop(event.pk, event.hash) != event.hash:
                problems.append(f"row {event.pk}: not the row an earlier check saw (row replaced)")
            prevs[event.chain] = event.hash
            rows[event.chain] = rows.get(event.chain, 0) + 1
            lasts[event.chain] = event
        problems += [
            f"row {event_id}: patients named for a row that is gone (row deleted)"
            for event_id in sorted(named)
        ]
        after = batch[-1].pk
    if AuditEventPatient.objects.filter(event_id__gt=after).exists():
        problems.append(f"patients named for rows after the last row #{after} (rows removed)")
    problems += [
        f"row {event_id}: seen by an earlier check, now gone (rows removed from the end)"
        for event_id in sorted(expected)
    ]
    if checkpoint and not problems:
        for chain, last in sorted(lasts.items()):
            AuditCheckpoint.objects.create(
                chain=chain, last_event_id=last.pk, last_hash=last.hash, rows=rows[chain]
            )
            logger.info(
                "audit checkpoint: chain %s, %s rows, last row %s, hash %s",
                chain,
                rows[chain],
                last.pk,
                last.hash,
            )
    return problems
