"""Distributed mode: one service's worker process (outbox relay, consumer, periodic jobs).

    python -m revisit_runner.worker customer

Runs until SIGTERM or SIGINT, then stops its threads and exits.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from revisit_common import logs, metrics
from revisit_common.config import Settings
from revisit_common.runtime import ServiceRuntime

from .services import ALL

log = logging.getLogger(__name__)


class MetricsHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        path = urlsplit(self.path).path
        if path == "/metrics":
            body, content_type = metrics.render()
        elif path == "/healthz":
            body, content_type = b'{"status": "ok"}', "application/json"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - http.server's name
        """Scrapes every few seconds are not worth a log line."""


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m revisit_runner.worker")
    parser.add_argument("--metrics-port", type=int, default=None)
    parser.add_argument("--metrics-host", default="0.0.0.0")
    parser.add_argument("service", choices=sorted(ALL))
    args = parser.parse_args(argv)
    server = None
    if args.metrics_port is not None:
        server = ThreadingHTTPServer((args.metrics_host, args.metrics_port), MetricsHandler)
        threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    try:
        return run(args.service)
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()


def run(service: str) -> int:
    settings = Settings.from_env()
    logs.configure(settings.log_level)
    if not settings.internal_token:
        log.warning("REVISIT_INTERNAL_TOKEN is not set; only the worker runs here, so no harm")
    runtime = ServiceRuntime(ALL[service], settings)
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
