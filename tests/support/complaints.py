"""The complaint service as its tests drive it: a complaint to raise, a client that raises
and acts on complaints, the actions that lead to each status, and instants and a calendar
of a tenant in Shanghai."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from revisit_common.calendar import WorkCalendar

from .client import Client
from .customers import FakeCustomerService
from .service import database_settings, service_runtime

COMPLAINT = {
    "customer_id": "cust-1",
    "channel": "phone",
    "severity": "general",
    "category": "product_quality",
    "department": "product",
    "description": "The pump stopped after two days.",
    "complainant": "Zhang San",
}

SHANGHAI = ZoneInfo("Asia/Shanghai")


def sh(mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    """An instant of 2026 in Shanghai."""
    return datetime(2026, mo, d, h, mi, tzinfo=SHANGHAI)


def _span(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


# A tenant calendar of China around the 2026 National Day: a week off, two make-up Saturdays.
NATIONAL_DAY = WorkCalendar(
    holidays=_span(date(2026, 10, 1), date(2026, 10, 7)),
    makeup_workdays=[date(2026, 9, 20), date(2026, 10, 10)],
)

# How to reach each status from received (each step allowed from the one before).
PATHS = {
    "received": [],
    "acknowledged": ["acknowledge"],
    "investigating": ["acknowledge", "investigate"],
    "solution_proposed": ["acknowledge", "investigate", "propose"],
    "implementing": ["acknowledge", "investigate", "propose", "implement"],
    "resolved": ["acknowledge", "investigate", "propose", "implement", "resolve"],
    "closed": ["acknowledge", "investigate", "propose", "implement", "resolve", "close"],
    "reopened": ["acknowledge", "investigate", "propose", "implement", "resolve", "reopen"],
    "waiting_customer": ["acknowledge", "wait_customer"],
}


class ComplaintClient(Client):
    """The complaint service's API as the gateway calls it, with the two calls most tests
    make: raise a complaint, act on one."""

    def create(self, **fields):
        r = self.post("/api/v1/complaints", {**COMPLAINT, **fields})
        assert r.status_code == 201, r.json
        return r.json

    def act(self, complaint_id, action, **fields):
        return self.post(
            f"/api/v1/complaints/{complaint_id}/transitions", {"action": action, **fields}
        )


def drive(client: ComplaintClient, complaint_id: str, actions: list[str]) -> dict:
    body = None
    for action in actions:
        extra = {"resolution": "replaced the pump"} if action == "resolve" else {}
        r = client.act(complaint_id, action, **extra)
        assert r.status_code == 200, (action, r.json)
        body = r.json
    return body


@contextmanager
def complaint_runtime(request, tmp_path, customer_id: str, region: str, **fields):
    """The complaint service's runtime on the database of ``request.param`` (SQLite or
    PostgreSQL, :func:`.service.database_settings`), its customer service a fake that knows
    one customer."""
    from complaint_service.bootstrap import SPEC

    customers = FakeCustomerService()
    customers.add(customer_id, region, **fields)
    values = database_settings(request)
    with service_runtime(SPEC, tmp_path, peers={"customer": customers}, **values) as runtime:
        yield runtime
