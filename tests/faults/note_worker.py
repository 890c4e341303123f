"""The fake service of tests/support as a worker process of its own (real process, real
broker, real PostgreSQL), for the fault tests that kill a consumer or a relay:

    python -m tests.faults.note_worker --metrics-port 9100 test writer

Each name is a fake-service runtime started the way ``revisit_runner.worker`` starts a
service's: ``test`` consumes note events (a ``notes`` row per event, no unique key, so an
event applied twice shows up as two rows); ``writer`` has no handlers and relays the notes
the test process writes into its outbox. Settings come from ``REVISIT_*`` like any worker's;
``REVISIT_FAULT_INJECT`` arms a fault point (revisit_common.faults). ``--fixed`` stands for
a deployed fix: NoteFlagged, which the fake service always rejects, is applied like a note.
"""

from __future__ import annotations

import argparse
import faulthandler
import signal
import sys
import threading
from http.server import ThreadingHTTPServer

from revisit_common import logs, metrics
from revisit_common.config import Settings
from revisit_runner.worker import metrics_handler
from tests.support.fake_service import HANDLERS, NoteFlagged, NoteWritten, make_runtime


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.faults.note_worker")
    parser.add_argument("--metrics-port", type=int, required=True)
    parser.add_argument("--fixed", action="store_true")
    parser.add_argument("names", nargs="+", choices=["test", "writer"])
    args = parser.parse_args(argv)
    faulthandler.register(signal.SIGUSR1)  # the test dumps our threads when it fails
    settings = Settings.from_env()
    logs.configure(settings.log_level)
    handlers = dict(HANDLERS)
    if args.fixed:
        handlers[NoteFlagged.type_name()] = HANDLERS[NoteWritten.type_name()]
    runtimes = [
        make_runtime(settings, handlers=handlers if name == "test" else {}, name=name)
        for name in args.names
    ]
    handler = metrics_handler(metrics.credentials(settings.metrics_token, settings.admin_token))
    server = ThreadingHTTPServer(("127.0.0.1", args.metrics_port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threads = [thread for runtime in runtimes for thread in runtime.start_workers(stop)]
    print(f"note worker {args.names} started", flush=True)
    stop.wait()
    for thread in threads:
        thread.join(timeout=10)
    for runtime in runtimes:
        runtime.close()
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
