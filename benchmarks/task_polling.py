"""Benchmark: a zorggroep's KIS polling GET /fhir/Task?_lastUpdated=... among many referrals.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python benchmarks/task_polling.py
    .venv/bin/python benchmarks/task_polling.py --referrals 20000      # SQLite, smaller

Prints the time and SQL query count of the first page and of a deep page (keyset position at
--deep rows), and on PostgreSQL the plan of the page query.
"""

import argparse
import datetime
import random
import statistics

from harness import Timer, setup_django, throwaway_database


def build(total: int):
    from django.utils import timezone

    from carechain import models as cm
    from carechain.demo import make_bsn
    from referrals.models import Referral

    zorggroep = cm.Zorggroep.objects.create(name="Bench zorggroep")
    other = cm.Zorggroep.objects.create(name="Other zorggroep")
    provider = cm.Provider.objects.create(name="Bench provider", agb="73739999")
    practices = [
        cm.Practice.objects.create(
            name=f"Praktijk {i}",
            agb=f"0109{i:04d}",
            zorggroep=zorggroep if i < 10 else other,
            secure_email=f"p{i}@example.nl",
        )
        for i in range(20)
    ]
    rng = random.Random(1)
    seen, patients = set(), []
    while len(patients) < total:
        bsn = make_bsn(rng)
        if bsn in seen:
            continue
        seen.add(bsn)
        patients.append(
            cm.Patient(
                bsn=bsn,
                last_name=f"Patiënt {len(patients)}",
                first_name="Bench",
                birth_date=datetime.date(1970, 1, 1),
                practice=practices[len(patients) % 20],
            )
        )
    cm.Patient.objects.bulk_create(patients, batch_size=5000)
    today = datetime.date.today()
    start = timezone.now() - datetime.timedelta(days=365)
    referrals = [
        Referral(
            patient=p,
            practice_id=p.practice_id,
            provider=provider,
            channel="kis",
            state="in_progress",
            first_contact_due=today,
        )
        for p in patients
    ]
    Referral.objects.bulk_create(referrals, batch_size=5000)
    # auto_now sets updated_at on insert: spread the changes over a year, as in real life.
    for referral in referrals:
        referral.updated_at = start + datetime.timedelta(minutes=rng.randrange(525_600))
    Referral.objects.bulk_update(referrals, ["updated_at"], batch_size=5000)
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    _obj, key = cm.OrganisationAPIKey.objects.create_key(
        name="bench KIS", organisation=zorggroep, purpose=cm.OrganisationAPIKey.Purpose.FEEDBACK
    )
    return key


def measure(key: str, query: str, runs: int) -> tuple[float, int, int]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="localhost")
    times, queries, entries = [], 0, 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as ctx, Timer() as timer:
            response = client.get(f"/fhir/Task?{query}", HTTP_AUTHORIZATION=f"Api-Key {key}")
        assert response.status_code == 200, response.content[:300]
        times.append(timer.seconds)
        queries = len(ctx.captured_queries)
        entries = len(response.json().get("entry", []))
    return statistics.median(times), queries, entries


def deep_token(position: int) -> str:
    from django.core import signing

    from referrals.fhir.search import _PAGE_SALT
    from referrals.models import Referral

    row = Referral.objects.filter(practice__zorggroep__name="Bench zorggroep").order_by(
        "updated_at", "public_id"
    )[position]
    return signing.dumps([row.updated_at.isoformat(), str(row.public_id)], salt=_PAGE_SALT)


def explain(key: str) -> str:
    from django.db import connection
    from django.http import QueryDict

    from carechain.access import Actor
    from carechain.models import OrganisationAPIKey
    from referrals.access import referrals_for
    from referrals.fhir.search import TaskSearch

    if connection.vendor != "postgresql":
        return ""
    api_key = OrganisationAPIKey.objects.get_from_key(key)
    actor = Actor.for_api_key(api_key, channel="fhir", ip=None)
    search = TaskSearch.parse(QueryDict("_lastUpdated=gt2000-01-01&_count=50"))
    queryset = search.apply(referrals_for(actor).select_related("practice", "provider", "patient"))
    return queryset[:51].explain(analyze=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--referrals", type=int, default=100_000)
    parser.add_argument("--deep", type=int, default=40_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with throwaway_database() as vendor:
        setup_django()
        with Timer() as build_timer:
            key = build(args.referrals)
        print(f"database: {vendor}; referrals: {args.referrals:,} (half of them the KIS's)")
        print(f"built in {build_timer.seconds:.1f} s")
        first = measure(key, "_lastUpdated=gt2000-01-01&_count=50", args.runs)
        deep = measure(
            key, f"_lastUpdated=gt2000-01-01&_count=50&_page={deep_token(args.deep)}", args.runs
        )
        recent = measure(key, "_lastUpdated=gt" + _day_ago(), args.runs)
        for label, (median, queries, entries) in (
            ("first page", first),
            (f"page at row {args.deep:,}", deep),
            ("changes of the last day", recent),
        ):
            print(f"{label}: median {median * 1000:.0f} ms, {queries} SQL queries, {entries} Tasks")
        plan = explain(key)
        if plan:
            print("plan of the page query:\n" + plan)


def _day_ago() -> str:
    from django.utils import timezone

    return (timezone.now() - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


if __name__ == "__main__":
    main()
