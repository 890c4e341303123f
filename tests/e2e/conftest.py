"""The native stack the stack tests share: `make stack` on this session's own vhost and
database (real RabbitMQ and PostgreSQL), started for the module that uses it (test_stack.py)
and stopped after it: left running, its fifteen idle processes took CPU from the rest of the
suite for as long as the session lasted."""

from __future__ import annotations

import secrets

import pytest

from tests.support.pg_limits import limited_role
from tests.support.servers import own_vhost
from tests.support.smtp import running_smtp
from tests.support.stack import native_stack


@pytest.fixture(scope="session")
def smtp_server():
    """The stack's mail server: a real SMTP server (aiosmtpd) its notify worker sends to."""
    with running_smtp() as server:
        yield server


# The stack runs as a role the server allows DB_LIMIT connections (issue #15: a region's
# processes stay within their budget), with the stack's own pool defaults.
DB_LIMIT = 50
STACK_DEFAULTS = {
    "REVISIT_DB_POOL_SIZE": "",
    "REVISIT_DB_MAX_OVERFLOW": "",
    "REVISIT_STACK_MAX_DB_CONNECTIONS": str(DB_LIMIT),
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory, amqp_url, postgres_url, smtp_server):
    prefix = f"s{secrets.token_hex(4)}"
    folder = tmp_path_factory.mktemp("stack")
    environment = {"REVISIT_SMTP_URL": smtp_server.url, **STACK_DEFAULTS}
    # A virtual host of its own: the stack's services must not consume what the other
    # systems of this session publish (and plan visits for their tenants) on the shared
    # revisit.events exchange.
    with (
        own_vhost(amqp_url, "revisit-stack") as broker,
        limited_role(postgres_url, DB_LIMIT) as (role_url, role),
        native_stack(folder, broker, prefix, role_url, f"{prefix}_", environment) as api,
    ):
        api.db_role = role
        api.log_path = folder / "stack.log"
        yield api
