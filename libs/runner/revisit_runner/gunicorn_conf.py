"""gunicorn settings for every revisit web process (one service per process group).

    gunicorn -c python:revisit_runner.gunicorn_conf 'revisit_runner.web:app("customer")'

Environment it reads (besides what gunicorn reads itself):
- ``REVISIT_BIND``: address to listen on (default ``0.0.0.0:8000``; `make stack` sets one
  per service);
- ``REVISIT_MAX_REQUESTS``: recycle a worker after this many requests (default 20000: a
  new worker costs some 0.4 s of CPU to build its app and connect, at 2000 about 9% of a
  cheap read's CPU; 20000 still bounds what a slow leak can grow to);
- ``WEB_CONCURRENCY``: worker processes (default 2), each with database pools of its own
  (REVISIT_DB_POOL_SIZE + REVISIT_DB_MAX_OVERFLOW connections per service engine: count
  them in the server's budget, README "Connections per process");
- ``REVISIT_WEB_THREADS``: threads per worker (default 4);
- ``REVISIT_KEEPALIVE_SECONDS``: how long an idle keep-alive connection is kept (default 75);
- ``REVISIT_IMPORT_IN_MASTER``: ``0`` to import the app's modules in each worker only
  (by default the master imports them once, :func:`import_app_modules`);
- ``PROMETHEUS_MULTIPROC_DIR``: where prometheus-client keeps per-process metric files
  (default ``/tmp/prometheus``); wiped when the server starts, each dead worker's files
  marked dead, so ``/metrics`` sums counters over the live workers (NOTES.md).
"""

from __future__ import annotations

import gc
import importlib
import os
import shutil
from pathlib import Path

from revisit_common.config import Settings

os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", "/tmp/prometheus")

SETTINGS = Settings.from_env()
bind = SETTINGS.bind or "0.0.0.0:8000"
workers = SETTINGS.web_concurrency  # gunicorn's own variable WEB_CONCURRENCY
worker_class = "gthread"
threads = SETTINGS.web_threads or 4
timeout = 30
graceful_timeout = 25  # below Kubernetes' default 30 s grace period
# Idle keep-alive connections wait in the worker's poller (no thread) this long: CONTRACT
# 4.1 asks for at least 60 s; the gateway's client reuses its own for less (proxy.py).
keepalive = SETTINGS.keepalive_seconds
max_requests = SETTINGS.max_requests
max_requests_jitter = max_requests // 10
# Read-only root filesystem: heartbeat files in memory, no control socket under $HOME.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
control_socket_disable = True
# The app logs JSON lines itself; gunicorn's own messages go to stderr.
accesslog = None
errorlog = "-"
# The gateway and the probes reach us through the cluster network only.
forwarded_allow_ips = "*"


def on_starting(server) -> None:
    """Start from an empty metrics folder: files of a previous run would add stale counts.
    Then import the app's modules here, once (see :func:`import_app_modules`)."""
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    import_app_modules(server)


def import_app_modules(server) -> None:
    """Import the module of the app (``revisit_runner.web``, which imports every service)
    in the master, so that each worker forked from it, at start and every ``max_requests``,
    starts with its code already imported: about 0.1 s of CPU to build the app instead of
    0.8 s. Only modules: the app itself (engines, connections) is still built in each
    worker after the fork. A module that fails to import here fails in the worker as
    before."""
    uri = getattr(server.app, "app_uri", None)
    if not uri or os.environ.get("REVISIT_IMPORT_IN_MASTER", "1") == "0":
        return
    try:
        importlib.import_module(uri.split(":", 1)[0])
    except Exception as exc:  # noqa: BLE001 - the worker reports it properly
        server.log.warning("could not import %s in the master: %r", uri, exc)


def post_worker_init(worker) -> None:
    """Freeze what the worker holds once its app is built (modules, the app, its engines):
    the garbage collector no longer walks those objects. A full collection walked well over
    100,000 of them, some 25 ms that a request happening to trigger one waited for (the p99
    of /metrics, which allocates thousands of objects, went from ~50 to ~15 ms)."""
    gc.freeze()


def child_exit(server, worker) -> None:
    """Drop the gauges of a worker that exited (counters of dead workers are kept)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
