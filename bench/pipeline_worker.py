"""One role of a service's worker, alone in its process, for the pipeline benchmark.

    python -m bench.pipeline_worker relay visit     # the visit service's outbox relay only
    python -m bench.pipeline_worker consume kpi     # the KPI service's consumer only

The real :class:`ServiceRuntime` (settings from ``REVISIT_*``, as ``revisit_runner.worker``
reads them) with one of its threads started: the real worker would also run the producing
service's own consumer and periodic jobs, which are not what is measured. Prints
``ready <unix time>`` once started; stops on SIGTERM.
"""

from __future__ import annotations

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
    thread = threading.Thread(target=target, args=(stop,), name=role, daemon=True)
    thread.start()
    print(f"ready {time.time()}", flush=True)
    stop.wait()
    thread.join(timeout=10)
    runtime.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
