"""gunicorn workers recycled (``max_requests``) and one killed with SIGKILL: the request
counters scraped from ``/metrics`` (prometheus-client multiprocess mode) still sum to the
requests sent."""

from __future__ import annotations

import os
import signal
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from .harness import free_port, metric_sum, report, scrape, stop_process, wait_for

REQUESTS = 1200
MAX_REQUESTS = 100  # gunicorn adds a jitter of up to 10 %


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _hit(url: str, count: int) -> list[int]:
    """``count`` GETs, each on a new connection: a request either got an answer or was
    never sent (a keep-alive connection closed by a recycled worker would be ambiguous)."""

    def one(_):
        try:
            return requests.get(url, headers={"Connection": "close"}, timeout=10).status_code
        except requests.RequestException:
            return None

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(one, range(count)))


def test_recycled_and_killed_workers_keep_request_counts_exact(stack, tmp_path):
    role = stack.procs["customer-web"].role
    port = free_port()
    env = {
        **role.env,
        "REVISIT_BIND": f"127.0.0.1:{port}",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "WEB_CONCURRENCY": "2",
        "REVISIT_MAX_REQUESTS": str(MAX_REQUESTS),
        "REVISIT_LOG_LEVEL": "WARNING",
    }
    log_path = tmp_path / "gunicorn.log"
    base = f"http://127.0.0.1:{port}"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            role.argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        # /readyz, not /healthz: only the requests counted below hit /healthz
        wait_for(lambda: requests.get(base + "/readyz", timeout=2).ok, 60, "gunicorn up")
        wait_for(lambda: len(_children(proc.pid)) == 2, 30, "two workers")
        first = _hit(base + "/healthz", REQUESTS // 2)
        victim = _children(proc.pid)[0]
        os.kill(victim, signal.SIGKILL)  # between requests: none of ours is cut short
        wait_for(
            lambda: len(_children(proc.pid)) == 2 and victim not in _children(proc.pid),
            30,
            "the killed worker replaced",
        )
        second = _hit(base + "/healthz", REQUESTS - REQUESTS // 2)
        samples = scrape(base + "/metrics")
        scraped = metric_sum(samples, "revisit_http_requests_total", route="/healthz")
    finally:
        stop_process(proc)
    text = log_path.read_text(errors="replace")
    recycled = text.count("Autorestarting worker")
    statuses = first + second
    answered = sum(s == 200 for s in statuses)
    report(
        "gunicorn_recycled_and_killed_workers",
        requests_sent=len(statuses),
        answered=answered,
        unanswered=len(statuses) - answered,
        workers_recycled=recycled,
        workers_killed=1,
        scraped_request_count=int(scraped),
        lost=answered - int(scraped),
    )
    assert answered == REQUESTS, f"{len(statuses) - answered} requests failed:\n{text[-2000:]}"
    assert recycled >= 5, f"max_requests recycled only {recycled} workers"
    assert scraped == answered
