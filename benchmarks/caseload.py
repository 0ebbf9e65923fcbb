"""Benchmark: the coach's caseload page with 200 active trajectories of one coach among 100,000.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python benchmarks/caseload.py
    .venv/bin/python benchmarks/caseload.py --trajectories 20000      # SQLite, smaller

Prints the time of the page (median of several runs, rendering included) and its SQL query count.
"""

import argparse
import datetime
import random
import statistics

from harness import Timer, setup_django, throwaway_database


def build(total: int, mine: int) -> object:
    from carechain import models as cm
    from carechain.demo import make_bsn
    from pathways.models import Trajectory
    from referrals.models import Referral

    zorggroep = cm.Zorggroep.objects.create(name="Bench zorggroep")
    provider = cm.Provider.objects.create(name="Bench provider", agb="73739999")
    practices = [
        cm.Practice.objects.create(
            name=f"Praktijk {i}",
            agb=f"0109{i:04d}",
            zorggroep=zorggroep,
            secure_email=f"p{i}@example.nl",
        )
        for i in range(20)
    ]
    coaches = []
    for i in range(40):
        user = cm.User.objects.create(username=f"coach{i}")
        cm.Membership.objects.create(
            user=user,
            organisation=provider,
            role=cm.Role.COACH,
            krs_number=f"KRS-{i}",
            krs_valid_until=datetime.date(2030, 1, 1),
        )
        coaches.append(user)
    rng = random.Random(1)
    seen = set()
    patients = []
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
    referrals = [
        Referral(
            patient=p,
            practice_id=p.practice_id,
            provider=provider,
            channel="web",
            state="in_progress",
            first_contact_due=today,
            coach=coaches[0] if i < mine else coaches[1 + i % 39],
        )
        for i, p in enumerate(patients)
    ]
    Referral.objects.bulk_create(referrals, batch_size=5000)
    states = ["counselling", "intake_done", "escalated", "end_of_treatment"]
    trajectories = []
    for i, r in enumerate(referrals):
        active = i < mine
        state = states[i % 4] if active else ("closed" if i % 3 else "counselling")
        trajectories.append(
            Trajectory(
                referral=r,
                patient_id=r.patient_id,
                practice_id=r.practice_id,
                provider=provider,
                coach_id=r.coach_id,
                state=state,
                intake_date=today - datetime.timedelta(days=30),
                quit_date=today - datetime.timedelta(days=20),
                follow_up_due=today + datetime.timedelta(days=300),
            )
        )
    Trajectory.objects.bulk_create(trajectories, batch_size=5000)
    return coaches[0]


def measure(coach, runs: int) -> tuple[float, int, int]:
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext

    from pathways.views import caseload

    times, queries, rows = [], 0, 0
    for _ in range(runs):
        request = RequestFactory().get("/trajectories/")
        request.user = coach
        request.session = SessionStore()
        request._messages = FallbackStorage(request)
        with CaptureQueriesContext(connection) as ctx, Timer() as timer:
            response = caseload(request)
        times.append(timer.seconds)
        queries = len(ctx.captured_queries)
        rows = response.content.count(b'class="badge tstate-')
    return statistics.median(times), queries, rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trajectories", type=int, default=100_000)
    parser.add_argument("--mine", type=int, default=200)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with throwaway_database() as vendor:
        setup_django()
        with Timer() as build_timer:
            coach = build(args.trajectories, args.mine)
        median, queries, rows = measure(coach, args.runs)
        print(
            f"database: {vendor}; trajectories: {args.trajectories:,}; active for the coach: {args.mine}"
        )
        print(f"built in {build_timer.seconds:.1f} s")
        print(
            f"caseload page: median {median * 1000:.0f} ms over {args.runs} runs, "
            f"{queries} SQL queries, {rows} rows shown"
        )


if __name__ == "__main__":
    main()
