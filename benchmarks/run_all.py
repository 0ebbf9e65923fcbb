"""`make benchmark`: every benchmark in its own process and throwaway database, then one table.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres make benchmark
    .venv/bin/python benchmarks/run_all.py --only claims_pull      # one benchmark
    .venv/bin/python benchmarks/run_all.py --quick                 # smaller data, for a first look

Each benchmark appends its rows (``harness.Result``) to a JSON-lines file named by
``BENCH_RESULTS``; this script prints them side by side (figure, anchor measured in the same run,
ratio, target) and writes the table with the command that made it to ``docs/benchmarks.md``
between its markers. Exits non-zero when a benchmark crashed; a missed target is printed as
MISSED, never asserted.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
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
    ("scale_out_letters", [], ["--quick"]),
]

BEGIN = "<!-- benchmark-table:begin -->"
END = "<!-- benchmark-table:end -->"


def _format(rows: list[Result]) -> str:
    lines = [
        "| benchmark | figure | anchor (same run) | ratio | target | other checks | |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        checks = "; ".join(f"{k}: {'yes' if v else '**no**'}" for k, v in r.checks.items())
        lines.append(
            f"| {r.name} | {r.figure:,.1f} {r.unit} | {r.anchor_label}: {r.anchor:,.1f} {r.unit} "
            f"| {r.ratio:.2f} | {r.target} | {checks or '–'} | {'ok' if r.ok else '**missed**'} |"
        )
    return "\n".join(lines)


def _write_doc(table: str, command: str, notes: list[str]) -> None:
    doc = ROOT / "docs" / "benchmarks.md"
    text = doc.read_text(encoding="utf-8") if doc.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = (
        f"{BEGIN}\nLast run {stamp} on {platform.node()} ({os.cpu_count()} cores), "
        f"database {os.environ.get('DATABASE_URL', 'SQLite').split('@')[-1]}:\n\n"
        f"```sh\n{command}\n```\n\n{table}\n"
        + ("\n" + "\n".join(f"- {n}" for n in notes) + "\n" if notes else "")
        + f"{END}"
    )
    doc.write_text(head + body + tail, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", action="append", help="run only this benchmark (repeatable)")
    parser.add_argument("--quick", action="store_true", help="smaller data sets")
    parser.add_argument("--no-doc", action="store_true", help="do not rewrite docs/benchmarks.md")
    args = parser.parse_args()

    selected = [b for b in BENCHMARKS if not args.only or b[0] in args.only]
    crashed = []
    with tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False) as handle:
        results_path = handle.name
    env = {**os.environ, "BENCH_RESULTS": results_path}
    for module, full, quick in selected:
        argv = quick if args.quick else full
        print(f"\n=== {module} {' '.join(argv)}", flush=True)
        script = ROOT / "benchmarks" / f"{module}.py"
        if subprocess.call([sys.executable, str(script), *argv], env=env) != 0:
            crashed.append(module)
    rows = [
        Result(**json.loads(line))
        for line in Path(results_path).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    os.unlink(results_path)
    table = _format(rows)
    print("\n" + table)
    notes = [f"{m} crashed: see its output above" for m in crashed]
    if not args.no_doc and not args.only:
        command = ("DATABASE_URL=… " if "DATABASE_URL" in os.environ else "") + "make benchmark"
        if args.quick:
            command += " BENCH_ARGS=--quick"
        _write_doc(table, command, notes)
    for note in notes:
        print(note, file=sys.stderr)
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
