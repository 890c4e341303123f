"""``python -m bench [--quick] [--only raw,pipeline,...]``: run the sections, print the
table, write ``bench/results/latest.json``. Exits 1 when a section failed to run (a target
not met is a figure, not a failure)."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

from tests.support.servers import reachable

from . import report
from .context import AMQP_URL, POSTGRES_URL, RESULTS, Bench, database, vhost

SECTIONS = (
    "raw",
    "pipeline",
    "gateway",
    "floor",
    "scale",
    "tenants",
    "history",
    "embedded",
    "files",
)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="smaller runs (a smoke test)")
    parser.add_argument("--only", default=",".join(SECTIONS), help="sections, comma-separated")
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown sections {unknown}; choose from {', '.join(SECTIONS)}")
    for url, what in ((AMQP_URL, "RabbitMQ"), (POSTGRES_URL, "PostgreSQL")):
        if not reachable(url):
            print(f"bench: {what} unreachable at {url}", file=sys.stderr)
            return 2
    started = time.monotonic()
    failed = []
    with (
        tempfile.TemporaryDirectory(prefix="revisit-bench-") as work,
        vhost(AMQP_URL) as amqp_url,
        database(POSTGRES_URL) as postgres_url,
    ):
        bench = Bench(args.quick, amqp_url, postgres_url, Path(work))
        bench.extra["load_before"] = os.getloadavg()
        for name in chosen:
            print(f"bench: {name} ...", file=sys.stderr, flush=True)
            section_started = time.monotonic()
            try:
                importlib.import_module(f"bench.{name}").run(bench)
            except Exception:  # noqa: BLE001 - reported; the other sections still run
                traceback.print_exc()
                failed.append(name)
            took = time.monotonic() - section_started
            print(f"bench: {name} done in {took:.0f} s", file=sys.stderr, flush=True)
    seconds = time.monotonic() - started
    report.write(args.out, bench.figures, bench.extra, quick=args.quick, seconds=seconds)
    print(report.table(bench.figures))
    print(f"\n{len(bench.figures)} figures in {seconds:.0f} s; written to {args.out}")
    if failed:
        print(f"bench: sections that failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
