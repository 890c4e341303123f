"""One role of a service's worker, alone in its process, for the pipeline benchmark.

    python -m bench.pipeline_worker relay visit     # the visit service's outbox relay only
    python -m bench.pipeline_worker consume kpi     # the KPI service's consumer only

The real :class:`ServiceRuntime` (settings from ``REVISIT_*``, as ``revisit_runner.worker``
reads them) with one of its threads started: the real worker would also run the producing
service's own consumer and periodic jobs, which are not what is measured. Prints
``ready <unix time>`` once set up (a consumer's queue declared), then starts its thread when
it reads ``go`` on its standard input (so several consumers start together, none counted
while it imports); stops on SIGTERM or when its standard input closes. With
``REVISIT_BENCH_PROFILE=<folder>`` its thread runs under cProfile (its CPU time) and writes
``<folder>/<service>-<role>-<pid>.prof`` when it stops.
"""

from __future__ import annotations

import cProfile
import os
import signal
import sys
import threading
import time

from kpi_service.bootstrap import SPEC as KPI
from revisit_common import logs
from revisit_common.config import Settings
from revisit_common.runtime import ServiceRuntime
from visit_service.bootstrap import SPEC as VISIT

SPECS = {"visit": VISIT, "kpi": KPI}


def main(argv: list[str]) -> int:
    role, service = argv
    settings = Settings.from_env()
    logs.configure(settings.log_level)
    runtime = ServiceRuntime(SPECS[service], settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if role == "relay":
        target = runtime.relay.run
    elif role == "consume":
        runtime.consumer.declare()
        target = runtime.consumer.run_forever
    else:
        raise SystemExit(f"unknown role {role!r}")
    print(f"ready {time.time()}", flush=True)
    if sys.stdin.readline().strip() == "go":  # else closed before the start: nothing to run
        folder = os.environ.get("REVISIT_BENCH_PROFILE")
        if folder:
            target = _profiled(target, f"{folder}/{service}-{role}-{os.getpid()}.prof")
        thread = threading.Thread(target=target, args=(stop,), name=role, daemon=True)
        thread.start()
        stop.wait()
        thread.join(timeout=10)
    runtime.close()
    return 0


def _profiled(target, path: str):
    def run(stop: threading.Event) -> None:
        profile = cProfile.Profile(time.thread_time)  # CPU time, not waits
        try:
            profile.runcall(target, stop)
        finally:
            profile.dump_stats(path)

    return run


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
