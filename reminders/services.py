"""The daily reminder scan, set-based: each kind of reminder is one ``INSERT ... SELECT ... ON
CONFLICT DO NOTHING`` in the database, and trajectories at the end of treatment move to follow-up
due in one UPDATE (``trajectories_mark_follow_up_due``), so the scan costs about what reading its
candidate rows costs, whatever the size of the region. On PostgreSQL the follow-up calls are found
by a flag on the trajectory kept by this scan (``Trajectory.follow_up_reminder_open``): their
statement reads the day's work only, not the region's 200,000 calls due or overdue.

Idempotent by construction: every reminder has a unique key, candidates that already have their
reminder are skipped, and the unique key makes a second scan running at the same moment (two beat
instances) insert nothing twice. Reminders whose reason has gone are resolved by the same scan.
"""

from __future__ import annotations

import datetime
import logging
import re
from dataclasses import dataclass

from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.template.loader import render_to_string
from django.utils import timezone, translation

from carechain.access import Actor
from carechain.models import Membership, Role
from carechain.sql_arrays import bigint_array
from pathways import services as pathway_services
from pathways.models import Trajectory
from pathways.models import TrajectoryState as T
from referrals.models import AWAITING_FIRST_CONTACT_STATES, Referral

from .models import Reminder

logger = logging.getLogger(__name__)

FOLLOW_UP_NOTICE = datetime.timedelta(days=7)
FOLLOW_UP_OVERDUE = datetime.timedelta(days=14)
KRS_NOTICE = datetime.timedelta(days=60)
AWAITING_FIRST_CONTACT = AWAITING_FIRST_CONTACT_STATES
FOLLOW_UP_STATES = [T.END_OF_TREATMENT, T.FOLLOW_UP_DUE]


@dataclass
class ScanResult:
    created: int = 0
    resolved: int = 0
    marked_due: int = 0


def _in(values) -> str:
    return ", ".join(["%s"] * len(values))


def _id_in(column: str, ids_sql: str) -> str:
    """``column IN (ids_sql)`` that reads ``column``'s rows by primary key. The planner cannot
    know that an anti-join finds few rows (it guesses thousands) and would read the whole table
    for them; on PostgreSQL the ids are collected first (``= ANY(ARRAY(...))``, an InitPlan),
    which makes it an index scan of exactly those rows."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(ARRAY({ids_sql}))"
    return f"{column} IN ({ids_sql})"


def _insert_reminders(
    *, kind: str, fk: str, key: str, columns: str, source: str, where: str, params: list, seen: str
) -> int:
    """``INSERT INTO reminder ... SELECT`` the candidates of one kind that have no reminder of that
    kind yet (``seen``: the condition on an existing reminder ``r`` of that kind);
    ``ON CONFLICT (key) DO NOTHING`` settles a race with a concurrent scan. ``columns`` selects
    provider, user, the foreign key ``fk`` and due, in that order. Returns rows created.

    The candidates without a reminder are found first by primary key only (``source``'s alias,
    a one-letter name, as ``c``), so the anti-join reads the candidates' and the open reminders'
    indexes alone; only the few rows it finds are then read for their columns."""
    table = Reminder._meta.db_table  # names come from the code; every value is a parameter
    alias = source.split()[-1]
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    inner_where, inner_seen = (re.sub(rf"\b{alias}\.", "c.", sql) for sql in (where, seen))
    missing = (
        f"SELECT c.id FROM {source.split()[0]} c WHERE {inner_where} "  # noqa: S608
        f"AND NOT EXISTS (SELECT 1 FROM {table} r WHERE r.kind = %s AND {inner_seen})"
    )
    sql = (
        f"INSERT INTO {table} (key, kind, provider_id, user_id, {fk}, due, created_at) "  # noqa: S608
        f"SELECT {key}, %s, {columns}, %s FROM {source} WHERE {_id_in(f'{alias}.id', missing)} "
        "ON CONFLICT (key) DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [kind, now, *params, kind])
        return cursor.rowcount


def _follow_up_calls(today: datetime.date, result: ScanResult) -> None:
    horizon = today + FOLLOW_UP_NOTICE
    # Marking first: it moves the trajectories whose call comes within the notice to follow-up
    # due and flags them as reminded in the same UPDATE; their reminders follow below.
    marked = pathway_services.trajectories_mark_follow_up_due(actor=Actor.system(), due_by=horizon)
    result.marked_due += len(marked)
    horizon_value = connection.ops.adapt_datefield_value(horizon)
    if connection.vendor == "postgresql":
        _follow_up_calls_by_flag(horizon_value, marked, result)
        return
    result.created += _insert_reminders(
        kind=Reminder.Kind.FOLLOW_UP_CALL,
        fk="trajectory_id",
        key="'follow_up_call:' || CAST(t.id AS TEXT)",
        columns="t.provider_id, t.coach_id, t.id, t.follow_up_due",
        source=f"{Trajectory._meta.db_table} t",
        where=f"t.state IN ({_in(FOLLOW_UP_STATES)}) AND t.follow_up_due <= %s",
        params=[*FOLLOW_UP_STATES, horizon_value],
        # One call per trajectory. A trajectory in the follow-up states can only have an open
        # one (it is resolved when the trajectory leaves them, for good), so the check reads
        # the open reminders only; the unique key still refuses any second one.
        seen="r.trajectory_id = t.id AND r.resolved_at IS NULL",
    )
    # Their resolving is _resolve_gone's.


def _follow_up_calls_by_flag(horizon, marked: list[int], result: ScanResult) -> None:
    """PostgreSQL: the follow-up calls to remind of and to resolve, in one statement, from the
    trajectory's ``follow_up_reminder_open`` and its two partial indexes, each holding only the
    day's work: the trajectories just ``marked`` (flagged by the marking's own UPDATE), any other
    in the follow-up states with its call due and no flag (``trajectory_call_unreminded``: moved
    there some other way; normally none), and the flagged ones no longer in them
    (``trajectory_call_reminder_gone``: the call recorded). Flags are set and cleared under each
    trajectory's row lock, so a second scan at the same moment re-checks them and skips the row,
    and a coach recording the call meanwhile is either seen (no reminder) or resolved by the next
    scan. ``ON CONFLICT (key) DO NOTHING``: a trajectory whose call was reminded once is not again
    (one call per trajectory, as the SQLite form). The two UPDATEs of the trajectory table touch
    disjoint rows (in the follow-up states, and not)."""
    trajectories, table = Trajectory._meta.db_table, Reminder._meta.db_table
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    states = _in(FOLLOW_UP_STATES)
    to_remind = f"state IN ({states}) AND NOT follow_up_reminder_open AND follow_up_due <= %s"
    # The ids first, from trajectory_call_unreminded alone: the planner takes state and flag for
    # independent and would read every trajectory in the follow-up states (docs/explain).
    unreminded = f"SELECT id FROM {trajectories} WHERE {to_remind}"  # noqa: S608
    columns = "id, provider_id, coach_id, follow_up_due"
    sql = (
        f"WITH reminded AS (UPDATE {trajectories} SET follow_up_reminder_open = TRUE"  # noqa: S608 - names from the models, values parameters
        f"  WHERE {_id_in('id', unreminded)} AND {to_remind} RETURNING {columns}),"
        f" todo AS (SELECT {columns} FROM reminded UNION ALL"
        f"  SELECT {columns} FROM {trajectories} WHERE id = ANY(%s::bigint[])),"
        f" created AS (INSERT INTO {table} (key, kind, provider_id, user_id, trajectory_id, due,"
        "  created_at) SELECT 'follow_up_call:' || CAST(id AS TEXT), %s, provider_id, coach_id,"
        "  id, follow_up_due, %s FROM todo ON CONFLICT (key) DO NOTHING RETURNING 1),"
        f" gone AS (UPDATE {trajectories} SET follow_up_reminder_open = FALSE"
        f"  WHERE follow_up_reminder_open AND state NOT IN ({states}) RETURNING id),"
        f" resolved AS (UPDATE {table} SET resolved_at = %s WHERE kind = %s"
        "  AND resolved_at IS NULL AND trajectory_id IN (SELECT id FROM gone) RETURNING 1)"
        " SELECT (SELECT count(*) FROM created), (SELECT count(*) FROM resolved)"
    )
    kind = Reminder.Kind.FOLLOW_UP_CALL
    remind = [*FOLLOW_UP_STATES, horizon]
    params = [*remind, *remind, bigint_array(marked), kind, now, *FOLLOW_UP_STATES, now, kind]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        created, resolved = cursor.fetchone()
    result.created += created
    result.resolved += resolved


def _create_and_resolve_in_one_pass(
    *,
    kind: str,
    subjects: str,
    fk: str,
    key: str,
    columns: str,
    due: str,
    reason: str,
    params: list,
    due_by: str,
    due_by_param,
    result: ScanResult,
) -> None:
    """PostgreSQL: one kind's reminders to create and to resolve in one statement, from one full
    join of the subjects that have the reason (``reason``, on table ``subjects``) with the open
    reminders of that kind, both read from a partial index alone and both in subject id order,
    so it is a merge (first contacts: ``referral_first_contact_due`` with
    ``reminder_open_first_contact``; a region has a few hundred of each): a subject whose ``due``
    column is ``due_by`` and has no open reminder gets one; an open reminder whose subject lost
    its reason is resolved. The same as ``_insert_reminders`` and ``_resolve_gone`` do in two
    passes (SQLite still does). ``key`` and ``columns`` are written on the subject as ``t``
    (provider, user, ``fk``, due). The follow-up calls, some 200,000 open in a region, are not
    compared so every day but found by a flag (``_follow_up_calls_by_flag``)."""
    table = Reminder._meta.db_table
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    sql = (
        "WITH pairs AS MATERIALIZED ("  # noqa: S608 - names from the models, values parameters
        " SELECT c.id AS subject_id, r.id AS reminder_id FROM"
        f" (SELECT id, {due} AS due FROM {subjects} WHERE {reason}) c"
        f" FULL JOIN (SELECT id, {fk} FROM {table}"
        f"  WHERE kind = %s AND resolved_at IS NULL) r ON r.{fk} = c.id"
        f" WHERE (r.id IS NULL AND c.due {due_by}) OR c.id IS NULL),"
        f" created AS (INSERT INTO {table} (key, kind, provider_id, user_id, {fk}, due,"
        f"  created_at) SELECT {key}, %s, {columns}, %s FROM {subjects} t"
        "  WHERE t.id = ANY(ARRAY(SELECT subject_id FROM pairs WHERE reminder_id IS NULL))"
        "  ON CONFLICT (key) DO NOTHING RETURNING 1),"
        f" resolved AS (UPDATE {table} SET resolved_at = %s"
        "  WHERE id = ANY(ARRAY(SELECT reminder_id FROM pairs WHERE subject_id IS NULL))"
        "  AND resolved_at IS NULL RETURNING 1)"
        " SELECT (SELECT count(*) FROM created), (SELECT count(*) FROM resolved)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, kind, due_by_param, kind, now, now])
        created, resolved = cursor.fetchone()
    result.created += created
    result.resolved += resolved


def _first_contacts(today: datetime.date, result: ScanResult) -> None:
    today_value = connection.ops.adapt_datefield_value(today)
    if connection.vendor == "postgresql":
        # One first contact per referral, open or resolved: a referral still waiting whose
        # reminder was resolved finds its key taken (ON CONFLICT DO NOTHING).
        _create_and_resolve_in_one_pass(
            kind=Reminder.Kind.FIRST_CONTACT,
            subjects=Referral._meta.db_table,
            fk="referral_id",
            key="'first_contact:' || CAST(t.id AS TEXT)",
            columns="t.provider_id, t.coach_id, t.id, t.first_contact_due",
            due="first_contact_due",
            reason=f"state IN ({_in(AWAITING_FIRST_CONTACT)}) AND first_contact_at IS NULL",
            params=AWAITING_FIRST_CONTACT,
            due_by="< %s",
            due_by_param=today_value,
            result=result,
        )
        return
    result.created += _insert_reminders(
        kind=Reminder.Kind.FIRST_CONTACT,
        fk="referral_id",
        key="'first_contact:' || CAST(f.id AS TEXT)",
        columns="f.provider_id, f.coach_id, f.id, f.first_contact_due",
        source=f"{Referral._meta.db_table} f",
        where=f"f.state IN ({_in(AWAITING_FIRST_CONTACT)}) AND f.first_contact_at IS NULL "
        "AND f.first_contact_due < %s",
        params=[*AWAITING_FIRST_CONTACT, today_value],
        seen="r.referral_id = f.id",  # one first contact per referral, open or resolved
    )


def _iso_date(column: str) -> str:
    """A date column as YYYY-MM-DD text (SQLite keeps dates as that text already)."""
    if connection.vendor == "postgresql":
        return f"to_char({column}, 'YYYY-MM-DD')"
    return column


def _krs_registrations(today: datetime.date, result: ScanResult) -> None:
    """One reminder per registration and expiry date: a renewed one that nears its new date again
    gets a new reminder."""
    key = f"'krs_expiry:' || CAST(m.id AS TEXT) || ':' || {_iso_date('m.krs_valid_until')}"
    result.created += _insert_reminders(
        kind=Reminder.Kind.KRS_EXPIRY,
        fk="membership_id",
        key=key,
        columns="m.organisation_id, m.user_id, m.id, m.krs_valid_until",
        source=f"{Membership._meta.db_table} m",
        where="m.role = %s AND m.is_active AND m.krs_valid_until <= %s",
        params=[Role.COACH, connection.ops.adapt_datefield_value(today + KRS_NOTICE)],
        seen=f"r.key = {key}",  # one per registration and expiry date
    )


def _resolve_gone(today: datetime.date, result: ScanResult) -> None:
    """A reminder whose reason has gone (call made, contact done, registration renewed) is done.
    One UPDATE per kind, each an anti-join of the open reminders with the rows that still give
    them their reason; the open reminders are found by id in their partial index of that kind
    (``reminder_open_<kind>``), so the anti-join reads indexes only and the UPDATE reads the
    rows it resolves."""
    now = timezone.now()
    table = Reminder._meta.db_table
    still_due = {
        Reminder.Kind.FOLLOW_UP_CALL: Trajectory.objects.filter(
            pk=OuterRef("trajectory_id"), state__in=FOLLOW_UP_STATES
        ),
        Reminder.Kind.FIRST_CONTACT: Referral.objects.filter(
            pk=OuterRef("referral_id"),
            state__in=AWAITING_FIRST_CONTACT,
            first_contact_at__isnull=True,
        ),
        Reminder.Kind.KRS_EXPIRY: Membership.objects.filter(
            pk=OuterRef("membership_id"),
            is_active=True,
            krs_valid_until__lte=today + KRS_NOTICE,
        ),
    }
    if connection.vendor == "postgresql":  # resolved with their creation (above)
        del still_due[Reminder.Kind.FOLLOW_UP_CALL]
        del still_due[Reminder.Kind.FIRST_CONTACT]
    for kind, reason in still_due.items():
        gone = (
            Reminder.objects.filter(resolved_at__isnull=True, kind=kind)
            .exclude(Exists(reason))
            .order_by()  # no ORDER BY due: the ids come from the index alone
            .values("pk")
        )
        gone_sql, gone_params = gone.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET resolved_at = %s "  # noqa: S608
                f"WHERE {_id_in('id', gone_sql)} AND resolved_at IS NULL",
                [connection.ops.adapt_datetimefield_value(now), *gone_params],
            )
            result.resolved += cursor.rowcount


def _room_for_hashes() -> None:
    """Should the planner hash a side of one of the scan's joins (the two passes are merges
    today, but a region's open reminders are ~200,000 rows), room for it in memory, for this
    transaction only (PostgreSQL's default 4 MB spills a hash to disk in batches)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '64MB'")


def reminders_scan(*, today: datetime.date | None = None) -> ScanResult:
    """The daily scan (celery beat). Safe to run any number of times, also concurrently."""
    today = today or timezone.localdate()
    result = ScanResult()
    with transaction.atomic():
        _room_for_hashes()
        _follow_up_calls(today, result)
    with transaction.atomic():
        _room_for_hashes()
        _first_contacts(today, result)
        _krs_registrations(today, result)
        _resolve_gone(today, result)
    return result


def open_reminders(actor: Actor, *, mine_only: bool):
    qs = Reminder.objects.filter(
        resolved_at__isnull=True, provider_id__in=actor.org_ids(Role.COACH, Role.PLANNER)
    ).select_related("trajectory__patient", "referral__patient", "membership__user", "user")
    if mine_only and actor.user is not None:
        qs = qs.filter(user=actor.user)
    return qs.order_by("due", "pk")


def overdue_follow_up_calls(actor: Actor, *, today: datetime.date | None = None):
    """For the planner: follow-up calls more than 14 days overdue."""
    today = today or timezone.localdate()
    return open_reminders(actor, mine_only=False).filter(
        kind=Reminder.Kind.FOLLOW_UP_CALL, due__lt=today - FOLLOW_UP_OVERDUE
    )


def reminders_send_digests(*, today: datetime.date | None = None) -> int:
    """Optional daily e-mail per coach with their open reminders (no patient data in the mail)."""
    today = today or timezone.localdate()
    counts: dict[int, list[Reminder]] = {}
    for reminder in Reminder.objects.filter(
        resolved_at__isnull=True, due__lte=today + FOLLOW_UP_NOTICE, user__isnull=False
    ).select_related("user"):
        counts.setdefault(reminder.user_id, []).append(reminder)
    sent = 0
    for reminders in counts.values():
        user = reminders[0].user
        if not user.email:
            continue
        with translation.override("nl"):
            body = render_to_string(
                "reminders/digest.txt", {"user": user, "reminders": reminders, "today": today}
            )
        send_mail("Herinneringen stoppen-met-rokenzorg", body, None, [user.email])
        sent += 1
    return sent


def reminders_demo_scan(chain) -> None:
    """Demo data step: what the daily scan would have found by now."""
    reminders_scan()
