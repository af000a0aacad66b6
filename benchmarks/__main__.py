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
import re
import sys
from pathlib import Path

from benchmarks import registry

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "docs" / "benchmarks.md"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    known = registry.all_benchmarks()
    selected = {name: fn for name, fn in known.items() if args.only in name}
    if not selected:
        print(f"no benchmark matches '{args.only}'; known: {', '.join(known)}")
        return 1
    results: dict[str, list[str]] = {}
    for name, bench in selected.items():
        print(f"== {name}", flush=True)
        results[name] = []
        for line in bench():
            print(line, flush=True)
            results[name].append(line)
    _write_report(results, order=list(known))
    return 0


BLOCK = re.compile(r"<!-- bench:(?P<name>[\w-]+) -->\n(?P<body>.*?)<!-- /bench -->\n", re.S)


def _write_report(results: dict[str, list[str]], *, order: list[str]) -> None:
    """Each benchmark keeps its latest run in its own block; a run rewrites only the blocks
    of the benchmarks it ran, and the notes below the marker are kept."""
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    text = REPORT.read_text() if REPORT.exists() else "<!-- notes -->\n"
    head, notes = text.split("<!-- notes -->", 1)
    blocks = {match["name"]: match["body"] for match in BLOCK.finditer(head)}
    for name, lines in results.items():
        blocks[name] = f"`{name}`, {when} on {machine}:\n\n```\n" + "\n".join(lines) + "\n```\n"
    ordered = [name for name in order if name in blocks] + sorted(set(blocks) - set(order))
    REPORT.write_text(
        "# Benchmarks\n\n"
        "The latest run of each benchmark (`make bench` runs them all, `make bench ONLY=<word>`"
        " those whose name contains the word, and rewrites only their blocks).\n\n"
        + "".join(f"<!-- bench:{name} -->\n{blocks[name]}<!-- /bench -->\n" for name in ordered)
        + "\n<!-- notes -->"
        + notes
    )


if __name__ == "__main__":
    sys.exit(main())
