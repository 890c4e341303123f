"""The whole system in this process (gateway with its console, and every service) on a
pinned clock, and a tenant with people who have console passwords.

``system`` runs on SQLite and the in-memory bus; ``system_everywhere`` runs each test there
and on PostgreSQL with RabbitMQ (the console's security tests). A system is built once per
test module (a test works in a tenant of its own, and the clock is set back to its start
before each test); a test marked ``environment({...})`` gets a system of its own with those
``REVISIT_*`` values."""

from __future__ import annotations

import secrets
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
from tests.support.servers import drop_schemas
from tests.support.settings import make_settings

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 2, 9, 30, tzinfo=SHANGHAI)  # a Monday
# scrypt at N = 2**10 (REVISIT_PASSWORD_COST): the rules are the same, a hash 30x cheaper
# than the default's (tests/unit/console/test_passwords.py checks the default's).
CHEAP = {"REVISIT_PASSWORD_COST": "10"}
NO_LIMITS = {"REVISIT_RATE_LIMIT": "off", "REVISIT_RATE_LIMIT_ANONYMOUS": "off", **CHEAP}


def _system(folder, clock, environment=NO_LIMITS, **values):
    settings = make_settings(
        data_dir=folder,
        admin_token=ADMIN,
        queue_prefix=f"t{secrets.token_hex(4)}",
        environment=environment,
        **values,
    )
    sqlite_templates.seed(settings, [*BACKENDS.values(), GATEWAY])
    pg_templates.seed(settings, [*BACKENDS.values(), GATEWAY])
    return build(prepare_settings(settings), clock)  # no workers: every read is synchronous


@dataclass
class Shared:
    """A module's system, its clock, and whether its workers run."""

    system: object
    clock: FakeClock
    running: bool = False


@pytest.fixture(scope="module")
def _shared(tmp_path_factory):
    clock = FakeClock(START)
    shared = Shared(_system(tmp_path_factory.mktemp("console"), clock), clock)
    yield shared
    shared.system.close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def _shared_everywhere(request, tmp_path_factory):
    clock = FakeClock(START)
    values: dict = {}
    prefix = f"c{secrets.token_hex(4)}_"
    if request.param == "postgresql":
        values = {
            "database_url": request.getfixturevalue("postgres_url"),
            "db_schema_prefix": prefix,
            "amqp_url": request.getfixturevalue("amqp_url"),
        }
    shared = Shared(_system(tmp_path_factory.mktemp("console"), clock, **values), clock)
    yield shared
    shared.system.close()
    if values:
        drop_schemas(values["database_url"], prefix)


@pytest.fixture
def clock(request):
    """The clock of the module's system this test uses, set back to START."""
    everywhere = "_shared_everywhere" in request.fixturenames
    shared = request.getfixturevalue("_shared_everywhere" if everywhere else "_shared")
    shared.clock.at = START
    return shared.clock


@pytest.fixture
def system(_shared, clock):
    return _shared.system


@pytest.fixture
def running(_shared, clock):
    """``system`` with its relays and consumers running (events reach the kpi service)."""
    if not _shared.running:
        _shared.system.start()
        _shared.running = True
    return _shared.system


@pytest.fixture
def system_everywhere(request, tmp_path, _shared_everywhere, clock):
    marker = request.node.get_closest_marker("environment")  # the test's REVISIT_* values
    if marker is None:
        yield _shared_everywhere.system
        return
    values: dict = {}
    if _shared_everywhere.system.runtimes["gateway"].db.is_postgres:
        values = {
            "database_url": request.getfixturevalue("postgres_url"),
            "db_schema_prefix": request.getfixturevalue("postgres_schemas"),
            "amqp_url": request.getfixturevalue("amqp_url"),
        }
    system = _system(tmp_path, clock, environment={**CHEAP, **marker.args[0]}, **values)
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
