"""The relay of this process is woken when a transaction that added outbox rows commits,
not before, and not when it rolls back."""

from __future__ import annotations

import pytest

from revisit_common.events import TenantSettingsChanged
from revisit_common.messaging.outbox import Outbox, outbox_table, pending_count
from tests.support.outbox import outbox_database

EVENT = TenantSettingsChanged(
    tenant_id="t1", timezone="Asia/Shanghai", settings={}, settings_version=2
)


@pytest.fixture
def db(tmp_path):
    with outbox_database(tmp_path) as database:
        yield database


def test_a_commit_wakes_the_relay_once_the_rows_are_there(db):
    outbox = Outbox("cn", "gateway")
    with db.transaction() as session:
        outbox.add(session, EVENT, tenant_id="t1")
        outbox.add(session, EVENT, tenant_id="t1")
        assert not outbox.wake_event.is_set()
    assert outbox.wake_event.is_set()
    assert pending_count(db) == 2


def test_a_rollback_wakes_nothing(db):
    outbox = Outbox("cn", "gateway")
    with pytest.raises(RuntimeError), db.transaction() as session:
        outbox.add(session, EVENT, tenant_id="t1")
        raise RuntimeError("use case failed")
    assert not outbox.wake_event.is_set()
    with db.transaction() as session:  # a later transaction of nothing to send
        session.execute(outbox_table.select())
    assert not outbox.wake_event.is_set()
    assert pending_count(db) == 0
