"""Benchmarks run against a throwaway database so they never touch real data.

With DATABASE_URL pointing at PostgreSQL, a database ``smr_bench_<pid>`` is created on the same
server and dropped afterwards; without it, a temporary SQLite file is used.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@contextlib.contextmanager
def throwaway_database():
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        import psycopg2

        name = f"smr_bench_{os.getpid()}"
        parts = urlparse(url)
        admin = psycopg2.connect(urlunparse(parts._replace(path="/postgres")))
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
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
