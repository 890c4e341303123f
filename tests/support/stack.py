"""`make stack` (one process per role, real RabbitMQ and PostgreSQL) as tests start it: its
services, the block of ports it listens on, and the whole stack in a context."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from .client import ADMIN, HttpClient
from .polling import wait_until
from .ports import free_block
from .standalone import REPO, uses_repo_venv

SERVICES = ("customer", "visit", "complaint", "survey", "kpi", "notify")


@contextlib.contextmanager
def native_stack(
    tmp_path: Path,
    amqp_url: str,
    queue_prefix: str,
    postgres_url: str,
    schema_prefix: str,
    environment: dict[str, str] | None = None,
) -> Iterator[HttpClient]:
    """`make stack` on the given vhost, queue prefix and schema prefix (and ``environment``
    added), once every web process answers /readyz; a client of its gateway. Stopped
    afterwards."""
    size = len(SERVICES) + 1  # the web processes and the gateway; then the workers' /metrics
    base = free_block(2 * size)
    gateway_port = base + len(SERVICES)
    env = {
        **os.environ,
        "REVISIT_AMQP_URL": amqp_url,
        "REVISIT_DATABASE_URL": postgres_url,
        "REVISIT_DB_SCHEMA_PREFIX": schema_prefix,
        "REVISIT_QUEUE_PREFIX": queue_prefix,
        "REVISIT_PORT": str(gateway_port),
        "REVISIT_STACK_BASE_PORT": str(base),
        "REVISIT_STACK_METRICS_BASE_PORT": str(base + size),
        "REVISIT_ADMIN_TOKEN": ADMIN,
        "REVISIT_DATA_DIR": str(tmp_path / "var"),
        "REVISIT_OVERDUE_SWEEP_SECONDS": "5",
        "WEB_CONCURRENCY": "1",
        **(environment or {}),
    }
    command = (
        ["make", "--no-print-directory", "-C", str(REPO), "stack"]
        if uses_repo_venv()
        else [sys.executable, "-m", "revisit_runner.stack"]
    )
    log_path = tmp_path / "stack.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    urls = [f"http://127.0.0.1:{gateway_port}"] + [
        f"http://127.0.0.1:{base + i}" for i in range(len(SERVICES))
    ]
    # 14 processes importing and migrating on 2 cores: minutes when the machine is busy.
    pending = list(urls)

    def ready() -> bool:
        """Every process answers /readyz (the stack failing early fails the test at once)."""
        if proc.poll() is not None:
            pytest.fail(f"the stack exited early:\n{log_path.read_text()[-4000:]}")
        while pending:
            try:
                if requests.get(pending[0] + "/readyz", timeout=1).status_code != 200:
                    return False
            except requests.RequestException:
                return False
            pending.pop(0)
        return True

    try:
        wait_until(ready, timeout=240, interval=0.3, message="the stack ready")
    except AssertionError:
        os.killpg(proc.pid, signal.SIGTERM)
        pytest.fail(f"not ready: {pending}\n{log_path.read_text()[-4000:]}")
    try:
        yield HttpClient(urls[0])
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
