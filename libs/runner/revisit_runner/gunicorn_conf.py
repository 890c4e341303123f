"""gunicorn settings for every revisit web process (one service per process group).

    gunicorn -c python:revisit_runner.gunicorn_conf 'revisit_runner.web:app("customer")'

Environment it reads (besides what gunicorn reads itself):
- ``REVISIT_BIND``: address to listen on (default ``0.0.0.0:8000``; `make stack` sets one
  per service);
- ``REVISIT_MAX_REQUESTS``: recycle a worker after this many requests (default 2000);
- ``WEB_CONCURRENCY``: worker processes (default 2);
- ``REVISIT_WEB_THREADS``: threads per worker (default 4);
- ``PROMETHEUS_MULTIPROC_DIR``: where prometheus-client keeps per-process metric files
  (default ``/tmp/prometheus``); wiped when the server starts, each dead worker's files
  marked dead, so ``/metrics`` sums counters over the live workers (NOTES.md).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", "/tmp/prometheus")

bind = os.environ.get("REVISIT_BIND") or "0.0.0.0:8000"
workers = int(os.environ.get("WEB_CONCURRENCY") or 2)
worker_class = "gthread"
threads = int(os.environ.get("REVISIT_WEB_THREADS") or 4)
timeout = 30
graceful_timeout = 25  # below Kubernetes' default 30 s grace period
keepalive = 5
max_requests = int(os.environ.get("REVISIT_MAX_REQUESTS") or 2000)
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
    """Start from an empty metrics folder: files of a previous run would add stale counts."""
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)


def child_exit(server, worker) -> None:
    """Drop the gauges of a worker that exited (counters of dead workers are kept)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
