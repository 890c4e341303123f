"""Fixtures of the fault tests: one native stack for the session, the broker restored.

The stack runs against a RabbitMQ node of the session's own (tests/support/private_broker.py)
and the machine's PostgreSQL, with queue and schema prefixes of its own (removed
afterwards). The survey service reaches PostgreSQL through a
:class:`TcpProxy`, so a test can make the database unreachable for it alone.
"""

from __future__ import annotations

import contextlib
import secrets
import signal
import subprocess
from urllib.parse import urlparse

import pytest

from tests.support.client import ADMIN
from tests.support.private_broker import private_broker
from tests.support.servers import drop_schemas, unavailable

from . import harness
from .harness import BrokerFaults, NativeStack, NoteWorker, SourceCounts, TcpProxy, broker_restore

QUEUE_OWNERS = ("gateway", "customer", "visit", "complaint", "survey", "kpi", "notify", "test")


def drop_queues(amqp_url: str, prefix: str) -> None:
    from kombu import Connection

    with Connection(amqp_url, connect_timeout=5) as conn:
        channel = conn.channel()
        for owner in QUEUE_OWNERS:
            for name in (f"{prefix}.{owner}", f"{prefix}.{owner}.dead"):
                try:
                    channel.queue_delete(name)
                except Exception:  # noqa: BLE001 - never declared: nothing to delete
                    channel = conn.channel()


@pytest.fixture(scope="session")
def amqp_url():
    """A RabbitMQ node of this session's own: the fault tests stop it, block its publishers
    and cut its links without touching the machine's broker, which the rest of the suite
    (running beside them) and any `make stack` keep using."""
    with contextlib.ExitStack() as cleanup:
        try:
            node = cleanup.enter_context(private_broker())
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            unavailable(f"no private RabbitMQ node: {exc}")
        harness.RABBITMQCTL[:] = node.ctl()
        cleanup.callback(harness.RABBITMQCTL.__setitem__, slice(None), ["rabbitmqctl"])
        yield node.url


@pytest.fixture(autouse=True)
def no_worker_left():
    """A note worker a failed test did not stop would hold its connections for good."""
    yield
    while NoteWorker.started:
        NoteWorker.started.pop().stop(signal.SIGKILL)


@pytest.fixture(scope="session")
def fault_prefix() -> str:
    return f"f{secrets.token_hex(4)}"


@pytest.fixture(scope="session")
def survey_db_proxy(postgres_url):
    parsed = urlparse(postgres_url)
    proxy = TcpProxy(parsed.hostname, parsed.port or 5432)
    yield proxy
    proxy.close()


@pytest.fixture(scope="session")
def fault_stack(tmp_path_factory, amqp_url, postgres_url, fault_prefix, survey_db_proxy):
    """The native stack, one process per role; WEB_CONCURRENCY=1 (2 cores)."""
    broker_restore()  # a previous run interrupted in the middle of a fault
    schemas = f"{fault_prefix}_"
    parsed = urlparse(postgres_url)
    survey_url = parsed._replace(
        netloc=f"{parsed.username or 'postgres'}@127.0.0.1:{survey_db_proxy.port}",
        query=f"options=-csearch_path%3D{schemas}survey",
    ).geturl()
    env = {
        "REVISIT_AMQP_URL": amqp_url,
        "REVISIT_DATABASE_URL": postgres_url,
        "REVISIT_DB_SCHEMA_PREFIX": schemas,
        "REVISIT_QUEUE_PREFIX": fault_prefix,
        "REVISIT_ADMIN_TOKEN": ADMIN,
        "REVISIT_REGION": harness.REGION,
        "REVISIT_METRICS_TOKEN": harness.METRICS_TOKEN,
        "REVISIT_INTERNAL_TOKEN": secrets.token_urlsafe(32),
        "REVISIT_DATA_DIR": str(tmp_path_factory.mktemp("stack") / "var"),
        "REVISIT_PUBLISH_TIMEOUT": "2",
        "REVISIT_AMQP_HEARTBEAT": "10",
        "REVISIT_LOG_LEVEL": "WARNING",
        "REVISIT_RATE_LIMIT": "1000000/minute",  # the gateway's per-key limit is not tested here
        "WEB_CONCURRENCY": "1",
    }
    survey_only = {"REVISIT_SURVEY_DATABASE_URL": survey_url}
    stack = NativeStack(
        env,
        tmp_path_factory.mktemp("logs"),
        overrides={"survey-web": survey_only, "survey-worker": survey_only},
    )
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        try:
            drop_queues(amqp_url, fault_prefix)
        finally:
            drop_schemas(postgres_url, schemas)


@pytest.fixture
def stack(fault_stack):
    """The session's stack, with every role running and ready before the test."""
    fault_stack.heal()
    return fault_stack


@pytest.fixture(scope="session")
def sources(postgres_url, fault_prefix):
    counts = SourceCounts(postgres_url, f"{fault_prefix}_")
    yield counts
    counts.close()


@pytest.fixture
def broker():
    """Faults of the shared broker, undone whatever happens (and by a dead-man switch if
    this process dies)."""
    faults = BrokerFaults()
    try:
        yield faults
    finally:
        faults.restore()
