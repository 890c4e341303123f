"""Shared fixtures: real RabbitMQ / PostgreSQL when reachable.

Tests that need a real server ask for ``amqp_url`` or ``postgres_url``. When the server is
unreachable they are skipped, unless ``REVISIT_REQUIRE_SERVICES=1`` (CI), which turns the
skip into a failure: in CI the real-broker and real-database tests always run.
"""

from __future__ import annotations

import os
import secrets

import pytest
from hypothesis import HealthCheck, settings

from revisit_common.config import SERVICES
from tests.support.servers import drop_schemas, own_database, own_vhost, reachable
from tests.support.settings import SMALL_POOL

AMQP_URL = os.environ.get("REVISIT_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
POSTGRES_URL = os.environ.get(
    "REVISIT_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REQUIRED = os.environ.get("REVISIT_REQUIRE_SERVICES") == "1"

# The processes tests start (native stacks, `make run`) keep small pools too.
os.environ.setdefault("REVISIT_DB_POOL_SIZE", str(SMALL_POOL["db_pool_size"]))
os.environ.setdefault("REVISIT_DB_MAX_OVERFLOW", str(SMALL_POOL["db_max_overflow"]))

# Properties are checked, not timed: on a busy machine (another suite beside this one) data
# generation is slow and example run times vary, which says nothing about the code.
# 50 examples a property (Hypothesis' default is 100): the suite runs on 2 cores beside a
# fault stack, and the properties' failures so far were all found within the first dozen.
settings.register_profile(
    "revisit", max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("revisit")


def _need(url: str, what: str) -> str:
    if reachable(url):
        return url
    message = f"{what} unreachable at {url}"
    if REQUIRED:
        pytest.fail(f"{message} and REVISIT_REQUIRE_SERVICES=1")
    pytest.skip(message)


@pytest.fixture(scope="session")
def amqp_url():
    """The real broker, in a virtual host of this test session's own when ``rabbitmqctl``
    can make one (so nothing another run publishes on ``revisit.events`` reaches these
    tests, and nothing is left behind); the URL's own vhost otherwise."""
    with own_vhost(_need(AMQP_URL, "RabbitMQ"), "revisit-test") as url:
        yield url


@pytest.fixture(scope="session")
def postgres_url():
    """The real PostgreSQL, on a database of this test session's own (dropped afterwards),
    so sessions running side by side (``make test``'s workers) share no schema."""
    with own_database(_need(POSTGRES_URL, "PostgreSQL"), "revisit_test") as url:
        yield url


@pytest.fixture(scope="session")
def pika_parameters(amqp_url):
    """The same broker for pika, which spells the default vhost '%2F' where kombu says '//'."""
    import pika

    url = amqp_url[:-2] + "/%2F" if amqp_url.endswith("//") else amqp_url
    return pika.URLParameters(url)


@pytest.fixture
def unique_prefix() -> str:
    """A name prefix no other test uses (queues, schemas)."""
    return f"t{secrets.token_hex(4)}"


@pytest.fixture
def broker_queues(amqp_url, unique_prefix):
    """A queue prefix on the real broker; every queue named with it is deleted afterwards."""
    from kombu import Connection

    yield unique_prefix
    with Connection(amqp_url) as conn:
        channel = conn.channel()
        for service in (*SERVICES, "test"):
            for name in (f"{unique_prefix}.{service}", f"{unique_prefix}.{service}.dead"):
                try:
                    channel.queue_delete(name)
                except Exception:  # noqa: BLE001 - queue never declared: nothing to delete
                    channel = conn.channel()


@pytest.fixture
def postgres_schemas(postgres_url, unique_prefix):
    """A schema prefix on the real PostgreSQL; its schemas are dropped afterwards."""
    prefix = f"{unique_prefix}_"
    yield prefix
    drop_schemas(postgres_url, prefix)
