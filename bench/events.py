"""A realistic stream of events, made up but deterministic, as the KPI service sees them.

Stories, not loose events: a visit is scheduled, then completed (rated, on time or late),
some raise an issue that is later resolved, some are audited; customers register and buy;
complaints are raised and closed. Spread over ``tenants``, ``days``, regions, departments
and ``assignees``, so the aggregates have the shape a real tenant's have.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from revisit_common import events as ev
from revisit_common.messaging.envelope import Envelope, wrap

REGIONS = ("east", "west", "north", "south")
DEPARTMENTS = ("product", "service", "logistics")
LEVELS = ("very_satisfied", "satisfied", "neutral", "dissatisfied", "very_dissatisfied")
START = date(2026, 1, 1)
# What the issue of a complaint's resolution takes from the complaint.
COMPLAINT_ISSUE_FIELDS = ("complaint_id", "customer_id", "department", "category", "region")


def tenant_ids(count: int) -> list[str]:
    return [str(uuid.UUID(int=0xBE7C << 64 | n)) for n in range(count)]


class Stream:
    """``events(count)``: (tenant id, event) pairs, in the order a producer would emit them."""

    def __init__(
        self,
        *,
        tenants: int = 1,
        days: int = 365,
        assignees: int = 20,
        seed: int = 7,
        start: date = START,
    ):
        self.tenants = tenant_ids(tenants)
        self.days = days
        self.assignees = [f"agent-{n:03d}" for n in range(assignees)]
        self.start = start
        self.rng = random.Random(seed)
        self.customers: dict[str, list[tuple[str, str]]] = {t: [] for t in self.tenants}

    def _id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _at(self, day: date, hour: int | None = None) -> str:
        hour = self.rng.randint(1, 22) if hour is None else hour
        moment = datetime(day.year, day.month, day.day, hour, self.rng.randint(0, 59), tzinfo=UTC)
        return moment.isoformat()

    def _customer(self, tenant: str, day: date) -> tuple[list[ev.Event], str, str]:
        known = self.customers[tenant]
        if known and self.rng.random() > 0.1:
            customer, region = self.rng.choice(known)
            return [], customer, region
        customer, region = self._id(), self.rng.choice(REGIONS)
        known.append((customer, region))
        registered = ev.CustomerRegistered(
            customer_id=customer,
            name="Customer",
            type=self.rng.choice(("dealer", "agent", "end_user")),
            region=region,
            owner=self.rng.choice(self.assignees),
            grade=self.rng.choice("ABC"),
            size_tier="medium",
            cooperation_tier="medium",
            risk_level="low",
            registered_at=self._at(day),
        )
        return [registered], customer, region

    def story(self) -> tuple[str, list[ev.Event]]:
        """One tenant's next few related events."""
        rng = self.rng
        tenant = rng.choice(self.tenants)
        day = self.start + timedelta(days=rng.randrange(self.days))
        out, customer, region = self._customer(tenant, day)
        assignee = rng.choice(self.assignees)
        if rng.random() < 0.3:
            out.append(
                ev.PurchaseRecorded(
                    purchase_id=self._id(),
                    customer_id=customer,
                    region=region,
                    owner=assignee,
                    grade="B",
                    amount=f"{rng.randint(100, 90000)}.00",
                    product="P-1",
                    purchased_at=self._at(day),
                    first_purchase=False,
                )
            )
        visit = self._id()
        due = day + timedelta(days=rng.randint(1, 10))
        reason = rng.choice(("new_customer", "periodic", "repair", "key_account"))
        method = rng.choice(("phone", "email", "on_site"))
        common = dict(visit_id=visit, customer_id=customer, reason=reason, assignee=assignee)
        out.append(
            ev.VisitScheduled(
                **common,
                method=method,
                region=region,
                due_date=due.isoformat(),
                trigger="bench",
                scheduled_at=self._at(day),
            )
        )
        if rng.random() < 0.85:
            done = due + timedelta(days=rng.randint(-3, 2))
            issues = []
            if rng.random() < 0.2:
                department = rng.choice(DEPARTMENTS)
                issue = self._id()
                issues.append(issue)
                raised = dict(
                    issue_id=issue,
                    source="visit",
                    visit_id=visit,
                    complaint_id=None,
                    customer_id=customer,
                    department=department,
                    category="product_quality",
                    region=region,
                    assignee=assignee,
                    raised_at=self._at(done),
                )
            out.append(
                ev.VisitCompleted(
                    **common,
                    method=method,
                    region=region,
                    due_date=due.isoformat(),
                    completed_at=self._at(done),
                    on_time=done <= due,
                    satisfaction=rng.choice(LEVELS),
                    recommend_score=rng.randint(0, 10),
                    repurchase_intent=rng.random() < 0.6,
                    issue_ids=issues,
                )
            )
            if issues:
                out.append(ev.IssueRaised(**raised, assisting_departments=[]))
                if rng.random() < 0.7:
                    resolved = done + timedelta(days=rng.randint(0, 5))
                    out.append(
                        ev.IssueResolved(
                            **raised,
                            resolved_at=self._at(resolved),
                            within_deadline=rng.random() < 0.8,
                        )
                    )
            if rng.random() < 0.15:
                out.append(
                    ev.VisitAudited(
                        visit_id=visit,
                        audit_id=self._id(),
                        accurate=rng.random() < 0.9,
                        auditor="auditor-1",
                        assignee=assignee,
                        region=region,
                        due_date=due.isoformat(),
                        audited_at=self._at(done + timedelta(days=1)),
                    )
                )
        if rng.random() < 0.05:
            out.extend(self._complaint(customer, region, day))
        return tenant, out

    def _complaint(self, customer: str, region: str, day: date) -> list[ev.Event]:
        rng = self.rng
        complaint = self._id()
        department = rng.choice(DEPARTMENTS)
        severity = rng.choice(("general", "major"))
        number = f"CMP-{day:%Y%m}-{rng.randint(1, 99999):05d}"
        base = dict(complaint_id=complaint, number=number, customer_id=customer)
        raised = ev.ComplaintRaised(
            **base,
            channel=rng.choice(("phone", "email", "online", "in_person")),
            severity=severity,
            category="quality",
            department=department,
            region=region,
            received_at=self._at(day),
            deadlines={"resolve_by": self._at(day + timedelta(days=3))},
        )
        if rng.random() < 0.2:
            return [raised]  # still open
        resolved_on = day + timedelta(days=rng.randint(0, 5))
        resolved = ev.IssueResolved(  # what the complaint service says on "resolve"
            **{name: getattr(raised, name) for name in COMPLAINT_ISSUE_FIELDS},
            issue_id=complaint,
            source="complaint",
            visit_id=None,
            assignee=None,
            raised_at=raised.received_at,
            resolved_at=self._at(resolved_on),
            within_deadline=rng.random() < 0.85,
        )
        closed = ev.ComplaintClosed(
            **base,
            severity=severity,
            department=department,
            region=region,
            closed_at=self._at(resolved_on + timedelta(days=1)),
            satisfied=rng.random() < 0.8,
            visit_id=None,
        )
        return [raised, resolved, closed]

    def events(self, count: int) -> Iterator[tuple[str, ev.Event]]:
        made = 0
        while made < count:
            tenant, story = self.story()
            for event in story[: count - made]:
                yield tenant, event
            made += min(len(story), count - made)

    def envelopes(self, count: int, region: str = "bench") -> Iterator[Envelope]:
        """The same events in their CloudEvents envelopes, as the outbox would write them."""
        for tenant, event in self.events(count):
            yield wrap(event, tenant_id=tenant, region=region, correlation_id=None, service=None)
