"""Real processes for the letter benchmarks and the fault-injection scripts: a private Redis that
may be killed and restarted, and ``celery -A smr worker`` subprocesses against it.

Everything started here runs in its own process group and is stopped (SIGKILL as the last resort)
when the ``with`` block ends, also when it ends with an exception. Nothing here touches the shared
Redis on port 6379.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from harness import ROOT

CELERY = str(Path(sys.executable).with_name("celery"))
ONE_FILE_PER_MESSAGE = "tests.letters.mail_backends.OneFilePerMessageBackend"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stop(process: subprocess.Popen, *, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
    """Stop a process started with ``start_new_session``: its whole group, politely first."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


class RedisServer:
    """A throwaway redis-server without persistence: a restart loses everything queued in it,
    which is the fault the letter sweeper must survive."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None
        self.restarts = 0

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--loglevel", "warning"),
            ],
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        import redis

        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not start")

    def stop(self, *, kill: bool = False) -> None:
        if self.process is not None:
            _stop(self.process, sig=signal.SIGKILL if kill else signal.SIGTERM)
            self.process = None

    def restart(self, *, down_seconds: float = 0.5) -> None:
        """Kill it (nothing is saved), stay down a moment, start it again on the same port."""
        self.stop(kill=True)
        time.sleep(down_seconds)
        self.start()
        self.restarts += 1

    def waiting(self, queue: str = "celery") -> int:
        """Tasks in the queue no worker has taken yet. (A worker's one reserved task is not
        counted: a warm shutdown finishes it. Tasks a killed worker held stay in Redis's
        ``unacked`` hash until the visibility timeout and are not counted either.)"""
        import redis

        return redis.Redis(port=self.port).llen(queue)


def _exit_on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def private_redis() -> Iterator[RedisServer]:
    # A SIGTERM (CI's timeout, `timeout`, a cancelled job) unwinds the ``with`` blocks, so the
    # workers, this Redis and the throwaway database are removed as after any other failure.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop(kill=True)


def app_environment(*, broker_url: str, media_root: Path, mail_dir: Path) -> dict[str, str]:
    """The environment of a production-like process (DEBUG off, a real broker, no test
    shortcuts), on the throwaway database ``harness.throwaway_database`` has put in DATABASE_URL.
    The e-mail backend writes one file per message so sent mails can be counted after a SIGKILL.
    It is applied to ``os.environ`` too, for the benchmark's own process, before Django starts."""
    env = {
        "DJANGO_SETTINGS_MODULE": "smr.settings",
        "SMR_TESTING": "0",
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(60),
        "CELERY_BROKER_URL": broker_url,
        "CELERY_RESULT_BACKEND": "",
        "DATABASE_CONN_MAX_AGE": "60",  # as in docker-compose.yml
        "EMAIL_BACKEND": ONE_FILE_PER_MESSAGE,
        "EMAIL_FILE_PATH": str(mail_dir),
        "MEDIA_ROOT": str(media_root),
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    return {**os.environ, **env}


class Workers:
    """``celery -A smr worker`` subprocesses on one queue; each may be killed and replaced."""

    def __init__(self, env: dict[str, str], *, log_dir: Path):
        self.env = env
        self.log_dir = log_dir
        self.processes: dict[str, subprocess.Popen] = {}
        self.started = 0

    def start(
        self, name: str | None = None, *, cpu: int | None = None, pool: str = "prefork"
    ) -> str:
        """Start one worker with one execution slot (``--concurrency=1``), optionally pinned to
        one core with ``taskset`` (the worker and its pool child both inherit the pin)."""
        self.started += 1
        name = name or f"w{self.started}"
        command = [
            *(CELERY, "-A", "smr", "worker", "--concurrency=1", f"--pool={pool}"),
            *("--loglevel=WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"),
            f"--hostname={name}-{os.getpid()}@%h",
        ]
        if cpu is not None:
            command = ["taskset", "-c", str(cpu), *command]
        log = open(self.log_dir / f"{name}-{self.started}.log", "ab")  # noqa: SIM115
        self.processes[name] = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        return name

    def kill(self, name: str) -> None:
        """SIGKILL the worker and its pool children at once: nobody is left to requeue or ack."""
        process = self.processes.pop(name)
        _stop(process, sig=signal.SIGKILL)

    def stop(self, name: str) -> None:
        """Warm shutdown: the running task finishes, then the worker exits."""
        _stop(self.processes.pop(name), sig=signal.SIGTERM, timeout=60)

    def stop_all(self, *, kill: bool = False) -> None:
        for name in list(self.processes):
            if kill:
                self.kill(name)
            else:
                self.stop(name)

    def alive(self) -> list[str]:
        return [name for name, p in self.processes.items() if p.poll() is None]


@contextlib.contextmanager
def letter_world(redis: RedisServer) -> Iterator[tuple[Workers, Path, Path]]:
    """Folders for the PDFs and the sent mails, the app environment pointing at them and at
    ``redis``, and a ``Workers`` that is stopped (killed) when the block ends."""
    folder = Path(tempfile.mkdtemp(prefix="smr-letters-"))
    media, mails, logs = folder / "media", folder / "mail", folder / "logs"
    for path in (media, mails, logs):
        path.mkdir()
    env = app_environment(broker_url=redis.url(0), media_root=media, mail_dir=mails)
    workers = Workers(env, log_dir=logs)
    try:
        yield workers, media, mails
    finally:
        workers.stop_all(kill=True)
        shutil.rmtree(folder, ignore_errors=True)


def wait_until(condition, *, timeout: float, interval: float = 0.1, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout:.0f} s waiting for {what or condition}")
        time.sleep(interval)
