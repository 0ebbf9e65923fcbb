"""Fault injection against real Celery workers on Redis and PostgreSQL (issue 11).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python scripts/fault_injection.py
    ... scripts/fault_injection.py --bounded            # CI: fewer faults and items, about 2 minutes
    ... scripts/fault_injection.py --only letters_kill  # one scenario

Each scenario in ``scripts/faults/`` runs in its own process with its own throwaway PostgreSQL
database, its own redis-server on a free local port (never the shared one: some scenarios restart
it) and its own worker processes, all removed afterwards, also on failure. Prints per scenario
the faults injected, the items, how many were lost and how many doubled (and the scenario's own
counts), and exits non-zero on any loss, double, failed check or crash.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# In this order; a scenario whose module does not exist (yet) is reported as skipped.
SCENARIOS = ["letters_kill", "redis_restart", "intake_pg", "invoice_kill"]
REQUIRED = {"fault", "faults_injected", "items", "lost", "doubled"}
MARK = "FAULT-RESULT "


def _run_one(name: str, bounded: bool) -> int:
    """In the child process: run one scenario, print its result as one marked JSON line."""
    for path in (ROOT / "benchmarks", ROOT / "scripts", ROOT):  # harness, faults, the project
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
    module = importlib.import_module(f"scripts.faults.{name}")
    result = module.run(bounded=bounded)
    print(MARK + json.dumps(result, default=str), flush=True)
    return 0


def _passed(result: dict) -> bool:
    return (
        result.keys() >= REQUIRED
        and result["lost"] == 0
        and result["doubled"] == 0
        and result["faults_injected"] > 0
        and result.get("ok", True) is not False
    )


def _print(name: str, result: dict, seconds: float) -> None:
    extra = {k: v for k, v in result.items() if k not in REQUIRED | {"ok"}}
    print(
        f"[{'ok' if _passed(result) else 'FAILED'}] {name}: {result.get('fault')}: "
        f"faults injected {result.get('faults_injected')}, items {result.get('items')}, "
        f"lost {result.get('lost')}, doubled {result.get('doubled')} ({seconds:.0f} s)",
        flush=True,
    )
    for key, value in extra.items():
        print(f"    {key}: {value}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bounded", action="store_true", help="CI size: fewer faults and items")
    parser.add_argument("--only", action="append", choices=SCENARIOS, help="repeatable")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # the child process of one scenario
    args = parser.parse_args()
    if args.one:
        return _run_one(args.one, args.bounded)
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        print("Set DATABASE_URL=postgres://... (the scenarios run on PostgreSQL).", file=sys.stderr)
        return 2

    failed = []
    for name in args.only or SCENARIOS:
        if not (ROOT / "scripts" / "faults" / f"{name}.py").exists():
            print(f"[skipped] {name}: scripts/faults/{name}.py does not exist", flush=True)
            continue
        print(f"\n=== {name}{' (bounded)' if args.bounded else ''}", flush=True)
        started = time.monotonic()
        child = subprocess.run(
            [sys.executable, __file__, "--one", name, *(["--bounded"] if args.bounded else [])],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
            check=False,
        )
        lines = [line for line in child.stdout.splitlines() if line.startswith(MARK)]
        for line in child.stdout.splitlines():
            if not line.startswith(MARK):
                print("    | " + line, flush=True)
        if child.returncode != 0 or not lines:
            print(f"[FAILED] {name}: crashed (exit {child.returncode}); see above", flush=True)
            failed.append(name)
            continue
        result = json.loads(lines[-1][len(MARK) :])
        _print(name, result, time.monotonic() - started)
        if not _passed(result):
            failed.append(name)
    print(f"\n{'FAILED: ' + ', '.join(failed) if failed else 'every scenario passed'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
