"""The visit service as its tests drive it: customers and settings it learns of from events
(through a ``feed`` that applies one event as its consumer would), visits planned through
its API, and a due date in the past."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from revisit_common.calendar import WorkCalendar
from visit_service.domain import VisitPolicy

from .client import TENANT

# The visit policy's defaults, the default working calendar (Asia/Shanghai, Saturday and
# Sunday off) and a Friday to count working days from (the same instant at 10:00 there).
DEFAULT = VisitPolicy()
CAL = WorkCalendar()
FRIDAY = date(2026, 11, 20)
FRIDAY_10AM = "2026-11-20T02:00:00+00:00"

TODAY = WorkCalendar().local_date(datetime.now(UTC))  # the tenant's (Asia/Shanghai) today
PAST = (TODAY - timedelta(days=3)).isoformat()


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


def configure(feed, version=1, tenant="tenant-a", **sections):
    outcome = feed(
        "TenantSettingsChanged",
        {
            "tenant_id": tenant,
            "timezone": "Asia/Shanghai",
            "settings": sections,
            "settings_version": version,
        },
        tenant=tenant,
    )
    assert outcome == "applied"


def plan(client, customer_id, **fields):
    body = {"customer_id": customer_id, "reason": "post_project", "method": "phone", **fields}
    response = client.post("/api/v1/visits", body)
    assert response.status_code == 201, response.json
    return response.json


# Two issues a visit record raises: one with assisting departments and a due date, one bare.
ISSUES = [
    {
        "category": "product_quality",
        "description": "seal leaks",
        "department": "product",
        "assisting_departments": ["technical"],
        "due_date": "2099-12-31",
    },
    {"category": "price", "description": "too expensive", "department": "sales"},
]
