"""The whole system in this process (gateway with its console, and every service) on a
pinned clock, and a tenant with people who have console passwords.

``system`` runs on SQLite and the in-memory bus; ``system_everywhere`` runs each test there
and on PostgreSQL with RabbitMQ (the console's security tests)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from revisit_runner.services import BACKENDS, GATEWAY
from revisit_runner.standalone import build, prepare_settings
from tests.support import pg_templates, sqlite_templates
from tests.support.client import ADMIN, Api
from tests.support.clock import FakeClock
from tests.support.console import Console
from tests.support.settings import make_settings

SHANGHAI = ZoneInfo("Asia/Shanghai")
NO_LIMITS = {"REVISIT_RATE_LIMIT": "off", "REVISIT_RATE_LIMIT_ANONYMOUS": "off"}


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 3, 2, 9, 30, tzinfo=SHANGHAI))  # a Monday


def _system(tmp_path, prefix, clock, environment=NO_LIMITS, **values):
    settings = make_settings(
        data_dir=tmp_path, admin_token=ADMIN, queue_prefix=prefix, environment=environment, **values
    )
    sqlite_templates.seed(settings, [*BACKENDS.values(), GATEWAY])
    pg_templates.seed(settings, [*BACKENDS.values(), GATEWAY])
    return build(prepare_settings(settings), clock)  # no workers: every read is synchronous


@pytest.fixture
def system(tmp_path, unique_prefix, clock):
    system = _system(tmp_path, unique_prefix, clock)
    yield system
    system.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def system_everywhere(request, tmp_path, unique_prefix, clock):
    marker = request.node.get_closest_marker("environment")  # the test's REVISIT_* values
    values = {"environment": marker.args[0] if marker else NO_LIMITS}
    if request.param == "postgresql":
        values |= {
            "database_url": request.getfixturevalue("postgres_url"),
            "db_schema_prefix": request.getfixturevalue("postgres_schemas"),
            "amqp_url": request.getfixturevalue("amqp_url"),
        }
        request.getfixturevalue("broker_queues")
    system = _system(tmp_path, unique_prefix, clock, **values)
    yield system
    system.close()


@dataclass
class Tenant:
    id: str
    admin: Api  # the tenant's admin key
    app: object

    def console(self) -> Console:
        return Console(self.app)


def new_tenant(system) -> Tenant:
    platform = Api(system, ADMIN)
    created = platform.post("/tenants", {"name": "Acme", "timezone": "Asia/Shanghai"})
    assert created.status_code == 201, created.json
    return Tenant(created.json["id"], platform.as_key(created.json["admin_key"]), system.app)


@pytest.fixture
def tenant(system) -> Tenant:
    return new_tenant(system)


@pytest.fixture
def tenant_everywhere(system_everywhere) -> Tenant:
    return new_tenant(system_everywhere)
