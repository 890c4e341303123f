"""The native stack the stack tests share: `make stack` on this test's own vhost, queues and
schemas (real RabbitMQ and PostgreSQL)."""

from __future__ import annotations

import pytest

from tests.support.stack import native_stack


@pytest.fixture
def stack(tmp_path, amqp_url, broker_queues, postgres_url, postgres_schemas):
    with native_stack(tmp_path, amqp_url, broker_queues, postgres_url, postgres_schemas) as api:
        yield api
