"""Benchmark: an insurer pulls all its claims page by page, over REST and as a FHIR Claim search,
against PostgreSQL's own COPY of the same rows and columns.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python benchmarks/claims_pull.py --claims 100000
    .venv/bin/python benchmarks/claims_pull.py --claims 10000            # SQLite, smaller

Builds the claims in bulk in a throwaway database (``harness.throwaway_database``), then, interleaved
over several rounds (``harness.interleaved``): follows ``next`` from the first page to the last with
the insurer's claims key through the whole Django stack in this process (Django's test client:
middleware, authentication, throttling, the view, the audit rows of every page, rendering; no
network), and exports the same rows with ``COPY (SELECT <the same columns> ...) TO STDOUT`` (a
SELECT on SQLite). Claims per second against COPY's rows per second.

The timed pulls count each page's rows and find its next link without parsing it (``Api.scan``), as
the COPY sink counts lines: what is compared is what the server delivers. The warm-up pull parses
every page in full and checks the same total.

Checks: the SQL queries of an early and a deep page are the same number; the peak Python memory
(tracemalloc) of a pull of every claim is about that of a pull of a tenth of them.
"""

import argparse
import datetime
import gc
import json
import math
import re
import tracemalloc
from decimal import Decimal

from harness import Result, Timer, interleaved, report, setup_django, throwaway_database

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
                        claim_number=claim_number(
                            trajectory, prestatie, 1
                        ),  # referral cached: no query
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
    from django.db import connection

    if connection.vendor == "postgresql":
        # What autovacuum does shortly after a bulk load; without statistics the planner guesses
        # 21 claims for the insurer and sorts all of them for the first page.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return insurer


class QueryCounter:
    """A connection execute wrapper: counts statements without keeping them."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


class Api:
    """One way of pulling: where it starts, where a page's rows are, where the next page is.

    ``row_marker`` occurs once per row of a page (a key of the flat REST row, a FHIR entry's
    ``fullUrl``); ``next_pattern`` finds the next page's link. The timed pull counts rows by the
    marker and finds the link with the pattern, as the COPY anchor's sink counts lines: both sides
    then measure what the server delivers, not the client's JSON parsing (about 38 ms of a REST page
    and 0.5 s of a FHIR page of 5,000 in ``json.loads``, docs/explain/claims_pull.md). A JSON string
    cannot hold the marker unescaped, so the count is exact; the memory pass parses every page in
    full and checks the same total.
    """

    def __init__(self, name, first_url, rows_key, next_url, row_marker, next_pattern):
        self.name, self.first_url, self.rows_key, self.next_url = (
            name,
            first_url,
            rows_key,
            next_url,
        )
        self.row_marker = row_marker
        self.next_pattern = re.compile(next_pattern)

    def scan(self, body: bytes) -> tuple[int, str | None]:
        """The page's rows and its next link, without parsing the page."""
        rows = body.count(self.row_marker)
        found = self.next_pattern.search(body)
        url = json.loads(found.group(1)) if found else None
        return rows, url


def _fhir_next(bundle: dict) -> str | None:
    return next((link["url"] for link in bundle["link"] if link["relation"] == "next"), None)


REST = Api(
    "REST",
    "/api/claims/?page_size={size}",
    "results",
    lambda data: data["next"],
    b'"claim_number"',  # PostgreSQL's json_build_object writes "key" : value
    rb'"next":\s*("(?:[^"\\]|\\.)*")',
)
FHIR = Api(
    "FHIR Claim search",
    "/fhir/Claim?_count={size}",
    "entry",
    _fhir_next,
    b'"fullUrl"',
    rb'\{\s*"relation":\s*"next",\s*"url":\s*("(?:[^"\\]|\\.)*")\s*\}',
)


def pull(
    api: Api, headers: dict, page_size: int, *, limit: int | None = None, parse: bool = True
) -> dict:
    """Follow ``next`` from the first page to the last (or until ``limit`` claims), as an insurer's
    client would: each response is parsed to find the next page, or, with ``parse=False``, scanned
    for its rows and next link (``Api.scan``)."""
    from django.db import connection
    from rest_framework.test import APIClient

    client = APIClient()
    counter = QueryCounter()
    url = api.first_url.format(size=page_size)
    seen, page_queries = 0, []
    with connection.execute_wrapper(counter), Timer() as total:
        while url and (limit is None or seen < limit):
            before = counter.count
            response = client.get(url, **headers)
            assert response.status_code == 200, response.content[:300]
            page_queries.append(counter.count - before)
            if parse:
                data = json.loads(response.content)
                seen += len(data.get(api.rows_key, []))
                url = api.next_url(data)
                del data
            else:
                rows, url = api.scan(response.content)
                seen += rows
            del response
    return {"claims": seen, "seconds": total.seconds, "queries": page_queries}


def memory_peak(api: Api, headers: dict, page_size: int, *, limit: int | None = None) -> int:
    """Peak Python memory of a pull (tracemalloc), collecting after each page: the test client's
    responses sit in reference cycles that a server would not keep."""
    gc.collect()
    tracemalloc.start()
    try:
        from django.db import connection
        from rest_framework.test import APIClient

        client = APIClient()
        url, seen = api.first_url.format(size=page_size), 0
        with connection.execute_wrapper(QueryCounter()):
            while url and (limit is None or seen < limit):
                response = client.get(url, **headers)
                data = json.loads(response.content)
                seen += len(data.get(api.rows_key, []))
                url = api.next_url(data)
                del response, data
                gc.collect()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


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
            copy = cursor.mogrify(f"COPY ({query}) TO STDOUT", [insurer_id])
            cursor.copy_expert(copy.decode(), sink)
            rows = sink.rows
        else:
            cursor.execute(query, [insurer_id])
            rows = 0
            while chunk := cursor.fetchmany(5000):
                rows += len(chunk)
    return rows, timer.seconds


def measure(
    api: Api, *, headers, page_size, claims, insurer_id, vendor, rounds, headline=True
) -> Result:
    first = pull(api, headers, page_size)  # warm-up, and the query counts of every page
    assert first["claims"] == claims, (api.name, first["claims"], claims)
    queries = first["queries"]
    early, deep = queries[1], queries[-2]  # the second page and the last full one
    checks = {"constant queries per page": early == deep}
    memory = ""
    if headline:  # the other page sizes: the rate only
        tenth = memory_peak(api, headers, page_size, limit=claims // 10)
        full = memory_peak(api, headers, page_size)
        checks["flat memory"] = full <= tenth * 1.5 + 256 * 1024
        memory = (
            f"; peak Python memory {tenth / 2**20:.1f} MiB for a tenth, "
            f"{full / 2**20:.1f} MiB for all"
        )

    def app() -> float:
        run = pull(api, headers, page_size, parse=False)
        assert run["claims"] == claims, (api.name, run["claims"], claims)
        return run["claims"] / run["seconds"]

    def anchor() -> float:
        rows, seconds = export_sql(insurer_id, vendor)
        assert rows == claims, (rows, claims)
        return rows / seconds

    figure, anchor_rate, apps, anchors = interleaved(app, anchor, rounds=rounds)
    return Result(
        name=f"insurer pulls {claims:,} claims, {api.name}"
        + ("" if headline else f", pages of {page_size:,}"),
        figure=figure,
        anchor=anchor_rate,
        unit="rows/s",
        anchor_label="COPY (SELECT same columns) TO STDOUT" if vendor == "postgresql" else "SELECT",
        higher_is_better=True,
        target_ratio=0.30,
        checks=checks,
        notes=(
            f"{vendor}; Django test client in-process; pages of {page_size}; queries per page "
            f"early {early}, deep {deep}{memory}; rounds app "
            + "/".join(f"{x:,.0f}" for x in apps)
            + ", anchor "
            + "/".join(f"{x:,.0f}" for x in anchors)
        ),
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument(
        "--page-size",
        type=int,
        default=5000,
        help="the headline row's page size: the biggest a page may be, what an insurer pulling "
        "a year would take (docs/explain/claims_pull.md)",
    )
    parser.add_argument(
        "--other-page-sizes",
        default="",
        help="comma-separated page sizes also measured (rate only, one round), e.g. 200,1000",
    )
    parser.add_argument("--rounds", type=int, default=3)
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
        print(
            f"database: {vendor}; claims to the insurer: {args.claims:,} "
            f"(+{others:,} to another); built in {build_timer.seconds:.1f} s",
            flush=True,
        )
        _key, secret = OrganisationAPIKey.objects.create_key(
            name="bench", organisation=insurer, purpose=OrganisationAPIKey.Purpose.CLAIMS
        )
        headers = {"HTTP_AUTHORIZATION": f"Api-Key {secret}"}
        others_sizes = [int(size) for size in args.other_page_sizes.split(",") if size]
        for api in (REST, FHIR):
            for size in [args.page_size, *others_sizes]:
                headline = size == args.page_size
                report(
                    measure(
                        api,
                        headers=headers,
                        page_size=size,
                        claims=args.claims,
                        insurer_id=insurer.pk,
                        vendor=vendor,
                        rounds=args.rounds if headline else 1,
                        headline=headline,
                    )
                )


if __name__ == "__main__":
    main()
