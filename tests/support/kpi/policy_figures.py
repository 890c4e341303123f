"""The policies' figures of ``GET /kpis`` counted by the database (store.visit_customers,
complaints_by_limit, purchase_sums over kpi_facts' derived columns) against the rule over
the facts themselves (policy_kpis.policy_counts, the definition): random visits, complaints
and purchases (amounts plain and not) fed through the projection, then many periods."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from kpi_service import domain, policy_kpis, projection, store
from kpi_service.models import facts
from kpi_service.rebuild import rebuild
from revisit_common import tenant_settings
from revisit_common.db import Database
from revisit_common.messaging.envelope import Envelope
from tests.support.kpi.scenario import event

TENANT = "tenant-policy"
START = date(2025, 11, 1)
DAYS = 150
REASONS = ("repair", "new_customer", "periodic", "post_complaint")
# Amounts as producers might send them: plain decimals (the customer service's "1200.00"),
# fewer decimals, JSON numbers, and ones the database leaves to policy_kpis.amount.
AMOUNTS = (
    "1200.00", "0.50", "7", "3.5", "12.", "999999999999999.99", "0", 12.5, 8, "0.125",
    "1e2", " 4.25", "-3.00", "abc", "", None, "1234567890123456", ".5", "Infinity", "1_000",
    0.30000000000000004, 100.0, 1e16, 12345678901234567890, True, {"v": 1},
    "9999999999999999", "1.2.3", "007", "123.456",
)  # fmt: skip


def _moment(day: date, hour: int) -> str:
    return datetime.combine(day, time(hour % 24), UTC).isoformat()


def _with(envelope: Envelope, **data) -> Envelope:
    return replace(envelope, data={**envelope.data, **data})


def purchase(purchase_id: str, amount, purchased_at: str, quantity: int | None = 3) -> Envelope:
    """PurchaseRecorded of the tenant's customer c1 (no quantity: None), with ``amount`` as
    given (any JSON value, as a hostile producer might send it)."""
    data = {
        "purchase_id": purchase_id,
        "customer_id": "c1",
        "region": "east",
        "owner": None,
        "grade": "B",
        "amount": "1.00",
        "product": "pump",
        "purchased_at": purchased_at,
        "first_purchase": False,
        **({"quantity": quantity} if quantity is not None else {}),
    }
    return _with(event("PurchaseRecorded", data, TENANT), amount=amount)


def stream(rng: random.Random, timezone: str = "Asia/Shanghai") -> list[Envelope]:
    """A tenant's settings, then visits, complaints and purchases over :data:`DAYS` days."""
    settings = {
        "tenant_id": TENANT,
        "name": "T",
        "timezone": timezone,
        "region": None,
        "settings": {},
        "settings_version": 1,
    }
    out = [event("TenantRegistered", settings, TENANT)]
    customers = [f"c{n}" for n in range(25)] + [""]
    for n in range(160):
        due = START + timedelta(days=rng.randrange(DAYS))
        base = {
            "visit_id": f"v{n}",
            "customer_id": rng.choice(customers),
            "reason": rng.choice(REASONS),
            "assignee": "a1",
            "region": "east",
            "due_date": due.isoformat(),
        }
        out.append(
            event(
                "VisitScheduled",
                {**base, "method": "phone", "trigger": "manual", "scheduled_at": _moment(due, 1)},
                TENANT,
            )
        )
        fate = rng.random()
        if fate < 0.5 or fate > 0.9:
            done = {
                "method": "phone",
                "completed_at": _moment(due, rng.randrange(24)),
                "on_time": True,
                "satisfaction": "satisfied",
                "recommend_score": None,
                "repurchase_intent": None,
                "issue_ids": [],
            }
            out.append(event("VisitCompleted", {**base, **done}, TENANT))
        if fate > 0.75:  # cancelled (after completion: still counts)
            cancel = {"cancelled_at": _moment(due, 2), "why": None}
            out.append(event("VisitCancelled", {**base, **cancel}, TENANT))
    for n in range(60):
        received = START + timedelta(days=rng.randrange(DAYS))
        limit = received + timedelta(days=rng.randrange(1, 20))
        raised = {
            "complaint_id": f"k{n}",
            "number": f"CMP-{n}",
            "customer_id": "c1",
            "channel": "phone",
            "severity": "general",
            "category": "quality",
            "department": "product",
            "region": "east",
            "received_at": _moment(received, rng.randrange(24)),
            "deadlines": {"resolve_by": _moment(limit, rng.randrange(24))}
            if rng.random() < 0.8
            else {},
        }
        out.append(event("ComplaintRaised", raised, TENANT))
        if rng.random() < 0.6:
            resolved = received + timedelta(days=rng.randrange(0, 25))
            data = {
                "issue_id": f"k{n}",
                "source": "complaint",
                "visit_id": None,
                "complaint_id": f"k{n}",
                "customer_id": "c1",
                "department": "product",
                "category": "quality",
                "region": "east",
                "assignee": None,
                "raised_at": raised["received_at"],
                "resolved_at": _moment(resolved, 3),
                "within_deadline": resolved <= limit,
            }
            out.append(event("IssueResolved", data, TENANT))
    for n in range(120):
        day = START + timedelta(days=rng.randrange(DAYS))
        at = _moment(day, rng.randrange(24))
        quantity = rng.randrange(0, 9) if rng.random() < 0.7 else None
        amount = (
            rng.choice(AMOUNTS)
            if rng.random() < 0.6
            else f"{rng.randrange(10**6)}.{rng.randrange(100):02d}"
        )
        out.append(purchase(f"p{n}", amount, at, quantity))
    return out


def feed(db: Database, envelopes: list[Envelope], batch: int = 50) -> None:
    for start in range(0, len(envelopes), batch):
        with db.transaction() as session:
            projection.project(session, envelopes[start : start + batch])


def from_store(session, start: date, end: date) -> dict:
    """What ``GET /kpis`` counts now (service._policy_counts' reads)."""
    previous = domain.previous_period(start, end)
    since = previous[0] if previous else start
    return policy_kpis.counts_from(
        store.visit_customers(session, TENANT, start, end, tuple(policy_kpis.ROLLOUT_REASONS)),
        store.complaints_by_limit(session, TENANT, start, end),
        store.purchase_sums(session, TENANT, start, end, since),
    )


def from_facts(session, start: date, end: date) -> dict:
    """The definition: every fact of the tenant through policy_kpis.policy_counts."""
    timezone = tenant_settings.load(session, TENANT).timezone
    rows = session.execute(
        sa.select(facts.c.kind, facts.c.state).where(
            facts.c.tenant_id == TENANT, facts.c.kind.in_(policy_kpis.KINDS)
        )
    ).all()
    previous = domain.previous_period(start, end)
    return policy_kpis.policy_counts(rows, timezone, (start, end), previous)


def periods(rng: random.Random, count: int) -> list[tuple[date, date]]:
    out = [(date(2026, 1, 1), date(2026, 1, 31)), (START, START + timedelta(DAYS))]
    for _ in range(count):
        first = START + timedelta(days=rng.randrange(-10, DAYS))
        out.append((first, first + timedelta(days=rng.randrange(0, 90))))
    return out


def check(db: Database, rng: random.Random, count: int = 40) -> None:
    """Every period's figures counted by the database equal the rule's, exactly (amounts
    too, with their decimals: ``GET /kpis`` writes them as they are)."""
    with db.read() as session:
        for start, end in periods(rng, count):
            want, got = from_facts(session, start, end), from_store(session, start, end)
            assert got == want, (start, end)
            for name in policy_kpis.AMOUNTS:
                assert str(got[name]) == str(want[name]), (start, end, name)


def check_time_zone_change_and_rebuild(db: Database) -> None:
    """Fed in UTC, the tenant moves to New York: the counts still follow the rules, and again
    after a rebuild of the store."""
    feed(db, stream(random.Random(4), timezone="UTC"))
    changed = {
        "tenant_id": TENANT,
        "timezone": "America/New_York",
        "settings": {},
        "settings_version": 2,
    }
    feed(db, [event("TenantSettingsChanged", changed, TENANT)])
    check(db, random.Random(4))
    rebuild(db)
    check(db, random.Random(5))
