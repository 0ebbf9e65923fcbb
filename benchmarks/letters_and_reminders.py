"""Benchmark: feedback letters rendered per second on one core (WeasyPrint), and the daily
reminder scan over 100,000 trajectories.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python benchmarks/letters_and_reminders.py
    .venv/bin/python benchmarks/letters_and_reminders.py --letters 20 --trajectories 20000   # SQLite, smaller
"""

import argparse
import datetime

from harness import Timer, setup_django, throwaway_database


def render_letters(count: int) -> float:
    from referrals.letters import render_letter_pdf
    from referrals.models import FeedbackLetter

    facts = {
        "date": "2026-11-25",
        "kind": "intake_done",
        "provider": {
            "name": "RookVrij Coaching",
            "address": "Stationsweg 12",
            "postal_code": "4811 AB",
            "city": "Breda",
            "phone": "076-5550100",
            "email": "info@example.nl",
            "agb": "73730001",
        },
        "practice": {
            "name": "Huisartsenpraktijk De Linde",
            "address": "Lindelaan 4",
            "postal_code": "4701 AA",
            "city": "Roosendaal",
            "agb": "01051234",
        },
        "referrer": "Dr. J. de Linde",
        "patient": {
            "name": "Henk Visser",
            "birth_date": "1961-07-03",
            "bsn": "123456782",
            "gender": "male",
        },
        "referral": {
            "id": 1,
            "received": "2026-11-01",
            "channel": "ZorgDomein",
            "external_id": "ZD-1",
        },
        "coach": {"name": "Anna de Vries", "krs": "KRS-10421"},
        "moment": {
            "intake_date": "2026-11-20",
            "cigarettes_per_day": 22,
            "years_smoked": 31,
            "pack_years": "34,1",
            "earlier_quit_attempts": 2,
            "motivated": True,
            "quit_date": "2026-12-02",
            "medication": ["nicotinepleister"],
            "medication_prescription": [],
        },
    }
    letter = FeedbackLetter(
        kind="intake_done", key="intake_done", facts=facts, recipient="x@example.nl"
    )
    render_letter_pdf(letter)  # warm up fonts and templates
    with Timer() as timer:
        for _ in range(count):
            render_letter_pdf(letter)
    return count / timer.seconds


def build_trajectories(total: int) -> None:
    import random

    from carechain import models as cm
    from carechain.demo import make_bsn
    from pathways.models import Trajectory
    from referrals.models import Referral

    zorggroep = cm.Zorggroep.objects.create(name="Bench zorggroep")
    provider = cm.Provider.objects.create(name="Bench provider", agb="73739999")
    practice = cm.Practice.objects.create(
        name="Praktijk", agb="01099999", zorggroep=zorggroep, secure_email="p@example.nl"
    )
    coach = cm.User.objects.create(username="coach")
    rng, seen, patients = random.Random(2), set(), []
    while len(patients) < total:
        bsn = make_bsn(rng)
        if bsn not in seen:
            seen.add(bsn)
            patients.append(
                cm.Patient(
                    bsn=bsn, last_name="P", birth_date=datetime.date(1970, 1, 1), practice=practice
                )
            )
    cm.Patient.objects.bulk_create(patients, batch_size=5000)
    today = datetime.date.today()
    referrals = [
        Referral(
            patient=p,
            practice=practice,
            provider=provider,
            channel="web",
            state="in_progress",
            first_contact_due=today,
            first_contact_at=datetime.datetime.now(datetime.UTC),
        )
        for p in patients
    ]
    Referral.objects.bulk_create(referrals, batch_size=5000)
    trajectories = []
    for i, r in enumerate(referrals):
        # every 50th trajectory has its 12-month call due within the week; the rest are spread out
        due = today + datetime.timedelta(days=(3 if i % 50 == 0 else 30 + i % 300))
        trajectories.append(
            Trajectory(
                referral=r,
                patient_id=r.patient_id,
                practice=practice,
                provider=provider,
                coach=coach,
                state="end_of_treatment" if i % 2 == 0 else "closed",
                intake_date=today - datetime.timedelta(days=400),
                follow_up_due=due,
            )
        )
    Trajectory.objects.bulk_create(trajectories, batch_size=5000)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--letters", type=int, default=50)
    parser.add_argument("--trajectories", type=int, default=100_000)
    args = parser.parse_args()
    with throwaway_database() as vendor:
        setup_django()
        rate = render_letters(args.letters)
        print(f"letters: {rate:.1f} PDFs per second on one core ({args.letters} rendered)")
        build_trajectories(args.trajectories)
        from reminders.models import Reminder
        from reminders.services import reminders_scan

        with Timer() as first:
            result = reminders_scan()
        with Timer() as second:
            again = reminders_scan()
        print(f"database: {vendor}; trajectories: {args.trajectories:,}")
        print(
            f"reminder scan: first run {first.seconds:.2f} s ({result.created} reminders created, "
            f"{result.marked_due} marked due); second run {second.seconds:.2f} s "
            f"({again.created} created); reminders in table: {Reminder.objects.count()}"
        )


if __name__ == "__main__":
    main()
