from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from revisit_common.config import Settings
from revisit_common.envelope import Envelope
from revisit_common.outbox import outbox_table
from revisit_common.runtime import ServiceRuntime
from tests.support.customers import FakeCustomerService
from visit_service.bootstrap import SPEC

TOKEN = "internal-test-token"
TENANT = "tenant-a"


class Client:
    """The visit service's HTTP API as the gateway calls it, for one tenant and role."""

    def __init__(self, app, tenant: str = TENANT, role: str = "admin", **identity):
        self.http = app.test_client()
        self.tenant = tenant
        self.role = role
        self.actor = identity.get("actor") or f"{role}-key"
        self.department = identity.get("department")

    def headers(self, **extra):
        headers = {
            "X-Revisit-Internal-Token": TOKEN,
            "X-Revisit-Tenant": self.tenant,
            "X-Revisit-Role": self.role,
            "X-Revisit-Actor": self.actor,
            **extra,
        }
        if self.department:
            headers["X-Revisit-Department"] = self.department
        return headers

    def get(self, path, **kw):
        return self.http.get(path, headers=self.headers(), **kw)

    def post(self, path, json=None, **kw):
        return self.http.post(path, json=json, headers=self.headers(), **kw)


def envelope(type_name: str, data: dict, *, tenant: str = TENANT, time: str | None = None):
    """An event as another service would publish it."""
    return Envelope(
        id=str(uuid.uuid4()),
        source="revisit/test",
        type=type_name,
        time=time or datetime.now(UTC).isoformat(),
        subject=str(next(iter(data.values()), "")),
        tenantid=tenant,
        region="test",
        dataversion=1,
        correlationid="corr-1",
        data=data,
    )


def events_of(runtime, type_name=None, routing_key=None):
    with runtime.db.engine.connect() as conn:
        rows = conn.execute(sa.select(outbox_table).order_by(outbox_table.c.id)).all()
    docs = [{**json.loads(r.body), "routing_key": r.routing_key} for r in rows]
    return [
        d
        for d in docs
        if (type_name is None or d["type"] == type_name)
        and (routing_key is None or d["routing_key"] == routing_key)
    ]


@pytest.fixture
def customers():
    """The customer service as the visit service reads it (knows no one unless told)."""
    return FakeCustomerService()


@pytest.fixture
def runtime(tmp_path, customers):
    rt = ServiceRuntime(SPEC, Settings(data_dir=tmp_path, internal_token=TOKEN))
    rt.peers["customer"] = customers
    yield rt
    rt.close()


@pytest.fixture
def app(runtime):
    return runtime.create_app()


@pytest.fixture
def client(app):
    return Client(app)


@pytest.fixture
def feed(runtime):
    """Apply an event to the visit service as its consumer would; returns the outcome."""

    def apply(type_name: str, data: dict, **kw) -> str:
        return runtime.consumer.apply(envelope(type_name, data, **kw))

    return apply


@pytest.fixture
def customer(feed):
    """A registered customer of tenant-a (region east, owner li.wei, grade B)."""
    return register(feed)


def register(feed, customer_id=None, *, region="east", owner="li.wei", grade="B", tenant=TENANT):
    customer_id = customer_id or str(uuid.uuid4())
    outcome = feed(
        "CustomerRegistered",
        {
            "customer_id": customer_id,
            "name": "Acme",
            "type": "dealer",
            "region": region,
            "owner": owner,
            "grade": grade,
            "size_tier": "large",
            "cooperation_tier": "long",
            "risk_level": "low",
            "registered_at": datetime.now(UTC).isoformat(),
        },
        tenant=tenant,
    )
    assert outcome == "applied"
    return customer_id
