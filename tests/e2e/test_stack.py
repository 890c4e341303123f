"""Issue #5 acceptance: `make stack` (one process per role, real RabbitMQ and PostgreSQL)
serves the gateway, and the follow-up and complaint loops work through it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests

from .loops import complaint_loop, follow_up_loop
from .standalone import REPO, uses_repo_venv
from .system import ADMIN, Api, HttpClient

SERVICES = ("customer", "visit", "complaint", "survey", "kpi")


def free_block(size: int) -> int:
    """The first port of ``size`` consecutive free ports."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + size > 65000:
            continue
        try:
            held = []
            for port in range(base, base + size):
                sock = socket.socket()
                sock.bind(("127.0.0.1", port))
                held.append(sock)
            return base
        except OSError:
            continue
        finally:
            for sock in held:
                sock.close()
    raise RuntimeError("no block of free ports")


@pytest.fixture
def stack(tmp_path, amqp_url, broker_queues, postgres_url, postgres_schemas):
    size = len(SERVICES) + 1  # the web processes and the gateway; then the workers' /metrics
    base = free_block(2 * size)
    gateway_port = base + len(SERVICES)
    env = {
        **os.environ,
        "REVISIT_AMQP_URL": amqp_url,
        "REVISIT_DATABASE_URL": postgres_url,
        "REVISIT_DB_SCHEMA_PREFIX": postgres_schemas,
        "REVISIT_QUEUE_PREFIX": broker_queues,
        "REVISIT_PORT": str(gateway_port),
        "REVISIT_STACK_BASE_PORT": str(base),
        "REVISIT_STACK_METRICS_BASE_PORT": str(base + size),
        "REVISIT_ADMIN_TOKEN": ADMIN,
        "REVISIT_DATA_DIR": str(tmp_path / "var"),
        "REVISIT_OVERDUE_SWEEP_SECONDS": "5",
        "WEB_CONCURRENCY": "1",
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
    deadline = time.monotonic() + 90
    pending = list(urls)
    while pending and time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the stack exited early:\n{log_path.read_text()[-4000:]}")
        try:
            if requests.get(pending[0] + "/readyz", timeout=1).status_code == 200:
                pending.pop(0)
                continue
        except requests.RequestException:
            pass
        time.sleep(0.3)
    if pending:
        os.killpg(proc.pid, signal.SIGTERM)
        pytest.fail(f"not ready: {pending}\n{log_path.read_text()[-4000:]}")
    yield HttpClient(urls[0])
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def test_stack_serves_the_gateway_and_both_loops(stack):
    health = stack.get("/healthz")
    assert health.status_code == 200 and health.json["service"] == "gateway"
    spec = stack.get("/api/v1/openapi.json").json
    for path in (
        "/api/v1/customers",
        "/api/v1/visits",
        "/api/v1/complaints",
        "/api/v1/surveys",
        "/api/v1/kpis",
    ):
        assert path in spec["paths"], path
    follow_up_loop(Api(stack).new_tenant("Loop one"), kpi_timeout=15)
    complaint_loop(Api(stack).new_tenant("Loop two"), timeout=15)
