"""A whole region for benchmarks, built set-based in the database: ``build_region(1_000_000)``.

    from harness import setup_django, throwaway_database
    from population import build_region

    with throwaway_database():
        setup_django()
        region = build_region(1_000_000)          # about 2-4 minutes on PostgreSQL, 2 cores
        region.coach                               # the named coach with 200 active trajectories
        region.planner                             # planner of region.provider_ids[0]

What it builds (run it on an empty, migrated database: ``harness.throwaway_database``):

- one zorggroep (contracting provider 0), ``practices`` GP practices, ``providers`` SMR providers
  with ``coaches_per_provider`` coaches each (KRS registered), a planner per provider and the
  zorggroep's admin; ``insurers`` insurers;
- ``trajectories`` patients (valid 11-proef BSNs computed in SQL, unique), each with one insurance,
  one referral and one trajectory; a tenth are ketenzorg patients (enrolment, referral marked
  ketenzorg, referred to the zorggroep's provider);
- the trajectories spread over six years and every state of the FSM (see ``MIX``): most ended
  (closed with the 12-month result, stopped, dropped out), 20 % with the 12-month call due or
  overdue (``follow_up_due``), 0.5 % at end of treatment with the call due within the scan's
  7-day notice (the scan marks them), active ones spread over every coach, and exactly
  ``coach_active`` active trajectories for the named coach ``region.coach``;
- ``worklist_referrals`` new referrals without a trajectory awaiting the provider (the worklist),
  some with their first contact overdue;
- with ``reminders=True``, the reminders earlier daily scans made (every follow-up call due
  before today, resolved where the call was made; first contacts overdue since before
  yesterday), so that a scan today finds the region as it would on any day: a few hundred
  thousand due or overdue items, and only today's new ones to create.

Rows are written with ``INSERT ... SELECT`` over a number series (``generate_series`` on
PostgreSQL, a recursive CTE on SQLite) with explicit primary keys, so every foreign key is computed,
not looked up; sequences are reset afterwards. Every NOT NULL column the statement does not name is
filled with the model field's own default, so new columns with defaults keep working. Rows are what
the app would have written (valid foreign keys, states the FSM knows, check constraints hold), but
no timeline events, contacts, letters or audit rows are made: a benchmark that needs them adds them.

``Region`` carries the ids and users a benchmark needs and the count per trajectory state.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

# Per 10,000 of the non-named trajectories, in order: (state, share). The dates each state gets
# are in build_region (``ago``).
MIX: list[tuple[str, int]] = [
    ("intake_planned", 30),
    ("intake_done", 30),
    ("counselling", 100),
    ("escalated", 40),
    ("end_of_treatment", 245),  # 12-month call later than the scan's notice
    ("end_of_treatment_due", 5),  # call falls due within the 7-day notice from today on: today's
    # new work for the scan (marked follow-up due, reminded); about a day's worth of ended care
    ("follow_up_due", 2000),  # call due or overdue, not made yet
    ("stopped_unmotivated", 550),
    ("dropped_out", 600),
    ("closed", 6400),
]
assert sum(share for _, share in MIX) == 10_000
ACTIVE = ["intake_planned", "intake_done", "counselling", "escalated"]
YEARS = 6


@dataclass
class Region:
    """What a benchmark needs of the region ``build_region`` made."""

    today: datetime.date
    trajectories: int
    zorggroep_id: int
    practice_ids: list[int]
    provider_ids: list[int]
    insurer_ids: list[int]
    coach: object  # carechain.User: the named coach with ``coach_active`` active trajectories
    planner: object  # carechain.User: planner of provider_ids[0]
    zorggroep_admin: object  # carechain.User
    coach_ids: dict[int, list[int]] = field(default_factory=dict)  # provider id -> coach user ids
    states: dict[str, int] = field(default_factory=dict)  # trajectory state -> count
    seconds: float = 0.0


class _Sql:
    """The few expressions PostgreSQL and SQLite spell differently."""

    def __init__(self, vendor: str):
        self.pg = vendor == "postgresql"

    def series(self, count: int) -> str:
        if self.pg:
            return f"generate_series(1::bigint, {int(count)}) AS g(n)"
        return (
            f"(WITH RECURSIVE s(n) AS (SELECT 1 WHERE {int(count)} > 0 UNION ALL SELECT n + 1 FROM s"
            f" WHERE n < {int(count)})"
            " SELECT n FROM s) AS g"
        )

    def day(self, base: datetime.date, offset: str) -> str:
        """``base`` plus ``offset`` (an integer SQL expression) days, as a date."""
        if self.pg:
            return f"(DATE '{base.isoformat()}' + ({offset})::int)"
        return f"date('{base.isoformat()}', ({offset}) || ' days')"

    def moment(self, base: datetime.datetime, offset: str) -> str:
        """``base`` (aware, UTC) plus ``offset`` days, as a timestamp."""
        stamp = base.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")
        if self.pg:
            return f"(TIMESTAMPTZ '{stamp}+00' + ({offset}) * INTERVAL '1 day')"
        return f"datetime('{stamp}', ({offset}) || ' days')"

    def plus_year(self, day: str) -> str:
        """A year after the date ``day``, 29 February going to 28 February (as relativedelta)."""
        if self.pg:
            return f"CAST({day} + INTERVAL '1 year' AS DATE)"
        return (
            f"CASE WHEN strftime('%m-%d', {day}) = '02-29' THEN date({day}, '+1 year', '-1 day') "
            f"ELSE date({day}, '+1 year') END"
        )

    def json(self, text: str) -> str:
        return f"'{text}'::jsonb" if self.pg else f"'{text}'"

    def values(self, rows: list[tuple[int, int]]) -> str:
        """A two-column (k, id) table from Python pairs, joinable in both dialects."""
        body = ", ".join(f"({int(a)}, {int(b)})" for a, b in rows)
        return f"(SELECT column1 AS k, column2 AS id FROM (VALUES {body}) AS v)"


def _insert(cursor, model, columns: dict[str, str], source: str) -> None:
    """``INSERT INTO model (...) SELECT ... FROM source``; NOT NULL columns not named get the
    field's default as a parameter. The expressions are SQL without parameters."""
    names, exprs, defaults = [], [], []
    for f in model._meta.concrete_fields:
        if f.column in columns:
            names.append(f.column)
            exprs.append(columns[f.column].replace("%", "%%"))
        elif f.get_internal_type() == "UUIDField" and not f.primary_key:
            # A random public id per row (a default would be one value for all rows).
            names.append(f.column)
            pg = cursor.db.vendor == "postgresql"
            exprs.append("gen_random_uuid()" if pg else "lower(hex(randomblob(16)))")
        elif not f.null and not f.primary_key:
            value = f.get_default()  # "" for blank text fields
            if value is None:
                raise ValueError(f"{model.__name__}.{f.name}: no value and no default")
            names.append(f.column)
            exprs.append("%s")
            defaults.append(f.get_db_prep_save(value, cursor.db))
    unknown = set(columns) - set(names)
    if unknown:
        raise ValueError(f"{model.__name__}: unknown columns {unknown}")
    table = model._meta.db_table
    source = source.replace("%", "%%")
    cursor.execute(
        f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(exprs)} FROM {source}",
        defaults,
    )


def _bsn_sql(n: str) -> str:
    """A valid, unique BSN for patient number ``n`` (1 .. 8,999,999): the digits of 1000000 + n,
    an eighth digit (0, or 1 where 0 would need check digit 10) and the 11-proef check digit."""
    m = f"(1000000 + {n})"
    digits = [f"(({m} / {10 ** (6 - i)}) % 10)" for i in range(7)]
    s0 = " + ".join(f"{9 - i} * {d}" for i, d in enumerate(digits))
    eighth = f"(CASE WHEN ({s0}) % 11 = 10 THEN 1 ELSE 0 END)"
    check = f"((({s0}) + 2 * {eighth}) % 11)"
    return f"CAST({m} * 100 + {eighth} * 10 + {check} AS TEXT)"


def _kind_case(sql: _Sql, n: str, coach_active: int) -> str:
    """The state key of trajectory ``n``: the named coach's first ones, then MIX by a scrambled
    bucket (so states do not come in blocks of ids)."""
    bucket = f"((({n}) * 7919) % 10000)"
    parts, low = [], 0
    for key, share in MIX:
        parts.append(f"WHEN {bucket} < {low + share} THEN '{key}'")
        low += share
    active = " ".join(f"WHEN ({n}) % 4 = {i} THEN '{key}'" for i, key in enumerate(ACTIVE[:-1]))
    return (
        f"CASE WHEN ({n}) <= {coach_active} THEN CASE {active} ELSE '{ACTIVE[-1]}' END "
        f"{' '.join(parts)} END"
    )


def _earlier_reminders(cursor, sql: _Sql, today: datetime.date, *, first_trajectory: int) -> None:
    """The reminders the daily scan made on earlier days: a follow-up call reminder for every
    trajectory whose call fell due before today (resolved when the call was made), and a
    first-contact reminder for referrals overdue since before yesterday. Today's are left to
    make."""
    from pathways.models import Trajectory
    from referrals.models import Referral
    from reminders.models import Reminder

    _insert(
        cursor,
        Reminder,
        {
            "key": "'follow_up_call:' || CAST(t.id AS TEXT)",
            "kind": "'follow_up_call'",
            "provider_id": "t.provider_id",
            "user_id": "t.coach_id",
            "trajectory_id": "t.id",
            "due": "t.follow_up_due",
            "created_at": "t.state_changed_at",
            "resolved_at": "CASE WHEN t.state = 'closed' THEN t.state_changed_at END",
        },
        f"{Trajectory._meta.db_table} t WHERE t.id >= {first_trajectory} "
        "AND t.state IN ('follow_up_due', 'closed') AND t.follow_up_due IS NOT NULL",
    )
    # The scan's flag on the trajectories whose call it reminded of and has not resolved.
    cursor.execute(
        f"UPDATE {Trajectory._meta.db_table} SET follow_up_reminder_open = TRUE "  # noqa: S608
        f"WHERE id >= {first_trajectory} AND state = 'follow_up_due' "
        "AND follow_up_due IS NOT NULL"
    )
    _insert(
        cursor,
        Reminder,
        {
            "key": "'first_contact:' || CAST(f.id AS TEXT)",
            "kind": "'first_contact'",
            "provider_id": "f.provider_id",
            "user_id": "f.coach_id",
            "referral_id": "f.id",
            "due": "f.first_contact_due",
            "created_at": "f.received_at",
        },
        f"{Referral._meta.db_table} f WHERE f.state IN ('received', 'accepted', 'scheduled', "
        f"'no_show') AND f.first_contact_at IS NULL "
        f"AND f.first_contact_due < {sql.day(today, '-1')}",
    )


def build_region(
    trajectories: int,
    *,
    practices: int = 120,
    providers: int = 3,
    coaches_per_provider: int = 40,
    insurers: int = 4,
    coach_active: int = 200,
    worklist_referrals: int = 500,
    ketenzorg_per_mille: int = 100,
    reminders: bool = False,
    today: datetime.date | None = None,
    verbose: bool = False,
) -> Region:
    """Build the region in the current (empty, migrated) database; see the module docstring."""
    import time

    from django.contrib.auth.hashers import make_password
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.db.models import Count
    from django.utils import timezone

    from carechain import models as cm
    from pathways.models import Trajectory
    from referrals.models import Referral

    started = time.perf_counter()
    today = today or timezone.localdate()
    now = timezone.now()
    sql = _Sql(connection.vendor)
    if trajectories + worklist_referrals > 8_999_999:
        raise ValueError("at most 8,999,999 patients")

    def say(what: str) -> None:
        if verbose:
            print(f"  population: {what} ({time.perf_counter() - started:.1f} s)", flush=True)

    with transaction.atomic():
        # -- organisations and people: a few hundred rows, through the ORM ------------------------
        provider_rows = [
            cm.Provider.objects.create(
                name=f"Stoppen met Roken {i + 1}",
                agb=f"7373{i:04d}",
                email=f"smr{i + 1}@example.nl",
                city="Almere",
            )
            for i in range(providers)
        ]
        zorggroep = cm.Zorggroep.objects.create(
            name="Zorggroep Bench",
            agb="03000001",
            smr_provider=provider_rows[0],
            address="Stationsplein 1",
            postal_code="1315 AA",
            city="Almere",
        )
        practice_rows = [
            cm.Practice.objects.create(
                name=f"Huisartsenpraktijk {i + 1}",
                agb=f"0110{i:04d}",
                zorggroep=zorggroep,
                secure_email=f"praktijk{i + 1}@zorgmail.example.nl",
                channel=cm.Practice.Channel.KIS if i % 3 == 0 else cm.Practice.Channel.ZORGDOMEIN,
            )
            for i in range(practices)
        ]
        insurer_rows = [
            cm.Insurer.objects.create(name=f"Verzekeraar {i + 1}", uzovi=f"{3300 + i:04d}")
            for i in range(insurers)
        ]
        password = make_password(None)  # unusable: benchmarks log in with force_login
        coach_ids: dict[int, list[int]] = {}
        memberships = []
        for p, provider in enumerate(provider_rows):
            users = cm.User.objects.bulk_create(
                cm.User(
                    username="coach.bench" if p == k == 0 else f"coach.{p + 1}.{k + 1}",
                    first_name="Coach",
                    last_name=f"{p + 1}-{k + 1}",
                    password=password,
                )
                for k in range(coaches_per_provider)
            )
            coach_ids[provider.pk] = [u.pk for u in users]
            memberships += [
                cm.Membership(
                    user=u,
                    organisation=provider,
                    role=cm.Role.COACH,
                    krs_number=f"KRS{p:02d}{k:04d}",
                    krs_valid_until=today + datetime.timedelta(days=30 + 17 * k),
                )
                for k, u in enumerate(users)
            ]
            planner = cm.User.objects.create(
                username="planner.bench" if p == 0 else f"planner.{p + 1}", password=password
            )
            memberships.append(
                cm.Membership(user=planner, organisation=provider, role=cm.Role.PLANNER)
            )
        admin = cm.User.objects.create(username="zorggroep.bench", password=password)
        memberships.append(
            cm.Membership(user=admin, organisation=zorggroep, role=cm.Role.ZORGGROEP_ADMIN)
        )
        cm.Membership.objects.bulk_create(memberships)
        coach = cm.User.objects.get(username="coach.bench")
        planner = cm.User.objects.get(username="planner.bench")
        say("organisations and people")

        patients = trajectories + worklist_referrals
        P, C = providers, coaches_per_provider
        practice_map = sql.values([(i, p.pk) for i, p in enumerate(practice_rows)])
        insurer_map = sql.values([(i, r.pk) for i, r in enumerate(insurer_rows)])
        provider_map = sql.values([(i, r.pk) for i, r in enumerate(provider_rows)])
        coach_map = sql.values(
            [
                (p * C + k, uid)
                for p, pr in enumerate(provider_rows)
                for k, uid in enumerate(coach_ids[pr.pk])
            ]
        )
        ids = {}
        with connection.cursor() as cursor:
            for model in (cm.Patient, Referral, Trajectory, cm.Insurance, cm.KetenzorgEnrolment):
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {model._meta.db_table}")
                ids[model] = cursor.fetchone()[0]
            ketenzorg = f"((g.n * 4099) % 1000 < {ketenzorg_per_mille})"
            # -- patients ----------------------------------------------------------------------
            _insert(
                cursor,
                cm.Patient,
                {
                    "id": f"{ids[cm.Patient]} + g.n",
                    "bsn": _bsn_sql("g.n"),
                    "initials": "'B.'",
                    "first_name": "'Bench'",
                    "last_name": "'Patiënt ' || CAST(g.n AS TEXT)",
                    "birth_date": sql.day(datetime.date(1940, 1, 1), "(g.n * 37) % 23000"),
                    "gender": "CASE g.n % 2 WHEN 0 THEN 'female' ELSE 'male' END",
                    "phone": "'06' || CAST(10000000 + g.n AS TEXT)",
                    "practice_id": "pm.id",
                    "created_at": sql.moment(now, f"-((g.n * 13) % {YEARS * 365}) - 1"),
                    "updated_at": sql.moment(now, "0"),
                },
                f"{sql.series(patients)} JOIN {practice_map} pm ON pm.k = g.n % {practices}",
            )
            say(f"{patients:,} patients")
            _insert(
                cursor,
                cm.Insurance,
                {
                    "id": f"{ids[cm.Insurance]} + g.n",
                    "patient_id": f"{ids[cm.Patient]} + g.n",
                    "insurer_id": "im.id",
                    "policy_number": "'POL' || CAST(g.n AS TEXT)",
                    "valid_from": sql.day(datetime.date(2015, 1, 1), "0"),
                },
                f"{sql.series(patients)} JOIN {insurer_map} im ON im.k = g.n % {insurers}",
            )
            _insert(
                cursor,
                cm.KetenzorgEnrolment,
                {
                    "id": f"{ids[cm.KetenzorgEnrolment]} + g.n",
                    "patient_id": f"{ids[cm.Patient]} + g.n",
                    "programme": "CASE g.n % 4 WHEN 0 THEN 'dm2' WHEN 1 THEN 'copd' "
                    "WHEN 2 THEN 'astma' ELSE 'cvrm' END",
                    "zorggroep_id": str(zorggroep.pk),
                    "start": sql.day(datetime.date(2015, 1, 1), "0"),
                },
                f"{sql.series(patients)} WHERE {ketenzorg}",
            )
            say("insurances and ketenzorg enrolments")

            # -- trajectories' referrals and trajectories ---------------------------------------
            # One derived row per trajectory: its number, state key, ketenzorg flag and ``ago``,
            # the days since its referral was received, chosen per state so that its dates fit
            # it: quit date ``ago - 21`` days ago, end of treatment 70 days after the quit date,
            # the 12-month call due a year (365 days) after the quit date.
            kind = _kind_case(sql, "g.n", coach_active)
            ago = (
                "CASE t0.kind WHEN 'intake_planned' THEN t0.n % 10 "
                "WHEN 'intake_done' THEN 7 + t0.n % 10 "
                "WHEN 'counselling' THEN 21 + t0.n % 60 "
                "WHEN 'escalated' THEN 40 + t0.n % 60 "
                # call due 25..295 days from now
                "WHEN 'end_of_treatment' THEN 91 + t0.n % 270 "
                # call due 6-7 days from now (a leap day between moves it by one)
                "WHEN 'end_of_treatment_due' THEN 380 "
                # call due today .. 364 days ago, not made
                "WHEN 'follow_up_due' THEN 387 + t0.n % 365 "
                "WHEN 'closed' THEN 400 + t0.n % " + str(YEARS * 365 - 400) + " "
                "ELSE 60 + t0.n % " + str(YEARS * 365 - 60) + " END"
            )
            base = (
                f"(SELECT t0.n, t0.kind, t0.kz, {ago} AS ago2 FROM (SELECT g.n, {kind} AS kind, "
                f"{ketenzorg} AS kz FROM {sql.series(trajectories)}) AS t0) AS t"
            )
            provider_pick = f"CASE WHEN t.kz OR t.n <= {coach_active} THEN 0 ELSE t.n % {P} END"
            coach_pick = (
                f"CASE WHEN t.n <= {coach_active} THEN 0 "
                f"WHEN ({provider_pick}) = 0 THEN 1 + (t.n / {P}) % {C - 1} "
                f"ELSE (t.n / {P}) % {C} END"
            )
            joined = (
                f"{base} JOIN {practice_map} pm ON pm.k = t.n % {practices} "
                f"JOIN {provider_map} pv ON pv.k = {provider_pick} "
                f"JOIN {coach_map} cm ON cm.k = ({provider_pick}) * {C} + {coach_pick}"
            )
            started_kinds = "t.kind <> 'intake_planned'"
            ended_kinds = "t.kind IN ('stopped_unmotivated', 'dropped_out', 'closed')"
            referral_state = (
                f"CASE WHEN t.kind = 'intake_planned' THEN 'accepted' "
                f"WHEN {ended_kinds} THEN 'completed' ELSE 'in_progress' END"
            )
            _insert(
                cursor,
                Referral,
                {
                    "id": f"{ids[Referral]} + t.n",
                    "patient_id": f"{ids[cm.Patient]} + t.n",
                    "practice_id": "pm.id",
                    "provider_id": "pv.id",
                    "channel": "CASE WHEN t.kz THEN 'kis' ELSE 'zorgdomein' END",
                    "external_id": "'B' || CAST(t.n AS TEXT)",
                    "referrer_name": "'Huisarts Bench'",
                    "received_at": sql.moment(now, "-t.ago2"),
                    "first_contact_due": sql.day(today, "-t.ago2 + 2"),
                    "first_contact_at": f"CASE WHEN {started_kinds} OR t.n % 2 = 0 "
                    f"THEN {sql.moment(now, '-t.ago2 + 1')} END",
                    "cigarettes_per_day": "10 + t.n % 20",
                    "years_smoked": "5 + t.n % 40",
                    "motivation": "'motivated'",
                    "is_ketenzorg": "t.kz",
                    "ketenzorg_programme": "CASE WHEN t.kz THEN CASE t.n % 4 WHEN 0 THEN 'dm2' "
                    "WHEN 1 THEN 'copd' WHEN 2 THEN 'astma' ELSE 'cvrm' END ELSE '' END",
                    "consent_data_exchange": "TRUE",
                    "state": referral_state,
                    "state_changed_at": sql.moment(now, "-t.ago2 + 1"),
                    "coach_id": "cm.id",
                    "updated_at": sql.moment(now, "0"),
                },
                joined,
            )
            say(f"{trajectories:,} referrals")
            quit_ago = "(t.ago2 - 21)"
            ended_ago = "(t.ago2 - 21 - 70)"
            follow_up_due = sql.plus_year(sql.day(today, f"-{quit_ago}"))
            trajectory_state = (
                "CASE WHEN t.kind = 'end_of_treatment_due' THEN 'end_of_treatment' ELSE t.kind END"
            )
            has_intake = started_kinds
            ended = (
                "t.kind IN ('end_of_treatment', 'end_of_treatment_due', 'follow_up_due', 'closed')"
            )
            _insert(
                cursor,
                Trajectory,
                {
                    "id": f"{ids[Trajectory]} + t.n",
                    "referral_id": f"{ids[Referral]} + t.n",
                    "patient_id": f"{ids[cm.Patient]} + t.n",
                    "practice_id": "pm.id",
                    "provider_id": "pv.id",
                    "coach_id": "cm.id",
                    "state": trajectory_state,
                    "state_changed_at": sql.moment(
                        now,
                        f"CASE WHEN {ended} AND t.kind NOT IN ('follow_up_due', 'closed') "
                        f"THEN -{ended_ago} WHEN t.kind = 'follow_up_due' THEN -{quit_ago} + 358 "
                        f"WHEN t.kind = 'closed' THEN -{quit_ago} + 370 ELSE -t.ago2 + 3 END",
                    ),
                    "created_at": sql.moment(now, "-t.ago2 + 1"),
                    "intake_date": f"CASE WHEN {has_intake} THEN {sql.day(today, '-t.ago2 + 7')} END",
                    "cigarettes_per_day": f"CASE WHEN {has_intake} THEN 10 + t.n % 20 END",
                    "years_smoked": f"CASE WHEN {has_intake} THEN 5 + t.n % 40 END",
                    "earlier_quit_attempts": f"CASE WHEN {has_intake} THEN t.n % 5 END",
                    "is_motivated": "t.kind <> 'stopped_unmotivated'",
                    "medication_plan": sql.json('["nrt_patch"]'),
                    "quit_date": f"CASE WHEN {has_intake} THEN {sql.day(today, f'-{quit_ago}')} END",
                    "end_date": f"CASE WHEN {ended} THEN {sql.day(today, f'-{ended_ago}')} "
                    f"WHEN t.kind IN ('stopped_unmotivated', 'dropped_out') "
                    f"THEN {sql.day(today, '-t.ago2 + 40')} END",
                    "end_result": f"CASE WHEN {ended} THEN CASE WHEN t.n % 3 = 0 THEN 'smoking' "
                    "ELSE 'smoke_free' END ELSE '' END",
                    "end_co_ppm": f"CASE WHEN {ended} THEN 3 + t.n % 8 END",
                    "stop_reason": "CASE WHEN t.kind IN ('stopped_unmotivated', 'dropped_out') "
                    "THEN 'Bench' ELSE '' END",
                    "follow_up_due": f"CASE WHEN {ended} THEN {follow_up_due} END",
                    "follow_up_date": f"CASE WHEN t.kind = 'closed' THEN "
                    f"{sql.day(today, f'-{quit_ago} + 368')} END",
                    "follow_up_result": "CASE WHEN t.kind = 'closed' THEN CASE t.n % 3 "
                    "WHEN 0 THEN 'smoking' WHEN 1 THEN 'smoke_free' ELSE 'not_reached' END "
                    "ELSE '' END",
                },
                joined,
            )
            say(f"{trajectories:,} trajectories")

            # -- new referrals on the worklist (no trajectory yet) --------------------------------
            _insert(
                cursor,
                Referral,
                {
                    "id": f"{ids[Referral]} + {trajectories} + g.n",
                    "patient_id": f"{ids[cm.Patient]} + {trajectories} + g.n",
                    "practice_id": "pm.id",
                    "provider_id": "pv.id",
                    "channel": "'zorgdomein'",
                    "external_id": "'W' || CAST(g.n AS TEXT)",
                    "referrer_name": "'Huisarts Bench'",
                    "received_at": sql.moment(now, "-(g.n % 6)"),
                    "first_contact_due": sql.day(today, "-(g.n % 6) + 2"),
                    "motivation": "'motivated'",
                    "consent_data_exchange": "TRUE",
                    "state": "CASE g.n % 4 WHEN 0 THEN 'received' WHEN 1 THEN 'accepted' "
                    "WHEN 2 THEN 'scheduled' ELSE 'received' END",
                    "state_changed_at": sql.moment(now, "-(g.n % 6)"),
                    "coach_id": "CASE WHEN g.n % 4 IN (1, 2) THEN cm.id END",
                    "updated_at": sql.moment(now, "0"),
                },
                f"{sql.series(worklist_referrals)} JOIN {practice_map} pm ON pm.k = g.n % {practices} "
                f"JOIN {provider_map} pv ON pv.k = g.n % {P} "
                f"JOIN {coach_map} cm ON cm.k = (g.n % {P}) * {C} + 1 + g.n % {C - 1}",
            )
            say(f"{worklist_referrals:,} worklist referrals")
            if reminders:
                _earlier_reminders(cursor, sql, today, first_trajectory=ids[Trajectory] + 1)
                say("reminders of earlier daily scans")
            for statement in connection.ops.sequence_reset_sql(
                no_style(),
                [cm.Patient, Referral, Trajectory, cm.Insurance, cm.KetenzorgEnrolment],
            ):
                cursor.execute(statement)
    if connection.vendor == "postgresql":
        from reminders.models import Reminder

        # As autovacuum would have by now: statistics, and the visibility map that lets
        # index-only scans skip the table (VACUUM cannot run inside a transaction).
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
        with connection.cursor() as cursor:
            for model in (
                cm.Patient,
                Referral,
                Trajectory,
                cm.Insurance,
                cm.KetenzorgEnrolment,
                Reminder,
            ):
                cursor.execute(f"{command} {model._meta.db_table}")
    states = dict(
        Trajectory.objects.order_by()
        .values_list("state")
        .annotate(n=Count("pk"))
        .values_list("state", "n")
    )
    say("analyzed")
    return Region(
        today=today,
        trajectories=trajectories,
        zorggroep_id=zorggroep.pk,
        practice_ids=[p.pk for p in practice_rows],
        provider_ids=[p.pk for p in provider_rows],
        insurer_ids=[i.pk for i in insurer_rows],
        coach=coach,
        planner=planner,
        zorggroep_admin=admin,
        coach_ids=coach_ids,
        states=states,
        seconds=time.perf_counter() - started,
    )


# -- a region kept as a template database ---------------------------------------------------------


def _migrations_on_disk() -> list[str]:
    root = Path(__file__).resolve().parent.parent
    return sorted(f"{m.parent.parent.name}.{m.stem}" for m in root.glob("*/migrations/0*.py"))


def _region_key(trajectories: int, kwargs: dict) -> str:
    """Changes with the builder, the arguments and the day. A copy made with fewer migrations
    than the code now has is brought forward by ``migrate``; see ``_stored_region``."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    today = kwargs.get("today") or datetime.date.today()
    digest.update(repr(sorted({**kwargs, "today": today}.items())).encode())
    return f"smr_region_{trajectories}_{digest.hexdigest()[:12]}"


def _stored_data(admin, name: str) -> dict | None:
    """What ``_keep_as_template`` stored of a kept region, if it can be used by this code."""
    with admin.cursor() as cursor:
        cursor.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [name],
        )
        row = cursor.fetchone()
    if not row or not row[0] or os.environ.get("BENCH_FRESH_REGION"):
        return None
    data = json.loads(row[0])
    if not set(data.pop("migrations", [])) <= set(_migrations_on_disk()):
        return None  # made by code with migrations this code does not have: build anew
    return data


def _region_from(data: dict) -> Region:
    from carechain.models import User

    users = {
        key: User.objects.get(pk=data.pop(key)) for key in ("coach", "planner", "zorggroep_admin")
    }
    data["today"] = datetime.date.fromisoformat(data["today"])
    data["coach_ids"] = {int(k): v for k, v in data["coach_ids"].items()}
    return Region(**data, **users)


def _keep_as_template(admin, region: Region, name: str) -> None:
    """Copy the freshly built database as ``name``; drop the copies kept on earlier days."""
    from django.db import connection, connections

    source = connection.settings_dict["NAME"]
    connections.close_all()
    data = asdict(region)
    for key in ("coach", "planner", "zorggroep_admin"):
        data[key] = getattr(region, key).pk
    data["today"] = region.today.isoformat()
    data["migrations"] = _migrations_on_disk()
    with admin.cursor() as cursor:
        cursor.execute(
            "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database"
            " WHERE datname LIKE 'smr_region_%'"
        )
        for old, comment in cursor.fetchall():
            if not comment or json.loads(comment).get("today") != data["today"]:
                cursor.execute(f'DROP DATABASE IF EXISTS "{old}" WITH (FORCE)')  # an earlier day's
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
        cursor.execute(f'COMMENT ON DATABASE "{name}" IS %s', [json.dumps(data)])


@contextlib.contextmanager
def region_database(trajectories: int, **kwargs):
    """A throwaway database holding ``build_region(trajectories, **kwargs)``; yields
    (vendor, region).

    Building a million trajectories takes minutes; on PostgreSQL the first build of the day is kept
    on the server as a template database (``smr_region_<size>_<key>``, the key changing with this
    builder, the arguments and the day), and later benchmarks start from a copy of it
    (``CREATE DATABASE … TEMPLATE``, seconds), which ``migrate`` brings forward if migrations were
    added since; a copy made by code with migrations this code lacks is built anew. Each benchmark
    still gets its own copy to change. ``BENCH_FRESH_REGION=1`` builds anew; drop the ``smr_region_*`` databases to free the
    disk.
    """
    from harness import admin_connection, setup_django, throwaway_database

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        with throwaway_database() as vendor:
            setup_django()
            yield vendor, build_region(trajectories, verbose=True, **kwargs)
        return
    name = _region_key(trajectories, kwargs)
    admin = admin_connection()
    try:
        data = _stored_data(admin, name)
        # A kept copy made with fewer migrations is brought forward by setup_django's migrate.
        with throwaway_database(template=name if data else None) as vendor:
            setup_django()
            if data:
                region = _region_from(data)
                print(f"region of {trajectories:,} trajectories copied from {name}", flush=True)
            else:
                region = build_region(trajectories, verbose=True, **kwargs)
                _keep_as_template(admin, region, name)
            yield vendor, region
    finally:
        admin.close()


def main() -> None:
    import argparse

    from harness import setup_django, throwaway_database

    parser = argparse.ArgumentParser(description="Build a region and print what it holds.")
    parser.add_argument("--trajectories", type=int, default=100_000)
    args = parser.parse_args()
    with throwaway_database() as vendor:
        setup_django()
        region = build_region(args.trajectories, verbose=True)
        print(f"{vendor}: {region.trajectories:,} trajectories in {region.seconds:.1f} s")
        for state, count in sorted(region.states.items()):
            print(f"  {state:22} {count:>9,}")


if __name__ == "__main__":
    main()
