"""A source of truth (what the visit, customer and complaint services hold), its events, and
the KPIs recomputed from it directly, independently of the KPI service's code."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta

from revisit_common.events import CATALOGUE
from revisit_common.messaging.envelope import Envelope, wrap

LEVELS = ("very_satisfied", "satisfied", "neutral", "dissatisfied", "very_dissatisfied")
REASONS = ("new_customer", "repair", "periodic", "key_account", "post_complaint", "care")
REGIONS = ("east", "west", "north")
DEPARTMENTS = ("sales", "product", "technical", "logistics")
STAFF = ("li.wei", "wang.fang", "zhang.min", "chen.jie", None)


def iso(moment: datetime) -> str:
    return moment.isoformat()


def at(text: str) -> datetime:
    """An ISO 8601 moment, in UTC."""
    return datetime.fromisoformat(text).astimezone(UTC)


def event(type_name: str, data: dict, tenant: str, region: str = "test") -> Envelope:
    """The envelope of a catalogue event, as its producer would publish it."""
    return wrap(CATALOGUE[type_name](**data), tenant_id=tenant, region=region)


def republished(envelope: Envelope) -> Envelope:
    """The same event published again under a new id (a producer retry)."""
    return replace(envelope, id=str(uuid.uuid4()))


# --------------------------------------------------------------------------- the truth


@dataclass
class Visit:
    id: str
    reason: str
    assignee: str | None
    region: str
    due: date
    status: str = "planned"  # planned | completed | cancelled
    overdue: bool = False
    on_time: bool = True
    satisfaction: str | None = None
    score: int | None = None

    def events(self, tenant: str) -> list[Envelope]:
        base = {
            "visit_id": self.id,
            "customer_id": "c-" + self.id,
            "reason": self.reason,
            "assignee": self.assignee,
            "region": self.region,
            "due_date": self.due.isoformat(),
        }
        noon = datetime.combine(self.due, time(4, 0), UTC)
        out = [
            event(
                "VisitScheduled",
                {
                    **base,
                    "method": "phone",
                    "trigger": "manual",
                    "scheduled_at": iso(noon - timedelta(days=10)),
                },
                tenant,
            )
        ]
        if self.overdue:
            out.append(
                event("VisitOverdue", {**base, "detected_at": iso(noon + timedelta(1))}, tenant)
            )
        if self.status == "completed":
            done = noon + timedelta(days=0 if self.on_time else 3)
            completion = {
                "method": "phone",
                "completed_at": iso(done),
                "on_time": self.on_time,
                "satisfaction": self.satisfaction,
                "recommend_score": self.score,
                "repurchase_intent": None,
                "issue_ids": [],
            }
            out.append(event("VisitCompleted", {**base, **completion}, tenant))
        if self.status == "cancelled":
            cancel = {"cancelled_at": iso(noon - timedelta(days=1)), "why": None}
            out.append(event("VisitCancelled", {**base, **cancel}, tenant))
        return out


@dataclass
class Issue:
    id: str
    department: str
    region: str
    assignee: str | None
    raised_at: datetime
    resolved_at: datetime | None = None

    def events(self, tenant: str) -> list[Envelope]:
        base = {
            "issue_id": self.id,
            "source": "visit",
            "visit_id": "v",
            "complaint_id": None,
            "customer_id": "c",
            "department": self.department,
            "category": "technical",
            "region": self.region,
            "assignee": self.assignee,
            "raised_at": iso(self.raised_at),
        }
        raised = event("IssueRaised", {**base, "assisting_departments": []}, tenant)
        if not self.resolved_at:
            return [raised]
        resolved = {"resolved_at": iso(self.resolved_at), "within_deadline": True}
        return [raised, event("IssueResolved", {**base, **resolved}, tenant)]


@dataclass
class Audit:
    id: str
    accurate: bool
    assignee: str | None
    region: str
    audited_at: datetime

    def events(self, tenant: str) -> list[Envelope]:
        data = {
            "visit_id": "v-" + self.id,
            "audit_id": self.id,
            "accurate": self.accurate,
            "auditor": "auditor",
            "assignee": self.assignee,
            "region": self.region,
            "due_date": "2025-01-01",
            "audited_at": iso(self.audited_at),
        }
        return [event("VisitAudited", data, tenant)]


@dataclass
class Purchase:
    id: str
    region: str
    purchased_at: datetime

    def events(self, tenant: str) -> list[Envelope]:
        data = {
            "purchase_id": self.id,
            "customer_id": "c",
            "region": self.region,
            "owner": None,
            "grade": "B",
            "amount": "100.00",
            "product": "pump",
            "purchased_at": iso(self.purchased_at),
            "first_purchase": False,
        }
        return [event("PurchaseRecorded", data, tenant)]


@dataclass
class Customer:
    id: str
    region: str
    registered_at: datetime
    first_region: str | None = None  # registered there, moved to ``region`` later

    def events(self, tenant: str) -> list[Envelope]:
        data = {
            "customer_id": self.id,
            "name": "Acme",
            "type": "dealer",
            "region": self.first_region or self.region,
            "owner": None,
            "grade": "B",
            "size_tier": "small",
            "cooperation_tier": "short",
            "risk_level": "low",
            "registered_at": iso(self.registered_at),
        }
        out = [event("CustomerRegistered", data, tenant)]
        if self.first_region:
            graded = {
                "customer_id": self.id,
                "region": self.region,
                "owner": None,
                "grade": "A",
                "previous_grade": "B",
                "score": 90.0,
                "size_tier": "large",
                "cooperation_tier": "short",
                "graded_at": iso(self.registered_at + timedelta(days=30)),
            }
            out.append(event("CustomerGraded", graded, tenant))
        return out


@dataclass
class Complaint:
    id: str
    channel: str
    severity: str
    department: str
    region: str
    received_at: datetime
    escalated: bool = False
    actions: list[tuple[str, datetime, bool]] = field(default_factory=list)  # resolve/reopen/close

    def last(self, *names: str) -> tuple[str, datetime, bool] | None:
        chosen = [a for a in self.actions if a[0] in names]
        return chosen[-1] if chosen else None

    def first(self, *names: str) -> tuple[str, datetime, bool] | None:
        return next((a for a in self.actions if a[0] in names), None)

    @property
    def resolved(self) -> bool:
        last = self.last("resolve", "reopen")
        return last is not None and last[0] == "resolve"

    @property
    def on_time(self) -> bool:
        return self.resolved and self.last("resolve")[2]

    @property
    def open(self) -> bool:
        last = self.last("close", "reopen")
        return last is None or last[0] != "close"

    @property
    def final_severity(self) -> str:
        return "major" if self.escalated else self.severity

    def events(self, tenant: str) -> list[Envelope]:
        raised = {
            "complaint_id": self.id,
            "number": "CMP-202601-00001",
            "customer_id": "c",
            "channel": self.channel,
            "severity": self.severity,
            "category": "quality",
            "department": self.department,
            "region": self.region,
            "received_at": iso(self.received_at),
            "deadlines": {},
        }
        out = [event("ComplaintRaised", raised, tenant)]
        common = {
            "complaint_id": self.id,
            "number": raised["number"],
            "customer_id": "c",
            "severity": self.final_severity,
            "department": self.department,
            "region": self.region,
        }
        if self.escalated:
            escalated = {
                "limit": "first_response",
                "deadline": iso(self.received_at + timedelta(hours=4)),
                "escalated_at": iso(self.received_at + timedelta(hours=5)),
            }
            out.append(event("ComplaintEscalated", {**common, **escalated}, tenant))
        for action, at, within in self.actions:
            if action == "resolve":
                data = {
                    "issue_id": "i-" + self.id,
                    "source": "complaint",
                    "visit_id": None,
                    "complaint_id": self.id,
                    "customer_id": "c",
                    "department": self.department,
                    "category": "quality",
                    "region": self.region,
                    "assignee": None,
                    "raised_at": iso(self.received_at),
                    "resolved_at": iso(at),
                    "within_deadline": within,
                }
                out.append(event("IssueResolved", data, tenant))
            else:
                data = {**common, "visit_id": None}
                if action == "close":
                    data.update(closed_at=iso(at), satisfied=True)
                    out.append(event("ComplaintClosed", data, tenant))
                else:
                    data.update(reopened_at=iso(at), why=None)
                    out.append(event("ComplaintReopened", data, tenant))
        return out


@dataclass
class Truth:
    timezone: str = "Asia/Shanghai"
    visits: list[Visit] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    audits: list[Audit] = field(default_factory=list)
    purchases: list[Purchase] = field(default_factory=list)
    customers: list[Customer] = field(default_factory=list)
    complaints: list[Complaint] = field(default_factory=list)

    def entities(self):
        return [
            *self.visits,
            *self.issues,
            *self.audits,
            *self.purchases,
            *self.customers,
            *self.complaints,
        ]

    def events(self, tenant: str) -> list[Envelope]:
        settings = {
            "tenant_id": tenant,
            "name": "T",
            "timezone": self.timezone,
            "region": None,
            "settings": {},
            "settings_version": 1,
        }
        out = [event("TenantRegistered", settings, tenant)]
        for entity in self.entities():
            out.extend(entity.events(tenant))
        return out
