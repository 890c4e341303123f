"""A standalone system per test (or per module for the slow-to-build ones), with rate limits
high enough not to get in the way unless a test sets its own.

Every system-backed test runs twice: on SQLite files, and on the real PostgreSQL (a schema
per service, dropped afterwards). The PostgreSQL run carries the ``services`` mark: skipped
when the server is unreachable, a failure then under ``REVISIT_REQUIRE_SERVICES=1`` (CI)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator

import pytest

from revisit_common.config import Settings
from tests.support.client import ADMIN, Api
from tests.support.servers import drop_schemas
from tests.support.settings import make_settings
from tests.support.system import start_system

UNLIMITED = "1000000/minute"
DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.services)]


def _settings(
    data_dir, prefix: str, database: dict, environment: dict | None = None, **overrides
) -> Settings:
    """The system's settings; ``environment`` adds to (or replaces) the ``REVISIT_*``
    variables the services read their own options from."""
    values = {
        "data_dir": data_dir,
        "admin_token": ADMIN,
        "queue_prefix": prefix,
        "environment": {
            "REVISIT_RATE_LIMIT": UNLIMITED,
            "REVISIT_RATE_LIMIT_ANONYMOUS": UNLIMITED,
            # the webhooks made here go to 127.0.0.1's discard port (catalog.WEBHOOK_URL):
            # the operator's switch lets them; the address policy has tests of its own
            "REVISIT_WEBHOOK_ALLOW_PRIVATE": "true",
            **(environment or {}),
        },
        **database,
        **overrides,
    }
    return make_settings(**values)


def _postgres_url(request, prefix: str) -> str | None:
    """The PostgreSQL URL for the ``postgres`` run (its schemas starting with ``prefix`` are
    dropped after the fixture), None for the SQLite run (files in the data directory)."""
    if request.param == "sqlite":
        return None
    url = request.getfixturevalue("postgres_url")
    request.addfinalizer(lambda: drop_schemas(url, prefix))
    return url


def _database(url: str | None, prefix: str) -> dict:
    """The settings that put a system's tables in ``url``, one schema per service."""
    return {"database_url": url, "db_schema_prefix": f"{prefix}_"} if url else {}


@pytest.fixture(params=DATABASES)
def make_system(request, tmp_path, unique_prefix) -> Iterator[Callable]:
    """Start a system with some settings changed; every one started is closed after."""
    started = []
    url = _postgres_url(request, unique_prefix)

    def make(**overrides):
        prefix, data = f"{unique_prefix}{len(started)}", tmp_path / f"system{len(started)}"
        started.append(start_system(_settings(data, prefix, _database(url, prefix), **overrides)))
        return started[-1]

    yield make
    for system in started:
        system.close()


@pytest.fixture
def system(make_system):
    return make_system()


@pytest.fixture
def api(system) -> Api:
    """The admin of a fresh tenant."""
    return Api(system).new_tenant()


@pytest.fixture(scope="module", params=DATABASES)
def module_system(request, tmp_path_factory):
    """One system for a whole module (tests that share costly set-up)."""
    prefix = f"s{secrets.token_hex(4)}"
    database = _database(_postgres_url(request, prefix), prefix)
    system = start_system(_settings(tmp_path_factory.mktemp("system"), prefix, database))
    yield system
    system.close()
