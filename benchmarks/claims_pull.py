"""Benchmark: an insurer pulls all its claims page by page through the REST API, against raw SQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python benchmarks/claims_pull.py --claims 100000
    .venv/bin/python benchmarks/claims_pull.py --claims 20000            # SQLite, smaller

Builds the claims in bulk in a throwaway database (``harness.throwaway_database``: created on the
same server and dropped afterwards), then follows ``next`` from the first page to the last with the
insurer's claims key through the whole Django stack (authentication, throttling, the audit rows of
every page), and exports the same rows with one raw SQL statement (COPY on PostgreSQL). Prints
claims per second, the time of early and late pages (cursor paging stays flat at any depth), SQL
queries per page, peak Python memory of the pull (tracemalloc) and the API/SQL ratio.
"""

import argparse
import datetime
import gc
import math
import statistics
import tracemalloc
from decimal import Decimal

from harness import Timer, setup_django, throwaway_database

EXPORT_FIELDS = [
    "claim_number",
    "version",
    "status",
    "bsn",
    "patient_name",
    "birth_date",
    "uzovi",
    "policy_number",
    "provider_agb",
    "performer_agb",
    "prestatie_code",
    "start_date",
    "end_date",
    "amount",
    "rejection_code",
    "rejection_text",
    "answered_at",
    "created_at",
    "updated_at",
]


def build(total: int, others: int, batch: int = 5000):
    """``total`` claims to one insurer and ``others`` to another, three prestaties a trajectory."""
    import random

    from billing.models import Claim, Prestatie
    from billing.services import claim_number
    from carechain import models as cm
    from carechain.demo import make_bsn
    from pathways.models import Trajectory
    from referrals.models import Referral

    zorggroep = cm.Zorggroep.objects.create(name="Bench zorggroep")
    practice = cm.Practice.objects.create(
        name="Bench praktijk", agb="01099999", zorggroep=zorggroep, secure_email="p@example.nl"
    )
    provider = cm.Provider.objects.create(name="Bench provider", agb="73739999")
    insurer = cm.Insurer.objects.create(name="Bench verzekeraar", uzovi="3332")
    other = cm.Insurer.objects.create(name="Andere verzekeraar", uzovi="7119")
    prestaties = [
        Prestatie.objects.create(code=code, kind=kind, description=code)
        for code, kind in (("SMR01", "programme"), ("SMR02", "nrt"), ("SMR03", "medication"))
    ]
    amounts = [Decimal("268.00"), Decimal("95.00"), Decimal("120.00")]
    intake = datetime.date(2026, 3, 2)
    end = intake + datetime.timedelta(days=70)
    rng = random.Random(7)
    seen: set[str] = set()
    claims_made = 0
    trajectories_needed = math.ceil((total + others) / len(prestaties))
    for start in range(0, trajectories_needed, batch):
        count = min(batch, trajectories_needed - start)
        patients = []
        while len(patients) < count:
            bsn = make_bsn(rng)
            if bsn not in seen:
                seen.add(bsn)
                patients.append(
                    cm.Patient(
                        bsn=bsn,
                        first_name="Bench",
                        last_name=f"Verzekerde {len(seen)}",
                        birth_date=datetime.date(1970, 1, 1),
                        practice=practice,
                    )
                )
        cm.Patient.objects.bulk_create(patients)
        referrals = Referral.objects.bulk_create(
            Referral(
                patient=p,
                practice=practice,
                provider=provider,
                channel="web",
                state="completed",
                first_contact_due=intake,
            )
            for p in patients
        )
        trajectories = Trajectory.objects.bulk_create(
            Trajectory(
                referral=r,
                patient_id=r.patient_id,
                practice=practice,
                provider=provider,
                state="closed",
                intake_date=intake,
                end_date=end,
            )
            for r in referrals
        )
        claims = []
        for referral, trajectory in zip(referrals, trajectories, strict=True):
            patient = referral.patient  # the object built above: no query per row
            for prestatie, amount in zip(prestaties, amounts, strict=True):
                if claims_made == total + others:
                    break
                payer = insurer if claims_made < total else other
                claims.append(
                    Claim(
                        trajectory=trajectory,
                        prestatie=prestatie,
                        insurer=payer,
                        claim_number=claim_number(trajectory.pk, prestatie, 1),
                        bsn=patient.bsn,
                        patient_name=patient.full_name,
                        birth_date=patient.birth_date,
                        uzovi=payer.uzovi,
                        policy_number=f"POL-{trajectory.pk:08d}",
                        provider_agb=provider.agb,
                        performer_agb="90123456",
                        prestatie_code=prestatie.code,
                        start_date=intake,
                        end_date=end,
                        amount=amount,
                    )
                )
                claims_made += 1
        Claim.objects.bulk_create(claims)
    return insurer


class QueryCounter:
    """A connection execute wrapper: counts statements without keeping them."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def pull(headers: dict, page_size: int, *, trace_memory: bool = False) -> dict:
    """Follow ``next`` from the first page to the last, as an insurer's client would.

    With ``trace_memory`` each page is followed by a garbage collection (the test client's response
    objects sit in reference cycles a server would not keep), and tracemalloc records the peak of
    the first pages and of the whole pull: equal peaks mean memory does not grow with depth.
    """
    from django.db import connection
    from rest_framework.test import APIClient

    client = APIClient()
    counter = QueryCounter()
    url = f"/api/claims/?page_size={page_size}"
    seen, page_times, page_queries, early_peak = 0, [], [], 0
    if trace_memory:
        tracemalloc.start()
    with connection.execute_wrapper(counter), Timer() as total:
        while url:
            before = counter.count
            with Timer() as page:
                response = client.get(url, **headers)
                assert response.status_code == 200, response.content[:300]
                data = response.json()
            page_times.append(page.seconds)
            page_queries.append(counter.count - before)
            seen += len(data["results"])
            url = data["next"]
            if trace_memory:
                del response, data
                gc.collect()
                if len(page_times) == 10:
                    early_peak = tracemalloc.get_traced_memory()[1]
    peak = 0
    if trace_memory:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return {
        "claims": seen,
        "seconds": total.seconds,
        "times": page_times,
        "queries": page_queries,
        "peak": peak,
        "early_peak": early_peak or peak,
    }


class CountingSink:
    """A file-like target for COPY that counts what it receives instead of keeping it."""

    def __init__(self):
        self.bytes = 0
        self.rows = 0

    def write(self, data):
        self.bytes += len(data)
        self.rows += data.count("\n") if isinstance(data, str) else data.count(b"\n")


def export_sql(insurer_id: int, vendor: str) -> tuple[int, float]:
    """The same rows and columns with one statement: COPY on PostgreSQL, a SELECT on SQLite."""
    from django.db import connection

    from billing.models import Claim

    table = connection.ops.quote_name(Claim._meta.db_table)
    columns = ", ".join(
        connection.ops.quote_name(Claim._meta.get_field(name).column) for name in EXPORT_FIELDS
    )
    insurer_column = connection.ops.quote_name(Claim._meta.get_field("insurer").column)
    # Identifiers come from the model's metadata and are quoted; the only value is a parameter.
    query = f"SELECT {columns} FROM {table} WHERE {insurer_column} = %s ORDER BY id"  # noqa: S608
    with connection.cursor() as cursor, Timer() as timer:
        if vendor == "postgresql":
            sink = CountingSink()
            copy = cursor.mogrify(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)", [insurer_id])
            cursor.copy_expert(copy.decode(), sink)
            rows = sink.rows
        else:
            cursor.execute(query, [insurer_id])
            rows = 0
            while chunk := cursor.fetchmany(5000):
                rows += len(chunk)
    return rows, timer.seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=200)
    parser.add_argument(
        "--other-insurer", type=int, default=None, help="claims to another insurer (default 10%%)"
    )
    args = parser.parse_args()
    others = args.claims // 10 if args.other_insurer is None else args.other_insurer
    with throwaway_database() as vendor:
        setup_django()
        from django.test.utils import setup_test_environment

        from carechain.models import OrganisationAPIKey

        setup_test_environment(debug=False)  # the test client's host; no query log kept
        with Timer() as build_timer:
            insurer = build(args.claims, others)
        _key, secret = OrganisationAPIKey.objects.create_key(
            name="bench", organisation=insurer, purpose=OrganisationAPIKey.Purpose.CLAIMS
        )
        headers = {"HTTP_AUTHORIZATION": f"Api-Key {secret}"}

        timed = pull(headers, args.page_size)
        assert timed["claims"] == args.claims, (timed["claims"], args.claims)
        traced = pull(headers, args.page_size, trace_memory=True)
        assert traced["claims"] == args.claims
        runs = [export_sql(insurer.pk, vendor) for _ in range(3)]
        rows = runs[0][0]
        assert rows == args.claims, (rows, args.claims)
        sql_seconds = statistics.median(seconds for _rows, seconds in runs)

        api_rate = timed["claims"] / timed["seconds"]
        sql_rate = rows / sql_seconds
        times = timed["times"]
        edge = max(1, min(10, len(times) // 4))
        queries = sorted(set(timed["queries"]))
        print(
            f"database: {vendor}; claims to the insurer: {args.claims:,} "
            f"(+{others:,} to another); built in {build_timer.seconds:.1f} s"
        )
        print(
            f"API pull: {len(times)} pages of {args.page_size} in {timed['seconds']:.1f} s = "
            f"{api_rate:,.0f} claims/s; first {edge} pages "
            f"{statistics.mean(times[:edge]) * 1000:.0f} ms/page, last {edge} pages "
            f"{statistics.mean(times[-edge:]) * 1000:.0f} ms/page"
        )
        print(
            f"SQL queries per page: {'-'.join(map(str, queries))} (the last, shorter page included)"
        )
        print(
            f"peak Python memory (tracemalloc, collected after each page): "
            f"{traced['early_peak'] / 2**20:.1f} MiB over the first 10 pages, "
            f"{traced['peak'] / 2**20:.1f} MiB over all {len(traced['times'])} pages"
        )
        print(
            f"raw SQL export ({'COPY' if vendor == 'postgresql' else 'SELECT'}): {rows:,} rows "
            f"in {sql_seconds:.2f} s = {sql_rate:,.0f} rows/s (median of 3)"
        )
        print(f"ratio: the API pull takes {sql_rate / api_rate:.1f}x as long as the raw export")


if __name__ == "__main__":
    main()
