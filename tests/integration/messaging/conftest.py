"""Fixtures for the messaging integration tests: real RabbitMQ, SQLite or real PostgreSQL."""

from __future__ import annotations

import pytest

from revisit_common.config import Settings
from tests.support.fake_service import built_runtimes
from tests.support.rabbit import PikaClient
from tests.support.settings import bus_settings


def _settings(tmp_path, amqp_url: str, prefix: str, **overrides) -> Settings:
    return bus_settings(
        tmp_path,
        amqp_url,
        prefix,
        **{"relay_batch": 50, "consumer_retries": 3, "prefetch": 20, **overrides},
    )


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request, tmp_path, amqp_url, broker_queues) -> Settings:
    """Settings for the fake services: each test's own queues, and its own database."""
    if request.param == "postgres":
        postgres_url = request.getfixturevalue("postgres_url")
        schemas = request.getfixturevalue("postgres_schemas")
        return _settings(
            tmp_path, amqp_url, broker_queues, database_url=postgres_url, db_schema_prefix=schemas
        )
    return _settings(tmp_path, amqp_url, broker_queues)


@pytest.fixture
def sqlite_settings(tmp_path, amqp_url, broker_queues) -> Settings:
    return _settings(tmp_path, amqp_url, broker_queues)


@pytest.fixture
def postgres_settings(tmp_path, amqp_url, broker_queues, postgres_url, postgres_schemas):
    return _settings(
        tmp_path,
        amqp_url,
        broker_queues,
        database_url=postgres_url,
        db_schema_prefix=postgres_schemas,
    )


@pytest.fixture
def pika_client(amqp_url):
    client = PikaClient(amqp_url)
    yield client
    client.close()


@pytest.fixture
def runtimes():
    """``runtimes(settings, name=..., handlers=..., bus=...)``: runtimes closed after the test."""
    with built_runtimes() as build:
        yield build
