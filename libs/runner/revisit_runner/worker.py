"""Distributed mode: one service's worker process (outbox relay, consumer, periodic jobs).

    python -m revisit_runner.worker customer

Runs until SIGTERM or SIGINT, then stops its threads and exits.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading

from revisit_common import logs
from revisit_common.config import Settings
from revisit_common.runtime import ServiceRuntime

from .services import ALL

log = logging.getLogger(__name__)


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in ALL:
        print(f"usage: python -m revisit_runner.worker {{{'|'.join(ALL)}}}", file=sys.stderr)
        return 2
    settings = Settings.from_env()
    logs.configure(settings.log_level)
    if not settings.internal_token:
        log.warning("REVISIT_INTERNAL_TOKEN is not set; only the worker runs here, so no harm")
    runtime = ServiceRuntime(ALL[argv[0]], settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threads = runtime.start_workers(stop)
    log.info("worker for %s started (%d threads)", runtime.name, len(threads))
    stop.wait()
    for thread in threads:
        thread.join(timeout=10)
    runtime.close()
    log.info("worker for %s stopped", runtime.name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
