"""What the intake benchmarks share: the chain, distinct bundles, gunicorn, and the load generator.

gunicorn serves the product (``smr.wsgi``) with ``benchmarks.server.settings``, which adds only
``/bench/constant``, a bare Django view: the anchor. It runs as production does (DEBUG off,
persistent connections), on a loopback port, against the benchmark's throwaway database. The load
generator runs in this process (another process than the server): threads with one keep-alive
HTTP connection each, a bounded list of requests, a time limit.
"""

from __future__ import annotations

import collections
import contextlib
import http.client
import itertools
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

from harness import ROOT

ZD_PATH = "/fhir/Bundle"
KIS_PATH = "/fhir"
BARE_PATH = "/bench/constant"


@dataclass
class World:
    practice_agb: str
    provider_agb: str
    practice_key: str
    zorggroep_key: str


def build_world() -> World:
    """One zorggroep with its practice and provider; a practice key for ZorgDomein and a
    zorggroep key for KIS, as the two channels send them."""
    from tests import factories

    provider = factories.ProviderFactory(name="Bench Stoppen BV")
    zorggroep = factories.ZorggroepFactory(name="Bench zorggroep", smr_provider=provider)
    practice = factories.PracticeFactory(name="Bench praktijk", zorggroep=zorggroep)
    return World(
        practice_agb=practice.agb,
        provider_agb=provider.agb,
        practice_key=factories.api_key(practice),
        zorggroep_key=factories.api_key(zorggroep),
    )


_serial = itertools.count()


def zorgdomein_bodies(world: World, count: int, rng: random.Random) -> list[bytes]:
    """Distinct appointment requests: each a new patient (BSN), ZD number and document id."""
    from carechain.demo import make_bsn
    from tests.referrals.fhir_samples import appointment_request

    return [
        json.dumps(
            appointment_request(
                practice_agb=world.practice_agb,
                provider_agb=world.provider_agb,
                bsn=make_bsn(rng),
                zd_number=f"ZDB{os.getpid()}{next(_serial):08d}",
            )
        ).encode()
        for _ in range(count)
    ]


def kis_bodies(world: World, count: int, rng: random.Random) -> list[bytes]:
    from carechain.demo import make_bsn
    from tests.referrals.fhir_samples import kis_referral

    return [
        json.dumps(
            kis_referral(
                practice_agb=world.practice_agb,
                provider_agb=world.provider_agb,
                bsn=make_bsn(rng),
                identifier=f"KISB-{os.getpid()}-{next(_serial):08d}",
            )
        ).encode()
        for _ in range(count)
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def gunicorn(*, workers: int, threads: int = 4, extra_env: dict | None = None):
    """gunicorn with ``workers`` processes of ``threads`` threads (gthread) on a loopback port,
    against the current DATABASE_URL; yields the port and stops it afterwards."""
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"SMR_TESTING", "DJANGO_SETTINGS_MODULE", "BENCH_RESULTS"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="benchmarks.server.settings",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        DATABASE_CONN_MAX_AGE="60",
        API_RATE="10000000/min",  # the throttle is not what is measured
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra_env or {})  # the caller's settings win (a fault scenario's quieter log)
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "smr.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        "--keep-alive",
        "30",
        "--backlog",
        "256",
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    try:
        _wait_until_serving(port, process, workers)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_serving(port: int, process: subprocess.Popen, workers: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            # Warm every worker (imports, URL resolver, first connection) before measuring.
            statuses = drive(port, [("GET", BARE_PATH, None, {})] * (20 * workers), concurrency=4)
            if statuses.ok == 20 * workers:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError("gunicorn did not start within 60 s")


@dataclass
class Load:
    seconds: float
    statuses: collections.Counter

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    @property
    def server_errors(self) -> int:
        """5xx answers and requests that got no answer at all (status 0)."""
        return sum(n for status, n in self.statuses.items() if status >= 500 or status == 0)

    @property
    def per_second(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


def drive(port: int, requests: list[tuple], *, concurrency: int, time_limit: float = 120) -> Load:
    """Send ``requests`` ((method, path, body, headers), each once) from ``concurrency`` threads,
    each with its own keep-alive connection; stops early at ``time_limit`` seconds."""
    queue = iter(requests)
    lock = threading.Lock()
    statuses: collections.Counter = collections.Counter()
    start = time.perf_counter()
    deadline = start + time_limit

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        seen: collections.Counter = collections.Counter()
        try:
            while time.perf_counter() < deadline:
                with lock:
                    item = next(queue, None)
                if item is None:
                    break
                method, path, body, headers = item
                try:
                    conn.request(method, path, body=body, headers=headers)
                    response = conn.getresponse()
                    response.read()
                    seen[response.status] += 1
                    if response.will_close:
                        conn.close()
                except (OSError, http.client.HTTPException):
                    seen[0] += 1
                    conn.close()
        finally:
            conn.close()
            with lock:
                statuses.update(seen)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Load(time.perf_counter() - start, statuses)


def fhir_headers(key: str) -> dict:
    return {"Authorization": f"Api-Key {key}", "Content-Type": "application/fhir+json"}


def intake_requests(path: str, key: str, bodies: list[bytes]) -> list[tuple]:
    headers = fhir_headers(key)
    return [("POST", path, body, headers) for body in bodies]


def bare_requests(count: int) -> list[tuple]:
    return [("GET", BARE_PATH, None, {})] * count


def replay_at_once(port: int, path: str, key: str, body: bytes, times: int = 100) -> list[int]:
    """The same bundle from ``times`` threads released together; returns the status codes."""
    barrier = threading.Barrier(times)
    statuses: list[int] = []
    lock = threading.Lock()

    def post():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            conn.connect()
            barrier.wait(timeout=60)
            conn.request("POST", path, body=body, headers=fhir_headers(key))
            response = conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException, threading.BrokenBarrierError):
            status = 0
        finally:
            conn.close()
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=post) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses
