"""Distributed mode: one service's worker process (outbox relay, consumer, periodic jobs).

    python -m revisit_runner.worker customer
    python -m revisit_runner.worker --metrics-port 9100 customer

Runs until SIGTERM or SIGINT, then stops its threads and exits. With ``--metrics-port`` it
also serves ``/metrics`` (events published and consumed, dead letters, publish failures),
to a bearer of ``REVISIT_METRICS_TOKEN`` or the platform token only, and ``/healthz``.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from revisit_common import logs, metrics
from revisit_common.config import Settings
from revisit_common.runtime import ServiceRuntime

from .services import NAMES, spec

log = logging.getLogger(__name__)


UNAUTHORIZED = json.dumps(
    {
        "type": "https://revisit.example/problems/401",
        "title": "Unauthorized",
        "status": 401,
        "detail": "/metrics needs Authorization: Bearer <REVISIT_METRICS_TOKEN or platform token>",
    }
).encode("utf-8")


class MetricsHandler(BaseHTTPRequestHandler):
    tokens: tuple[str, ...] = ()  # set by metrics_handler()

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        path = urlsplit(self.path).path
        if path == "/metrics" and not metrics.authorized(
            self.headers.get("Authorization"), self.tokens
        ):
            self.send_response(401)
            self.send_header("Content-Type", "application/problem+json")
            self.send_header("WWW-Authenticate", "Bearer")
            self.send_header("Content-Length", str(len(UNAUTHORIZED)))
            self.end_headers()
            self.wfile.write(UNAUTHORIZED)
            return
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


def metrics_handler(tokens: tuple[str, ...]) -> type[MetricsHandler]:
    """The handler class of a worker's metrics server, accepting ``tokens``."""
    return type("WorkerMetricsHandler", (MetricsHandler,), {"tokens": tokens})


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m revisit_runner.worker")
    parser.add_argument("--metrics-port", type=int, default=None)
    parser.add_argument("--metrics-host", default="0.0.0.0")
    parser.add_argument("service", choices=sorted(NAMES))
    args = parser.parse_args(argv)
    server = None
    if args.metrics_port is not None:
        settings = Settings.from_env()
        metrics.configure(settings.prometheus_multiproc_dir)
        tokens = metrics.credentials(settings.metrics_token, settings.admin_token)
        if not tokens:
            log.warning("no REVISIT_METRICS_TOKEN or REVISIT_ADMIN_TOKEN: /metrics refuses all")
        handler = metrics_handler(tokens)
        server = ThreadingHTTPServer((args.metrics_host, args.metrics_port), handler)
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
    runtime = ServiceRuntime(spec(service), settings)
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
