"""The example department consumer (plain pika) survives its connection being closed by
the broker (as on a restart: CONNECTION_FORCED): it connects again and still receives an
event published afterwards. The connection is closed with ``rabbitmqctl close_connection``,
found by its client-provided name; the broker itself is not restarted (shared)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.support.polling import wait_until
from tests.support.rabbit import PikaClient
from tests.support.servers import rabbitmqctl, unavailable

pytestmark = pytest.mark.services

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "department_consumer.py"


def connections_named(name: str) -> list[str]:
    """The pids (what ``close_connection`` takes) of the connections whose client-provided
    name is ``name``."""
    done = subprocess.run(
        ["rabbitmqctl", "list_connections", "pid", "client_properties", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    wanted = f'{{"connection_name","{name}"}}'
    return [line.split("\t", 1)[0] for line in done.stdout.splitlines() if wanted in line]


def event(tenant: str, number: str) -> bytes:
    return json.dumps(
        {
            "specversion": "1.0",
            "id": f"evt-{number}",
            "type": "ComplaintRaised",
            "tenantid": tenant,
            "data": {"number": number, "customer_id": "c-1", "severity": "major"},
        }
    ).encode()


def test_consumer_reconnects_after_the_broker_closes_its_connection(
    amqp_url, broker_queues, unique_prefix
):
    if not rabbitmqctl("status"):
        unavailable("rabbitmqctl is needed to close a connection")
    name = f"{unique_prefix}-consumer"
    process = subprocess.Popen(
        [sys.executable, str(EXAMPLE), "--url", amqp_url, "--department", "product"]
        + ["--queue", f"{broker_queues}.dept", "--name", name],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: list[str] = []
    reader = threading.Thread(
        target=lambda: lines.extend(iter(process.stdout.readline, "")), daemon=True
    )
    reader.start()
    publisher = PikaClient(amqp_url)
    try:
        wait_until(lambda: any(x.startswith("listening") for x in lines), timeout=15)
        publisher.publish("complaint.raised.product", event(unique_prefix, "CMP-1"))
        wait_until(lambda: any("CMP-1" in x for x in lines), timeout=15, message="first event")

        [connection] = wait_until(lambda: connections_named(name), timeout=15)
        assert rabbitmqctl("close_connection", connection, "test: as on a broker restart")
        wait_until(
            lambda: any(x.startswith("connection lost") for x in lines),
            timeout=15,
            message="the loss noticed",
        )
        wait_until(
            lambda: sum(x.startswith("listening") for x in lines) == 2,
            timeout=15,
            message="listening again",
        )
        assert process.poll() is None, "".join(lines)
        [again] = wait_until(lambda: connections_named(name), timeout=15)
        assert again != connection

        publisher.publish("complaint.raised.product", event(unique_prefix, "CMP-2"))
        wait_until(lambda: any("CMP-2" in x for x in lines), timeout=15, message="second event")
        printed = [x for x in lines if x.startswith("ComplaintRaised")]
        assert printed[-1].startswith("ComplaintRaised CMP-2 [complaint.raised.product]")
        assert "Traceback" not in "".join(lines)
    finally:
        publisher.close()
        process.terminate()
        process.wait(timeout=10)
