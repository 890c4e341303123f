"""The whole system in this process (gateway with its console, and every service) on a
pinned clock, and a tenant with people who have console passwords.

``system`` runs on SQLite and the in-memory bus (``running``: with its workers, one per
module);
``system_everywhere`` runs each test there and on PostgreSQL with RabbitMQ (the console's
security tests); ``limited_system`` has its rate limits on. ``system`` is built once per
test process, the others once per module (a test works in a tenant of its own, and the
clock is set back to its start before each test)."""

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
    """A system shared by the tests of a process, and its clock."""

    system: object
    clock: FakeClock


def _shared_system(tmp_path_factory, start: bool = False, **values) -> Shared:
    clock = FakeClock(START)
    shared = Shared(_system(tmp_path_factory.mktemp("console"), clock, **values), clock)
    if start:
        shared.system.start()
    return shared


@pytest.fixture(scope="session")
def _shared(tmp_path_factory):
    shared = _shared_system(tmp_path_factory)
    yield shared
    shared.system.close()


@pytest.fixture(scope="module")
def _shared_running(tmp_path_factory):
    """Another system, with its relays and consumers running (events reach the kpi service;
    the one above stays synchronous: no event plans anything behind a test's back). One per
    module, closed at its end: the in-memory bus is the process's, and a running system's
    consumers would take other systems' events (and plan visits for their tenants)."""
    shared = _shared_system(tmp_path_factory, start=True)
    yield shared
    shared.system.close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def _shared_everywhere(request, tmp_path_factory):
    """One per module: its PostgreSQL pools are given back when the module ends (a system
    holds a dozen connections; kept for a whole test process, they added up, beside a
    native stack, to PostgreSQL's 100)."""
    values: dict = {}
    prefix = f"c{secrets.token_hex(4)}_"
    if request.param == "postgresql":
        values = {
            "database_url": request.getfixturevalue("postgres_url"),
            "db_schema_prefix": prefix,
            "amqp_url": request.getfixturevalue("amqp_url"),
        }
    shared = _shared_system(tmp_path_factory, **values)
    yield shared
    shared.system.close()
    if values:
        drop_schemas(values["database_url"], prefix)


def _in_use(request) -> Shared:
    """The shared system this test uses: everywhere's, the running one, or the plain one."""
    if "_shared_everywhere" in request.fixturenames:
        return request.getfixturevalue("_shared_everywhere")
    if "running" in request.fixturenames:
        return request.getfixturevalue("_shared_running")
    return request.getfixturevalue("_shared")


@pytest.fixture
def clock(request):
    """The clock of the system this test uses, set back to START."""
    shared = _in_use(request)
    shared.clock.at = START
    return shared.clock


@pytest.fixture
def system(request, clock):
    return _in_use(request).system


@pytest.fixture
def running(_shared_running, clock):
    """``system`` with its relays and consumers running (events reach the kpi service)."""
    return _shared_running.system


@pytest.fixture
def system_everywhere(_shared_everywhere, clock):
    return _shared_everywhere.system


@pytest.fixture(params=["sqlite", "postgresql"])
def limited_system(request, tmp_path):
    """A system of the test's own whose rate limits are on (REVISIT_RATE_LIMIT_ANONYMOUS
    4/minute), on SQLite and on PostgreSQL with RabbitMQ. (Not beside a module's shared one:
    two PostgreSQL systems in one test process hold twice the connections.)"""
    values: dict = {}
    if request.param == "postgresql":
        values = {
            "database_url": request.getfixturevalue("postgres_url"),
            "db_schema_prefix": request.getfixturevalue("postgres_schemas"),
            "amqp_url": request.getfixturevalue("amqp_url"),
        }
    limits = {**CHEAP, "REVISIT_RATE_LIMIT_ANONYMOUS": "4/minute"}
    system = _system(tmp_path, FakeClock(START), environment=limits, **values)
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
