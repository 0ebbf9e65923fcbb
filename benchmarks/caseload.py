"""Benchmark: the coach's caseload page and the provider's worklist page in a whole region.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python benchmarks/caseload.py --trajectories 1000000
    .venv/bin/python benchmarks/caseload.py --trajectories 20000      # SQLite, smaller

The region (``population.build_region``) gives the named coach 200 active trajectories among all
of them; the planner of the same provider opens the worklist (its first 300 waiting referrals).
Both pages are fetched through Django's test client, logged in (two factors passed), with every
middleware, template and audit row, and timed per request.

Anchor: a bare Django view returning a constant, added only here (a URLconf wrapping the
product's), fetched through the same client and middleware by the same person. Requests are
interleaved (bare, page, bare, page, ...); the figure is the 95th percentile of each.

Check: the pages' SQL query count does not depend on the size: it is counted as built, and again
in a rolled-back transaction where half of the coach's trajectories and half of the worklist have
been moved out of the page (fewer rows shown, the same queries).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import types

from harness import Result, Timer, report
from population import region_database


def _bare(request):
    from django.http import HttpResponse

    return HttpResponse("ok")


def _install_bare_view() -> str:
    """A URLconf with the bare view in front of the product's, for this process only."""
    from django.conf import settings
    from django.urls import clear_url_caches, include, path

    module = types.ModuleType("bench_urls")
    module.urlpatterns = [
        path("bench/constant/", _bare, name="bench-constant"),
        path("", include(settings.ROOT_URLCONF)),
    ]
    sys.modules["bench_urls"] = module
    settings.ROOT_URLCONF = "bench_urls"
    # The test client's host, without setup_test_environment (its template instrumentation
    # would slow rendering down).
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    clear_url_caches()
    return "/bench/constant/"


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def _client(user):
    from django.test import Client

    from tests.otp import mark_verified

    client = Client()
    client.force_login(user)
    mark_verified(client, user)
    return client


def _queries(client, url: str) -> tuple[int, int]:
    """(SQL queries, bytes) of one request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx.captured_queries), len(response.content)


class Rollback(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trajectories", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200, help="per page and per anchor")
    args = parser.parse_args()
    with region_database(args.trajectories) as (vendor, region):
        from django.db import transaction
        from django.urls import reverse

        from pathways.models import Trajectory
        from referrals.models import Referral
        from referrals.queries import WORKLIST_STATES

        bare_url = _install_bare_view()
        pages = {
            "coach's caseload": (region.coach, reverse("caseload")),
            "provider's worklist": (region.planner, reverse("referral-worklist")),
        }
        counts, clients = {}, {}
        for name, (user, url) in pages.items():
            clients[name] = client = _client(user)
            for _ in range(3):  # warm caches (templates, sessions, the database's pages)
                client.get(url)
                client.get(bare_url)
            counts[name] = [_queries(client, url)]
        # Fewer rows on both pages, the same queries: half of each list moved out, rolled back.
        try:
            with transaction.atomic():
                mine = Trajectory.objects.filter(coach=region.coach).order_by("pk")
                half = list(mine.values_list("pk", flat=True)[: mine.count() // 2])
                Trajectory.objects.filter(pk__in=half).update(state="dropped_out")
                waiting = Referral.objects.filter(
                    provider_id=region.provider_ids[0], state__in=WORKLIST_STATES
                ).order_by("received_at", "pk")
                keep = waiting.count() // 2
                first = list(waiting.values_list("pk", flat=True)[: max(0, keep)])
                Referral.objects.filter(pk__in=first).update(state="declined")
                for name, (_user, url) in pages.items():
                    counts[name].append(_queries(clients[name], url))
                raise Rollback
        except Rollback:
            pass

        print(f"{vendor}: {args.trajectories:,} trajectories, built in {region.seconds:.0f} s")
        for name, (_user, url) in pages.items():
            client = clients[name]
            page_times, bare_times = [], []
            for _ in range(args.requests):
                with Timer() as timer:
                    client.get(bare_url)
                bare_times.append(timer.seconds * 1000)
                with Timer() as timer:
                    response = client.get(url)
                page_times.append(timer.seconds * 1000)
                assert response.status_code == 200
            (q_full, size_full), (q_half, size_half) = counts[name]
            print(
                f"  {name}: p95 {_p95(page_times):.1f} ms (median {statistics.median(page_times):.1f}),"
                f" bare p95 {_p95(bare_times):.1f} ms; queries {q_full} ({size_full:,} bytes) and "
                f"{q_half} with half the rows ({size_half:,} bytes)"
            )
            report(
                Result(
                    name=f"{name} ({'200 active of ' if 'caseload' in name else ''}"
                    f"{args.trajectories:,} trajectories), p95",
                    figure=_p95(page_times),
                    anchor=_p95(bare_times),
                    unit="ms",
                    anchor_label="bare view, same client, p95",
                    higher_is_better=False,
                    target_ratio=3,
                    checks={
                        f"constant queries ({q_full} = {q_half} with half the rows)": q_full
                        == q_half
                        and size_half < size_full,
                    },
                    notes=f"{args.requests} interleaved requests each",
                )
            )


if __name__ == "__main__":
    main()
