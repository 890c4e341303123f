"""The native stack the stack tests share: `make stack` on this session's own vhost and
database (real RabbitMQ and PostgreSQL), started once per test session that needs it."""

from __future__ import annotations

import secrets

import pytest

from tests.support.stack import native_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory, amqp_url, postgres_url):
    prefix = f"s{secrets.token_hex(4)}"
    folder = tmp_path_factory.mktemp("stack")
    with native_stack(folder, amqp_url, prefix, postgres_url, f"{prefix}_") as api:
        yield api
