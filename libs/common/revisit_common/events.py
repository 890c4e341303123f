"""The event catalogue: every integration event, a past-tense dataclass (CONTRACT.md §2).

A producer builds one of these and hands it to the outbox; the envelope (CloudEvents 1.0)
is added there. A consumer's handler declares the event and the fields it reads
(``messaging.registry.reads``) and gets them decoded into attributes, the rest of the data
ignored, so producers may add fields without breaking anyone. A field added later gets a
default here, so a consumer may read it from events of producers that predate it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True, kw_only=True)
class Event:
    source_service: ClassVar[str]
    routing: ClassVar[str]  # "<aggregate>.<verb>"
    subject_field: ClassVar[str]
    by_department: ClassVar[bool] = False  # routing key gets ".<department>" appended
    version: ClassVar[int] = 1

    @classmethod
    def type_name(cls) -> str:
        return cls.__name__

    def routing_key(self) -> str:
        if self.by_department:
            return f"{self.routing}.{self.department}"
        return self.routing

    def subject(self) -> str:
        return str(getattr(self, self.subject_field))

    def data(self) -> dict[str, Any]:
        """The fields as a new dict, as ``dataclasses.asdict`` gives them (values copied
        deep), without its deep copy of each plain value: one per event written."""
        names = _FIELD_NAMES.get(type(self))
        if names is None:
            names = _FIELD_NAMES[type(self)] = tuple(f.name for f in dataclasses.fields(self))
        out = {}
        for name in names:
            value = getattr(self, name)
            out[name] = value if type(value) in _PLAIN else _copied(value)
        return out


# Values asdict would keep as they are (copy.deepcopy gives the same object back).
_PLAIN = frozenset({str, int, float, bool, type(None)})
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _copied(value: Any) -> Any:
    """A value that is not plain, as ``dataclasses.asdict`` renders it (containers and
    dataclasses converted and copied)."""
    return dataclasses.asdict(_Holder(value))["value"]


@dataclass(frozen=True)
class _Holder:
    value: Any


# --- gateway (tenants) -------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class TenantRegistered(Event):
    source_service = "gateway"
    routing = "tenant.registered"
    subject_field = "tenant_id"
    tenant_id: str
    name: str
    timezone: str
    region: str | None
    settings: dict
    settings_version: int


@dataclass(frozen=True, kw_only=True)
class TenantSettingsChanged(Event):
    source_service = "gateway"
    routing = "tenant.settings_changed"
    subject_field = "tenant_id"
    tenant_id: str
    timezone: str
    settings: dict
    settings_version: int


@dataclass(frozen=True, kw_only=True)
class StaffChanged(Event):
    """A person of the tenant was added or changed (CONTRACT §4.3); ``active`` false when
    they left. The notify service addresses email with it."""

    source_service = "gateway"
    routing = "staff.changed"
    subject_field = "staff_id"
    staff_id: str
    name: str
    email: str | None
    phone: str | None
    region: str | None
    department: str | None
    manager: str | None
    active: bool
    changed_at: str


# --- customer ----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CustomerRegistered(Event):
    source_service = "customer"
    routing = "customer.registered"
    subject_field = "customer_id"
    customer_id: str
    name: str
    type: str
    region: str
    owner: str | None
    grade: str
    size_tier: str
    cooperation_tier: str
    risk_level: str
    registered_at: str


@dataclass(frozen=True, kw_only=True)
class CustomerGraded(Event):
    source_service = "customer"
    routing = "customer.graded"
    subject_field = "customer_id"
    customer_id: str
    region: str
    owner: str | None
    grade: str
    previous_grade: str | None
    score: float
    size_tier: str
    cooperation_tier: str
    graded_at: str


@dataclass(frozen=True, kw_only=True)
class CustomerRiskChanged(Event):
    source_service = "customer"
    routing = "customer.risk_changed"
    subject_field = "customer_id"
    customer_id: str
    region: str
    risk_level: str
    previous_level: str | None
    warning: bool
    reasons: list
    measures: list
    changed_at: str
    owner: str | None = None  # the customer's owner, whom a warning reaches


@dataclass(frozen=True, kw_only=True)
class PurchaseRecorded(Event):
    source_service = "customer"
    routing = "customer.purchase_recorded"
    subject_field = "purchase_id"
    purchase_id: str
    customer_id: str
    region: str
    owner: str | None
    grade: str
    amount: str
    product: str
    purchased_at: str
    first_purchase: bool
    quantity: int = 1  # units sold (CONTRACT §4.4); producers before it sold one


@dataclass(frozen=True, kw_only=True)
class RepairClosed(Event):
    source_service = "customer"
    routing = "customer.repair_closed"
    subject_field = "repair_id"
    repair_id: str
    customer_id: str
    region: str
    owner: str | None
    product: str
    closed_at: str


@dataclass(frozen=True, kw_only=True)
class ProjectCompleted(Event):
    """A project done for a customer (CONTRACT §4.4): plans a post_project visit."""

    source_service = "customer"
    routing = "customer.project_completed"
    subject_field = "project_id"
    project_id: str
    customer_id: str
    region: str
    owner: str | None
    grade: str
    name: str
    completed_at: str


@dataclass(frozen=True, kw_only=True)
class MarketingEventHeld(Event):
    """A marketing event and the customers who came: a post_event visit for each."""

    source_service = "customer"
    routing = "customer.marketing_event_held"
    subject_field = "marketing_event_id"
    marketing_event_id: str
    name: str
    held_on: str  # YYYY-MM-DD
    attendees: list  # customer ids


@dataclass(frozen=True, kw_only=True)
class ContactDatesChanged(Event):
    """A contact's birthday or anniversary was set, changed or cleared (or the contact
    removed: both None): the care visits planned from them follow."""

    source_service = "customer"
    routing = "customer.contact_dates_changed"
    subject_field = "contact_id"
    contact_id: str
    customer_id: str
    region: str
    owner: str | None
    grade: str
    name: str
    birthday: str | None  # YYYY-MM-DD
    anniversary: str | None
    changed_at: str
    decision_maker: bool | None = None  # the contact's flag: a key contact


# --- visit -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class VisitScheduled(Event):
    source_service = "visit"
    routing = "visit.scheduled"
    subject_field = "visit_id"
    visit_id: str
    customer_id: str
    reason: str
    method: str
    assignee: str | None
    region: str
    due_date: str
    trigger: str
    scheduled_at: str


@dataclass(frozen=True, kw_only=True)
class VisitCompleted(Event):
    source_service = "visit"
    routing = "visit.completed"
    subject_field = "visit_id"
    visit_id: str
    customer_id: str
    reason: str
    method: str
    assignee: str | None
    region: str
    due_date: str
    completed_at: str
    on_time: bool
    satisfaction: str | None
    recommend_score: int | None
    repurchase_intent: bool | None
    issue_ids: list
    complaint_id: str | None = None
    # What the customer said of its needs and of competitors (the summary report's trends).
    needs: str | None = None
    competitor_info: dict | None = None
    service_feedback: str | None = None  # the customer's suggestions (summary report)


@dataclass(frozen=True, kw_only=True)
class VisitOverdue(Event):
    source_service = "visit"
    routing = "visit.overdue"
    subject_field = "visit_id"
    visit_id: str
    customer_id: str
    reason: str
    assignee: str | None
    region: str
    due_date: str
    detected_at: str


@dataclass(frozen=True, kw_only=True)
class VisitCancelled(Event):
    source_service = "visit"
    routing = "visit.cancelled"
    subject_field = "visit_id"
    visit_id: str
    customer_id: str
    reason: str
    assignee: str | None
    region: str
    due_date: str
    cancelled_at: str
    why: str | None


@dataclass(frozen=True, kw_only=True)
class VisitAudited(Event):
    source_service = "visit"
    routing = "visit.audited"
    subject_field = "visit_id"
    visit_id: str
    audit_id: str
    accurate: bool
    auditor: str
    assignee: str | None
    region: str
    due_date: str
    audited_at: str


@dataclass(frozen=True, kw_only=True)
class IssueRaised(Event):
    source_service = "visit"
    routing = "issue.raised"
    subject_field = "issue_id"
    by_department = True
    issue_id: str
    source: str  # "visit" or "complaint"
    visit_id: str | None
    complaint_id: str | None
    customer_id: str
    department: str
    assisting_departments: list
    category: str
    region: str
    assignee: str | None
    raised_at: str
    description: str | None = None
    due_date: str | None = None  # the issue's deadline (YYYY-MM-DD), when it has one


@dataclass(frozen=True, kw_only=True)
class IssueResolved(Event):
    """Published by the visit service (source "visit") and the complaint service (source
    "complaint": a resolved complaint, which schedules the post-complaint visit)."""

    source_service = "visit"
    routing = "issue.resolved"
    subject_field = "issue_id"
    by_department = True
    issue_id: str
    source: str
    visit_id: str | None
    complaint_id: str | None
    customer_id: str
    department: str
    category: str
    region: str
    assignee: str | None
    raised_at: str
    resolved_at: str
    within_deadline: bool | None


@dataclass(frozen=True, kw_only=True)
class IssueConfirmed(Event):
    """After a resolved issue, the customer was told the result: satisfied (the issue is
    ``confirmed``) or not (it is open again, and IssueReopened follows)."""

    source_service = "visit"
    routing = "issue.confirmed"
    subject_field = "issue_id"
    by_department = True
    issue_id: str
    customer_id: str
    department: str
    category: str
    region: str
    assignee: str | None
    satisfied: bool
    confirmed_at: str


@dataclass(frozen=True, kw_only=True)
class IssueReopened(Event):
    source_service = "visit"
    routing = "issue.reopened"
    subject_field = "issue_id"
    by_department = True
    issue_id: str
    customer_id: str
    department: str
    category: str
    region: str
    assignee: str | None
    reopened_at: str
    why: str | None


# --- complaint ---------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ComplaintRaised(Event):
    source_service = "complaint"
    routing = "complaint.raised"
    subject_field = "complaint_id"
    by_department = True
    complaint_id: str
    number: str
    customer_id: str
    channel: str
    severity: str
    category: str
    department: str
    region: str
    received_at: str
    deadlines: dict
    assignee: str | None = None  # the staff id handling it (CONTRACT §4.3)


@dataclass(frozen=True, kw_only=True)
class ComplaintEscalated(Event):
    source_service = "complaint"
    routing = "complaint.escalated"
    subject_field = "complaint_id"
    by_department = True
    complaint_id: str
    number: str
    customer_id: str
    severity: str
    department: str
    region: str
    limit: str  # "first_response", "plan" or "resolve"
    deadline: str
    escalated_at: str


@dataclass(frozen=True, kw_only=True)
class ComplaintClosed(Event):
    source_service = "complaint"
    routing = "complaint.closed"
    subject_field = "complaint_id"
    by_department = True
    complaint_id: str
    number: str
    customer_id: str
    severity: str
    department: str
    region: str
    closed_at: str
    satisfied: bool | None
    visit_id: str | None


@dataclass(frozen=True, kw_only=True)
class ComplaintReopened(Event):
    source_service = "complaint"
    routing = "complaint.reopened"
    subject_field = "complaint_id"
    by_department = True
    complaint_id: str
    number: str
    customer_id: str
    severity: str
    department: str
    region: str
    reopened_at: str
    why: str | None
    visit_id: str | None


@dataclass(frozen=True, kw_only=True)
class ComplaintReportedUpward(Event):
    """A major complaint (or one touching several departments) reported at intake to the
    tenant's supervision group, which watches it until it is closed."""

    source_service = "complaint"
    routing = "complaint.reported_upward"
    subject_field = "complaint_id"
    by_department = True
    complaint_id: str
    number: str
    customer_id: str
    severity: str
    category: str
    department: str
    departments: list  # every department it touches
    region: str
    supervisors: list  # staff ids or emails from the tenant's settings
    reason: str  # "major" or "several_departments"
    reported_at: str


@dataclass(frozen=True, kw_only=True)
class ComplaintAssigned(Event):
    """A complaint was given to a person (CONTRACT §4.3): its work counts for them in the
    staff ranking."""

    source_service = "complaint"
    routing = "complaint.assigned"
    subject_field = "complaint_id"
    by_department = True
    complaint_id: str
    number: str
    customer_id: str
    severity: str
    department: str
    region: str
    assignee: str | None
    previous_assignee: str | None
    assigned_at: str


# --- survey ------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SurveyResponded(Event):
    source_service = "survey"
    routing = "survey.responded"
    subject_field = "response_id"
    response_id: str
    survey_id: str
    invitation_id: str
    customer_id: str
    visit_id: str | None
    satisfaction: str | None
    recommend_score: int | None
    average_rating: float | None
    responded_at: str


CATALOGUE: dict[str, type[Event]] = {
    cls.type_name(): cls
    for cls in (
        TenantRegistered,
        TenantSettingsChanged,
        StaffChanged,
        CustomerRegistered,
        CustomerGraded,
        CustomerRiskChanged,
        PurchaseRecorded,
        RepairClosed,
        ProjectCompleted,
        MarketingEventHeld,
        ContactDatesChanged,
        VisitScheduled,
        VisitCompleted,
        VisitOverdue,
        VisitCancelled,
        VisitAudited,
        IssueRaised,
        IssueResolved,
        IssueConfirmed,
        IssueReopened,
        ComplaintRaised,
        ComplaintEscalated,
        ComplaintClosed,
        ComplaintReopened,
        ComplaintReportedUpward,
        ComplaintAssigned,
        SurveyResponded,
    )
}
