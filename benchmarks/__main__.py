"""`make bench [ONLY=word]`: run every benchmark whose name contains the word.

Each benchmark prints `BENCH <name> <value> <unit>` lines; the run is kept in docs/benchmarks.md.
Benchmarks run against PostgreSQL (BENCH_DATABASE_URL, default a `purworejo_bench` database on
the local server). `seed_demo` recreates it; other benchmarks reuse a registry of the right
size when one is there.
"""

import argparse
import datetime
import os
import platform
import sys
from pathlib import Path

from benchmarks import registry

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "docs" / "benchmarks.md"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    selected = {name: fn for name, fn in registry.all_benchmarks().items() if args.only in name}
    if not selected:
        print(f"no benchmark matches '{args.only}'; known: {', '.join(registry.all_benchmarks())}")
        return 1
    lines: list[str] = []
    for name, bench in selected.items():
        print(f"== {name}", flush=True)
        for line in bench():
            print(line, flush=True)
            lines.append(line)
    _write_report(lines, args.only)
    return 0


def _write_report(lines: list[str], only: str) -> None:
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    notes = REPORT.read_text().split("<!-- notes -->", 1)[1] if REPORT.exists() else "\n"
    REPORT.write_text(
        "# Benchmarks\n\n"
        f"Latest run: {when} on {machine}"
        + (f" (`make bench ONLY={only}`)" if only else " (`make bench`)")
        + ".\n\n```\n"
        + "\n".join(lines)
        + "\n```\n\n<!-- notes -->"
        + notes
    )


if __name__ == "__main__":
    sys.exit(main())
