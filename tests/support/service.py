"""One service in this process as its tests drive it: a runtime on SQLite under a test's
own directory (or the settings given), closed afterwards."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path

import sqlalchemy as sa

from revisit_common.clock import Clock, now
from revisit_common.runtime import ServiceRuntime
from tests.support.settings import make_settings

from . import pg_templates, sqlite_templates
from .client import TOKEN


@contextlib.contextmanager
def service_runtime(
    spec,
    data_dir: Path,
    *,
    peers: Mapping[str, object] | None = None,
    clock: Clock = now,
    **settings,
) -> Iterator[ServiceRuntime]:
    """The service of ``spec`` with its data under ``data_dir``, the tests' internal token
    and ``settings``; ``peers`` stand in for the services it reads synchronously, ``clock``
    (a :class:`tests.support.clock.FakeClock`) for the system clock."""
    values = make_settings(data_dir=data_dir, internal_token=TOKEN, **settings)
    sqlite_templates.seed(values, [spec])
    pg_templates.seed(values, [spec])
    runtime = ServiceRuntime(spec, values, clock=clock)
    runtime.peers.update(peers or {})
    try:
        yield runtime
    finally:
        runtime.close()


def database_settings(request) -> dict:
    """The settings that put a service on the database a test parameter names: ``"sqlite"``
    (none: the test's own directory) or ``"postgresql"`` (the session's server, a schema of
    the test's own)."""
    if request.param != "postgresql":
        return {}
    return {
        "database_url": request.getfixturevalue("postgres_url"),
        "db_schema_prefix": request.getfixturevalue("postgres_schemas"),
    }


def count_rows(runtime: ServiceRuntime, table) -> int:
    """How many rows ``table`` of the service's database holds."""
    with runtime.db.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
