"""A standalone system per test (or per module for the slow-to-build ones), with rate limits
high enough not to get in the way unless a test sets its own."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator

import pytest

from revisit_common.config import Settings
from tests.e2e.system import ADMIN, Api, start_system

UNLIMITED = "1000000/minute"


def _settings(data_dir, prefix: str, **overrides) -> Settings:
    values = {
        "data_dir": data_dir,
        "admin_token": ADMIN,
        "queue_prefix": prefix,
        "rate_limit": UNLIMITED,
        "rate_limit_anonymous": UNLIMITED,
        **overrides,
    }
    return Settings(**values)


@pytest.fixture
def make_system(tmp_path, unique_prefix) -> Iterator[Callable]:
    """Start a system with some settings changed; every one started is closed after."""
    started = []

    def make(**overrides):
        data = tmp_path / f"system{len(started)}"
        system = start_system(_settings(data, f"{unique_prefix}{len(started)}", **overrides))
        started.append(system)
        return system

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


@pytest.fixture(scope="module")
def module_system(tmp_path_factory):
    """One system for a whole module (tests that share costly set-up)."""
    prefix = f"s{secrets.token_hex(4)}"
    system = start_system(_settings(tmp_path_factory.mktemp("system"), prefix))
    yield system
    system.close()
