"""The consumer's batch of events of one tenant looks its webhooks up once (one
transaction), and a webhook registered or deleted in that transaction counts at once."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from notify_service import webhooks
from notify_service.models import Delivery
from tests.support.events import envelope
from tests.support.webhooks import DATABASES, SECRET, module_runtime, register, tenant_admin

URL = "https://dept.example/hook"
RAISED = {"complaint_id": "c-1", "department": "product", "severity": "major"}


@pytest.fixture(scope="module", params=DATABASES)
def shared_runtime(request, tmp_path_factory):
    yield from module_runtime(request, tmp_path_factory)


def test_one_lookup_per_tenant_and_transaction_changes_seen_at_once(shared_runtime, monkeypatch):
    admin = tenant_admin(shared_runtime)
    register(admin, URL)
    tenant = admin.tenant
    events = [envelope("ComplaintRaised", RAISED, tenant=tenant) for _ in range(3)]
    reads = []  # the lookups that reach the database (one statement each, db.run)
    read_active = webhooks.read_active
    monkeypatch.setattr(
        webhooks,
        "read_active",
        lambda session, tenant_id: reads.append(tenant_id) or read_active(session, tenant_id),
    )
    with shared_runtime.db.transaction() as session:
        assert [webhooks.enqueue(session, event) for event in events] == [1, 1, 1]
        assert len(reads) == 1
        data = {"url": URL + "/2", "events": ["ComplaintRaised"], "secret": SECRET}
        second, _ = webhooks.create_webhook(session, tenant, "admin", data, limit=20)
        assert webhooks.enqueue(session, envelope("ComplaintRaised", RAISED, tenant=tenant)) == 2
        webhooks.delete_webhook(session, tenant, second.id)
        assert webhooks.enqueue(session, envelope("ComplaintRaised", RAISED, tenant=tenant)) == 1
    with shared_runtime.db.transaction() as session:  # a new transaction looks again
        assert webhooks.enqueue(session, envelope("ComplaintRaised", RAISED, tenant=tenant)) == 1
        count = session.scalar(
            sa.select(sa.func.count()).select_from(Delivery).where(Delivery.tenant_id == tenant)
        )
    assert count == 3 + 2 + 1 + 1  # (the second webhook's delivery cancelled, not removed)
    assert reads == [tenant] * 4  # once, again after each change, once in the next
