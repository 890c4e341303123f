"""The native stack the stack tests share: `make stack` on this session's own vhost and
database (real RabbitMQ and PostgreSQL), started once per test session that needs it."""

from __future__ import annotations

import secrets

import pytest

from tests.support.smtp import running_smtp
from tests.support.stack import native_stack


@pytest.fixture(scope="session")
def smtp_server():
    """The stack's mail server: a real SMTP server (aiosmtpd) its notify worker sends to."""
    with running_smtp() as server:
        yield server


@pytest.fixture(scope="session")
def stack(tmp_path_factory, amqp_url, postgres_url, smtp_server):
    prefix = f"s{secrets.token_hex(4)}"
    folder = tmp_path_factory.mktemp("stack")
    mail = {"REVISIT_SMTP_URL": smtp_server.url}
    with native_stack(folder, amqp_url, prefix, postgres_url, f"{prefix}_", mail) as api:
        yield api
