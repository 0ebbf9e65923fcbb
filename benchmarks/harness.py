"""Benchmarks run against a throwaway database so they never touch real data.

With DATABASE_URL pointing at PostgreSQL, a database ``smr_bench_<pid>`` is created on the same
server and dropped afterwards; without it, a temporary SQLite file is used.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def admin_connection():
    """An autocommit connection to the server's ``postgres`` database (creating and dropping)."""
    import psycopg2

    parts = urlparse(os.environ["DATABASE_URL"])
    admin = psycopg2.connect(urlunparse(parts._replace(path="/postgres")))
    admin.autocommit = True
    return admin


@contextlib.contextmanager
def throwaway_database(template: str | None = None):
    """``template``: on PostgreSQL, start as a copy of that database (``CREATE DATABASE … TEMPLATE``)."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        name = f"smr_bench_{os.getpid()}"
        parts = urlparse(url)
        admin = admin_connection()
        with admin.cursor() as cursor:
            copy = f' TEMPLATE "{template}"' if template else ""
            cursor.execute(f'CREATE DATABASE "{name}"{copy}')
        os.environ["DATABASE_URL"] = urlunparse(parts._replace(path=f"/{name}"))
        try:
            yield "postgresql"
        finally:
            from django.db import connections

            connections.close_all()
            with admin.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()
    else:
        with tempfile.TemporaryDirectory() as folder:
            os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
            yield "sqlite"


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smr.settings")
    os.environ.setdefault("SMR_TESTING", "1")  # eager Celery, locmem e-mail, fast hashing
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


# --- one table for `make benchmark` -------------------------------------------------------------
#
# Every benchmark measures the app and its physical-limit anchor interleaved (anchor, app, anchor,
# app, ...) over several rounds on the same data, takes the median of each, and reports one
# ``Result`` per row of the table. ``benchmarks/run_all.py`` runs each benchmark in its own process
# (its own throwaway database) with ``BENCH_RESULTS`` naming a JSON-lines file, and prints the
# table from the rows the benchmarks append to it.


@dataclass
class Result:
    """One row of the table.

    ``figure`` and ``anchor`` are in the same unit. ``higher_is_better`` says which way the ratio
    (figure / anchor) must go: a rate must reach at least ``target_ratio`` of its anchor's, a time
    may be at most ``target_ratio`` times its anchor's. ``checks`` are the other conditions of the
    row's target (constant queries, nothing lost or doubled, an absolute floor...), each with
    whether it held in this run.
    """

    name: str
    figure: float
    anchor: float
    unit: str
    anchor_label: str
    higher_is_better: bool
    target_ratio: float
    checks: dict[str, bool] = field(default_factory=dict)
    notes: str = ""

    @property
    def ratio(self) -> float:
        return self.figure / self.anchor if self.anchor else float("inf")

    @property
    def ratio_ok(self) -> bool:
        if self.higher_is_better:
            return self.ratio >= self.target_ratio
        return self.ratio <= self.target_ratio

    @property
    def ok(self) -> bool:
        return self.ratio_ok and all(self.checks.values())

    @property
    def target(self) -> str:
        if self.higher_is_better:
            return f"≥ {self.target_ratio:.0%} of anchor"
        return f"≤ {self.target_ratio:g}× anchor"


def report(result: Result) -> Result:
    """Print the row and, under ``run_all.py``, append it to the shared results file."""
    status = "ok" if result.ok else "MISSED"
    checks = ", ".join(f"{k}: {'yes' if v else 'NO'}" for k, v in result.checks.items())
    print(
        f"[{status}] {result.name}: {result.figure:,.1f} {result.unit} vs {result.anchor_label} "
        f"{result.anchor:,.1f} {result.unit} → ratio {result.ratio:.2f} (target {result.target})"
        + (f"; {checks}" if checks else "")
        + (f"; {result.notes}" if result.notes else ""),
        flush=True,
    )
    path = os.environ.get("BENCH_RESULTS")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(asdict(result)) + "\n")
    return result


def interleaved(
    app: Callable[[], float], anchor: Callable[[], float], *, rounds: int = 5
) -> tuple[float, float, list[float], list[float]]:
    """Run ``anchor`` and ``app`` alternately ``rounds`` times; each returns its own figure (a rate
    or a time). Returns (median app, median anchor, all app figures, all anchor figures), so that
    noise from the shared machine falls on both sides alike."""
    apps, anchors = [], []
    for _ in range(rounds):
        anchors.append(anchor())
        apps.append(app())
    return statistics.median(apps), statistics.median(anchors), apps, anchors
