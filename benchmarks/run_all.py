"""`make benchmark`: every benchmark in its own process and throwaway database, then one table.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres make benchmark
    .venv/bin/python benchmarks/run_all.py --only claims_pull      # one benchmark
    .venv/bin/python benchmarks/run_all.py --quick                 # smaller data, for a first look

Each benchmark appends its rows (``harness.Result``) to a JSON-lines file named by
``BENCH_RESULTS``; this script prints them side by side (figure, anchor measured in the same run,
ratio, target). The rows of a full-scale run are kept in ``docs/benchmarks.json`` with the command
and time that made them (``--only`` replaces just that benchmark's rows), and the whole table is
written to ``docs/benchmarks.md`` between its markers. Exits non-zero when a benchmark crashed; a
missed target is printed as MISSED, never asserted.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import ROOT, Result

# (module in benchmarks/, arguments at full scale, arguments with --quick)
BENCHMARKS: list[tuple[str, list[str], list[str]]] = [
    ("claims_pull", ["--claims", "100000"], ["--claims", "10000"]),
    ("reminder_scan", ["--trajectories", "1000000"], ["--trajectories", "100000"]),
    ("caseload", ["--trajectories", "1000000"], ["--trajectories", "100000"]),
    ("reports", ["--trajectories", "1000000"], ["--trajectories", "100000"]),
    ("invoice_run", ["--trajectories", "10000"], ["--trajectories", "2000"]),
    ("fhir_intake", [], ["--quick"]),
    ("letters", [], ["--quick"]),
    ("scale_out_intake", [], ["--quick"]),
    ("scale_out_letters", ["--letters", "2000"], ["--quick"]),
]

STORE = ROOT / "docs" / "benchmarks.json"
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN = "<!-- benchmark-table:begin -->"
END = "<!-- benchmark-table:end -->"
ORDER = {module: n for n, (module, _full, _quick) in enumerate(BENCHMARKS)}


def _format(rows: list[dict]) -> str:
    lines = [
        "| benchmark | figure | anchor (same run) | ratio | target | other checks | | measured |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        r = Result(**row["result"])
        checks = "; ".join(f"{k}: {'yes' if v else '**no**'}" for k, v in r.checks.items())
        lines.append(
            f"| {r.name} | {r.figure:,.1f} {r.unit} | {r.anchor_label}: {r.anchor:,.1f} {r.unit} "
            f"| {r.ratio:.2f} | {r.target} | {checks or '–'} | {'ok' if r.ok else '**missed**'} "
            f"| {row['at']}: `{row['command']}` |"
        )
    return "\n".join(lines)


def _notes(rows: list[dict]) -> str:
    notes = [f"- {Result(**row['result']).name}: {row['result']['notes']}" for row in rows]
    return "\n".join(n for n, row in zip(notes, rows, strict=True) if row["result"]["notes"])


def _write_doc(rows: list[dict]) -> None:
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    database = os.environ.get("DATABASE_URL", "SQLite").split("@")[-1]
    body = (
        f"{BEGIN}\nOn {platform.node()} ({os.cpu_count()} cores), database {database}; each row "
        "names the command and time that measured it (`run_all.py --only` re-measures one "
        "benchmark).\n\n"
        + _format(rows)
        + "\n\nNotes printed by the benchmarks:\n\n"
        + (_notes(rows) or "- none")
        + f"\n{END}"
    )
    DOC.write_text(head + body + tail, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", action="append", help="run only this benchmark (repeatable)")
    parser.add_argument("--quick", action="store_true", help="smaller data sets")
    parser.add_argument("--no-doc", action="store_true", help="do not update docs/benchmarks.*")
    parser.add_argument(
        "--args",
        action="append",
        default=[],
        metavar="NAME=ARGS",
        help="other arguments for one benchmark, e.g. scale_out_letters='--letters 600'",
    )
    args = parser.parse_args()
    overrides = dict(item.split("=", 1) for item in args.args)

    selected = [b for b in BENCHMARKS if not args.only or b[0] in args.only]
    crashed = []
    measured: list[dict] = []
    for module, full, quick in selected:
        argv = (
            shlex.split(overrides[module]) if module in overrides else quick if args.quick else full
        )
        print(f"\n=== {module} {' '.join(argv)}", flush=True)
        with tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False) as handle:
            results_path = handle.name
        env = {**os.environ, "BENCH_RESULTS": results_path}
        script = ROOT / "benchmarks" / f"{module}.py"
        if subprocess.call([sys.executable, str(script), *argv], env=env) != 0:
            crashed.append(module)
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
        command = shlex.join(["benchmarks/" + script.name, *argv])
        for line in Path(results_path).read_text(encoding="utf-8").splitlines():
            if line.strip():
                measured.append(
                    {"module": module, "command": command, "at": stamp, "result": json.loads(line)}
                )
        os.unlink(results_path)
    print("\n" + _format(measured))
    if not args.no_doc and not args.quick:
        kept = json.loads(STORE.read_text(encoding="utf-8")) if STORE.exists() else []
        fresh = {row["module"] for row in measured} | {m for m, _f, _q in selected}
        rows = [row for row in kept if row["module"] not in fresh] + measured
        rows.sort(key=lambda row: ORDER.get(row["module"], len(ORDER)))
        STORE.write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        _write_doc(rows)
    for module in crashed:
        print(f"{module} crashed: see its output above", file=sys.stderr)
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
