"""A service's copy of the tenant settings keeps the newest version, whoever writes first."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from revisit_common import tenant_settings


@pytest.fixture
def session(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'copy.sqlite3'}")
    tenant_settings.settings_table.metadata.create_all(engine)
    with Session(engine) as session:
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


def _statements(session) -> list[str]:
    seen: list[str] = []
    sa.event.listen(session.get_bind(), "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


def test_the_version_the_gateway_vouches_for_is_served_from_the_copy_read_last(session):
    from flask import Flask, g

    from revisit_common.identity import Identity

    tenant_settings.store(session, "t1", 4, "Asia/Shanghai", {"complaints": {"days": 4}})
    seen = _statements(session)
    with Flask("t").test_request_context():
        g.identity = Identity(tenant_id="t1", role="admin", actor="k", settings_version=4)
        assert tenant_settings.load(session, "t1").section("complaints") == {"days": 4}
        assert len(seen) == 1
        assert tenant_settings.load(session, "t1").version == 4
        assert len(seen) == 1  # the copy read last: no query
        g.identity = Identity(tenant_id="t1", role="admin", actor="k", settings_version=5)
        session.commit()  # (in one transaction the copy is read once: see below)
        assert tenant_settings.load(session, "t1").version == 4  # newer at the gateway: read
        assert len(seen) == 2
        g.identity = Identity(tenant_id="t1", role="admin", actor="k")  # no version sent
        session.commit()
        tenant_settings.load(session, "t1")
        assert len(seen) == 3
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
    seen = _statements(session)
    first = tenant_settings.load(session, "t1")
    assert tenant_settings.load(session, "t1") is first
    assert tenant_settings.load(session, "t2").version == 0  # no copy: the defaults, once
    assert tenant_settings.load(session, "t2").version == 0
    assert len(seen) == 2
    tenant_settings.store(session, "t1", 5, "Asia/Shanghai", {"complaints": {"days": 5}})
    newer = tenant_settings.load(session, "t1")
    assert newer.section("complaints") == {"days": 5}
    assert len(seen) == 4  # the upsert, and the copy read again
    session.commit()
    assert tenant_settings.load(session, "t1") is newer  # the same version: the copy held
    assert len(seen) == 5  # a new transaction reads the version again
    assert "tenant_settings.document" not in seen[-1]
