"""A service's copy of the tenant settings keeps the newest version, whoever writes first."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from revisit_common import tenant_settings
from tests.support.tables import tables_database
from tests.support.webhooks import DATABASES


@pytest.fixture
def session(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'copy.sqlite3'}")
    statements: list[str] = []
    # every statement that reaches SQLite, SQLAlchemy's or run on its driver (db.run)
    sa.event.listen(engine, "connect", lambda conn, _: conn.set_trace_callback(statements.append))
    tenant_settings.settings_table.metadata.create_all(engine)
    with Session(engine, info={"statements": statements}) as session:
        yield session
    engine.dispose()


def test_newer_versions_replace_older_ones_never_the_reverse(session):
    store = tenant_settings.store
    assert store(session, "t1", 2, "Asia/Shanghai", {"complaints": {"days": 2}}) is True
    assert store(session, "t1", 1, "Europe/Berlin", {"complaints": {"days": 1}}) is False
    assert store(session, "t1", 2, "Europe/Berlin", {"complaints": {"days": 9}}) is False
    held = tenant_settings.load(session, "t1")
    assert (held.version, held.timezone, held.section("complaints")) == (
        2,
        "Asia/Shanghai",
        {"days": 2},
    )
    assert store(session, "t1", 3, "Europe/Berlin", {"complaints": {"days": 3}}) is True
    held = tenant_settings.load(session, "t1")
    assert (held.version, held.timezone, held.section("complaints")) == (
        3,
        "Europe/Berlin",
        {"days": 3},
    )
    assert tenant_settings.load(session, "t2").version == 0  # others untouched


def _statements(session) -> Callable[[], list[str]]:
    """The queries and writes sent to SQLite from now on (no BEGIN, COMMIT or PRAGMA)."""
    statements = session.info["statements"]
    start = len(statements)

    def sent() -> list[str]:
        return [sql for sql in statements[start:] if sql.lstrip().startswith(("SELECT", "INSERT"))]

    return sent


def test_the_version_the_gateway_vouches_for_is_served_from_the_copy_read_last(session):
    from flask import Flask, g

    from revisit_common.identity import Identity

    tenant_settings.store(session, "t1", 4, "Asia/Shanghai", {"complaints": {"days": 4}})
    sent = _statements(session)
    with Flask("t").test_request_context():
        g.identity = Identity(tenant_id="t1", role="admin", actor="k", settings_version=4)
        assert tenant_settings.load(session, "t1").section("complaints") == {"days": 4}
        assert len(sent()) == 1
        assert tenant_settings.load(session, "t1").version == 4
        assert len(sent()) == 1  # the copy read last: no query
        g.identity = Identity(tenant_id="t1", role="admin", actor="k", settings_version=5)
        session.commit()  # (in one transaction the copy is read once: see below)
        assert tenant_settings.load(session, "t1").version == 4  # newer at the gateway: read
        assert len(sent()) == 2
        g.identity = Identity(tenant_id="t1", role="admin", actor="k")  # no version sent
        session.commit()
        tenant_settings.load(session, "t1")
        assert len(sent()) == 3
    tenant_settings.store(session, "t1", 5, "Asia/Shanghai", {"complaints": {"days": 5}})
    with Flask("t").test_request_context():
        g.identity = Identity(tenant_id="t1", role="admin", actor="k", settings_version=5)
        assert tenant_settings.load(session, "t1").section("complaints") == {"days": 5}


def test_without_a_vouched_version_the_copy_is_read_once_per_transaction(session):
    """The consumer's batch of events of one tenant reads the copy once; a newer copy stored
    in that transaction is read again; the next transaction reads its version, and the
    copy held serves again while the version is the same."""
    tenant_settings.store(session, "t1", 4, "Asia/Shanghai", {"complaints": {"days": 4}})
    session.commit()
    sent = _statements(session)
    first = tenant_settings.load(session, "t1")
    assert tenant_settings.load(session, "t1") is first
    assert tenant_settings.load(session, "t2").version == 0  # no copy: the defaults, once
    assert tenant_settings.load(session, "t2").version == 0
    assert len(sent()) == 2
    tenant_settings.store(session, "t1", 5, "Asia/Shanghai", {"complaints": {"days": 5}})
    newer = tenant_settings.load(session, "t1")
    assert newer.section("complaints") == {"days": 5}
    assert len(sent()) == 4  # the upsert, and the copy read again
    session.commit()
    assert tenant_settings.load(session, "t1") is newer  # the same version: the copy held
    assert len(sent()) == 5  # a new transaction reads the version again
    assert "tenant_settings.document" not in sent()[-1]


@pytest.fixture(params=DATABASES)
def database(request, tmp_path):
    with tables_database(
        request, tmp_path, "copies", tenant_settings.settings_table.metadata
    ) as database:
        yield database


def test_the_copy_read_is_the_one_stored_on_every_database(database):
    document = {"complaints": {"days": 2, "names": ["值", None]}, "score": 1.5, "on": True}
    with database.transaction() as session:
        tenant_settings.store(session, "t1", 7, "Asia/Shanghai", document)
    with database.read() as session:
        read = tenant_settings.load(session, "t1")
        assert tenant_settings.load(session, "t9") == tenant_settings.TenantSettings("t9")
    assert read == tenant_settings.TenantSettings("t1", 7, "Asia/Shanghai", document)
    assert type(read.version) is int
    with database.transaction() as session:  # the same version: the copy held serves again
        assert tenant_settings.load(session, "t1") is read
        tenant_settings.store(session, "t1", 8, "Europe/Berlin", {})
    with database.read() as session:
        assert tenant_settings.load(session, "t1") == tenant_settings.TenantSettings(
            "t1", 8, "Europe/Berlin", {}
        )
