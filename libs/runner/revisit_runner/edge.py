"""The public edge: serve a WSGI app with waitress, which holds hostile clients.

waitress reads each request whole (headers and body, a large body spilled to a temporary
file) in its event loop, and only then hands it to a worker thread: a client that sends
its body slowly, or never finishes it, holds a socket, never a thread, so ``/healthz`` and
every other client are served meanwhile. A connection silent for ``keepalive`` seconds is
closed, whether it is idle between requests or stalled inside one (the read deadline).

Since the body is always read before the app answers, an early answer (401, 413, 422...)
leaves the connection usable for the client's next request. A body larger than
:func:`read_limit` is refused by waitress itself (413 with ``Connection: close``) before
it is read at all.

Used by standalone mode and, in the native stack, by the gateway's web process:

    python -m revisit_runner.edge gateway
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from revisit_common.config import Settings

log = logging.getLogger(__name__)

# Sockets held open at once (idle keep-alive, slow clients, requests in progress); waitress
# polls them with poll(2), so this is not bounded by select's 1024 descriptors.
CONNECTION_LIMIT = 1000
MIB = 1024 * 1024


def read_limit(max_body_bytes: int, max_upload_bytes: int = 0) -> int:
    """The largest body waitress reads: four times the app's limit (at least 1 MiB more),
    and 1 MiB more than the upload limit of the file routes, so that a body somewhat over
    a limit gets the app's 413 problem answer on a connection that stays open, and a far
    larger one is refused unread."""
    return max(4 * max_body_bytes, max_body_bytes + MIB, max_upload_bytes + MIB)


def adjustments(settings: Settings, threads: int) -> dict:
    """waitress' settings for ``settings``' address, keep-alive and body limit."""
    keepalive = settings.keepalive_seconds
    return {
        "host": settings.host,
        "port": settings.port,
        "threads": threads,
        "connection_limit": CONNECTION_LIMIT,
        "asyncore_use_poll": True,
        # Idle keep-alive, and the read deadline of a stalled request: checked every
        # cleanup_interval seconds, so a connection closes between the two.
        "channel_timeout": keepalive,
        "cleanup_interval": max(1, min(30, keepalive // 4)),
        "max_request_body_size": read_limit(settings.max_body_bytes, settings.max_upload_bytes),
        # The app reads X-Forwarded-For itself (REVISIT_TRUSTED_PROXIES): pass it through.
        "clear_untrusted_proxy_headers": False,
        "ident": "revisit",
    }


def serve(app, settings: Settings, threads: int, on_stop: Callable[[], None] | None = None):
    """Serve ``app`` until SIGTERM or SIGINT; then stop taking connections, let the
    requests in progress finish (5 s at most) and call ``on_stop``."""
    from waitress import create_server

    server = create_server(app, **adjustments(settings, threads))

    def stop(*_):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.run()  # returns once a signal ended its loop (threads given 5 s)
    finally:
        server.close()
        if on_stop is not None:
            on_stop()


def fresh_metrics_folder(folder: str | None) -> None:
    """As gunicorn_conf does at start: metric files of an earlier run would add stale
    counts to /metrics (only when PROMETHEUS_MULTIPROC_DIR is set: ``folder``)."""
    if not folder:
        return
    path = Path(folder)
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)


def main(argv: list[str]) -> int:
    from .services import NAMES
    from .web import app

    if len(argv) != 1 or argv[0] not in NAMES:
        print(f"usage: python -m revisit_runner.edge {{{'|'.join(NAMES)}}}", file=sys.stderr)
        return 2
    settings = Settings.from_env()
    if settings.bind:
        host, _, port = settings.bind.rpartition(":")
        settings = dataclasses.replace(settings, host=host.strip("[]"), port=int(port))
    fresh_metrics_folder(settings.prometheus_multiproc_dir)
    serve(app(argv[0]), settings, settings.web_threads or 8)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
