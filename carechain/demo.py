"""A realistic, fictional care chain for demos and the browser tests. Running it twice changes nothing.

Higher rooms add their own demo data with ``register_step`` (called from their AppConfig.ready).
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

from .models import (
    Insurance,
    Insurer,
    KetenzorgEnrolment,
    Location,
    Membership,
    Patient,
    Practice,
    Provider,
    Role,
    User,
    Zorggroep,
)

DEMO_PASSWORD = "Rookvrij-demo-2026"  # noqa: S105 - printed on purpose, demo only


@dataclass
class DemoLogin:
    username: str
    role: str
    organisation: str


@dataclass
class DemoChain:
    zorggroep: Zorggroep
    practices: list[Practice]
    provider: Provider
    insurers: list[Insurer]
    coaches: list[User]
    logins: list[DemoLogin]
    patients: list[Patient]


_steps: list[Callable[[DemoChain], None]] = []


def register_step(step: Callable[[DemoChain], None]) -> None:
    if step not in _steps:
        _steps.append(step)


def make_bsn(rng: random.Random) -> str:
    """A random number that passes the 11-proef (fictional; real BSNs are never used in demos)."""
    while True:
        digits = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(7)]
        check = sum(d * w for d, w in zip(digits, range(9, 1, -1), strict=True)) % 11
        if check < 10:
            return "".join(map(str, digits)) + str(check)


PRACTICES = [
    ("Huisartsenpraktijk De Linde", "01051234", "Roosendaal", "kis", "linde"),
    ("Gezondheidscentrum Kroeven", "01052345", "Roosendaal", "zorgdomein", "kroeven"),
    ("Huisartsen Aan de Haven", "01053456", "Bergen op Zoom", "zorgdomein", "haven"),
    ("Praktijk Wouw", "01054567", "Wouw", "kis", "wouw"),
]
INSURERS = [
    ("Zorgverzekeraar Zuidwest", "9101"),
    ("Polder Zorgverzekeringen", "9102"),
    ("Samen Verzekerd", "9103"),
]
COACHES = [
    ("anna", "Anna", "de Vries", "KRS-10421"),
    ("bram", "Bram", "Jansen", "KRS-10877"),
    ("chantal", "Chantal", "Bakker", "KRS-11302"),
]
FIRST_NAMES = [
    "Jan",
    "Marie",
    "Piet",
    "Els",
    "Kees",
    "Annelies",
    "Henk",
    "Sandra",
    "Mohamed",
    "Fatima",
    "Gerrit",
    "Ingrid",
    "Ruud",
    "Yvonne",
    "Dennis",
    "Sanne",
    "Tom",
    "Linda",
    "Ahmet",
    "Joke",
]
LAST_NAMES = [
    ("", "Jansen"),
    ("de", "Vries"),
    ("van den", "Berg"),
    ("", "Bakker"),
    ("van", "Dijk"),
    ("", "Visser"),
    ("", "Smit"),
    ("", "Meijer"),
    ("de", "Boer"),
    ("", "Mulder"),
    ("de", "Groot"),
    ("", "Bos"),
    ("", "Vos"),
    ("", "Peters"),
    ("", "Hendriks"),
    ("van", "Leeuwen"),
    ("", "Dekker"),
    ("", "Brouwer"),
    ("de", "Wit"),
    ("", "Dijkstra"),
]


def _user(username: str, first: str, last: str, logins: list[DemoLogin], memberships) -> User:
    user, created = User.objects.get_or_create(
        username=username,
        defaults={
            "first_name": first,
            "last_name": last,
            "email": f"{username}@demo.smr.example.nl",
        },
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    for organisation, role, extra in memberships:
        Membership.objects.get_or_create(
            user=user, organisation=organisation, role=role, defaults=extra or {}
        )
        logins.append(DemoLogin(username, Role(role).label, organisation.name))
    return user


@transaction.atomic
def seed(*, today: datetime.date | None = None) -> DemoChain:
    today = today or datetime.date.today()
    rng = random.Random(7513)
    logins: list[DemoLogin] = []

    zorggroep, _ = Zorggroep.objects.get_or_create(
        name="Zorggroep De Markiezaten", defaults={"agb": "03060001", "city": "Roosendaal"}
    )
    provider, _ = Provider.objects.get_or_create(
        agb="73730001",
        defaults={
            "name": "RookVrij Coaching West-Brabant",
            "city": "Breda",
            "email": "planning@rookvrij-demo.example.nl",
            "address": "Stationsweg 12",
            "postal_code": "4811 AB",
            "phone": "076-5550100",
        },
    )
    if zorggroep.smr_provider_id is None:
        zorggroep.smr_provider = provider
        zorggroep.save(update_fields=["smr_provider"])
    insurers = [
        Insurer.objects.get_or_create(uzovi=uzovi, defaults={"name": name})[0]
        for name, uzovi in INSURERS
    ]
    practices = []
    for name, agb, city, channel, short in PRACTICES:
        practice, _ = Practice.objects.get_or_create(
            agb=agb,
            defaults={
                "name": name,
                "city": city,
                "zorggroep": zorggroep,
                "channel": channel,
                "secure_email": f"{short}@zorgmail-demo.example.nl",
            },
        )
        practices.append(practice)
        Location.objects.get_or_create(
            practice=practice, name="Spreekkamer SMR", defaults={"provider": provider}
        )

    valid_until = today.replace(year=today.year + 3)
    coaches = [
        _user(
            f"coach.{short}",
            first,
            last,
            logins,
            [(provider, Role.COACH, {"krs_number": krs, "krs_valid_until": valid_until})],
        )
        for short, first, last, krs in COACHES
    ]
    _user("planner", "Petra", "Planner", logins, [(provider, Role.PLANNER, None)])
    _user("privacy", "Paul", "Privacy", logins, [(provider, Role.PRIVACY_OFFICER, None)])
    _user("zorggroep.admin", "Zoë", "Admin", logins, [(zorggroep, Role.ZORGGROEP_ADMIN, None)])
    for (_name, _agb, _city, _channel, short), practice in zip(PRACTICES, practices, strict=True):
        _user(
            f"huisarts.{short}", "Dokter", short.capitalize(), logins, [(practice, Role.GP, None)]
        )
        _user(f"pohs.{short}", "POH-S", short.capitalize(), logins, [(practice, Role.POH_S, None)])
        _user(
            f"pohggz.{short}",
            "POH-GGZ",
            short.capitalize(),
            logins,
            [(practice, Role.POH_GGZ, None)],
        )
    for insurer in insurers:
        _user(
            f"verzekeraar.{insurer.uzovi}",
            insurer.name,
            "",
            logins,
            [(insurer, Role.INSURER, None)],
        )

    patients = []
    for i in range(60):
        bsn = make_bsn(rng)
        details = random.Random(i)  # per patient, so a re-run draws the same BSNs in the same order
        prefix, last = LAST_NAMES[i % len(LAST_NAMES)]
        first = FIRST_NAMES[(i * 7) % len(FIRST_NAMES)]
        practice = practices[i % len(practices)]
        birth = datetime.date(
            1950 + details.randint(0, 50), details.randint(1, 12), details.randint(1, 28)
        )
        patient, created = Patient.objects.get_or_create(
            bsn=bsn,
            defaults={
                "first_name": first,
                "initials": f"{first[0]}.",
                "name_prefix": prefix,
                "last_name": last,
                "birth_date": birth,
                "practice": practice,
                "phone": f"06-{details.randint(10000000, 99999999)}",
                "email": f"patient{i + 1}@example.nl",
                "city": practice.city,
                "best_time_to_call": details.choice(Patient.CallTime.values),
            },
        )
        if created:
            Insurance.objects.create(
                patient=patient,
                insurer=insurers[i % len(insurers)],
                policy_number=f"P{details.randint(10**7, 10**8 - 1)}",
                valid_from=datetime.date(today.year - 3, 1, 1),
            )
            if i % 4 == 0:
                KetenzorgEnrolment.objects.create(
                    patient=patient,
                    zorggroep=zorggroep,
                    start=datetime.date(today.year - 2, 1, 1),
                    programme=details.choice(KetenzorgEnrolment.Programme.values),
                )
        patients.append(patient)

    chain = DemoChain(zorggroep, practices, provider, insurers, coaches, logins, patients)
    for step in _steps:
        step(chain)
    return chain
