"""gunicorn settings for a service's web process (distributed mode and `make stack`).

prometheus-client multiprocess mode: when PROMETHEUS_MULTIPROC_DIR is set, it is wiped at
start and every dead worker's files are marked dead, so scraped counters sum correctly.
"""

import os
import shutil

bind = os.environ.get("REVISIT_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("REVISIT_WEB_THREADS", "4"))
timeout = 30
graceful_timeout = 20
keepalive = 5
max_requests = int(os.environ.get("REVISIT_MAX_REQUESTS", "0"))
max_requests_jitter = max_requests // 10
accesslog = None


def on_starting(server):
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
