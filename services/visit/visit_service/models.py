"""The visit service's tables (its own database; nobody else reads them)."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from revisit_common.columns import DEPARTMENT, REGION, TenantRow, tenant_index
from revisit_common.db import UtcDateTime

PLANNED = sa.text("status = 'planned'")


class Base(DeclarativeBase):
    pass


class Visit(TenantRow, Base):
    """A visit task (planned) and, once completed, its record."""

    __tablename__ = "visits"
    __table_args__ = (
        tenant_index("visits"),
        sa.Index("ix_visits_tenant_due", "tenant_id", "status", "due_date"),
        sa.Index("ix_visits_customer", "tenant_id", "customer_id", "reason"),
        # a person's work list over a due range, in due-date order (worklist.py)
        sa.Index("ix_visits_tenant_assignee_due", "tenant_id", "assignee", "due_date", "id"),
        # A customer never has two open visits for the same reason and trigger.
        sa.Index(
            "uq_visits_open_trigger",
            "tenant_id",
            "customer_id",
            "reason",
            "trigger",
            unique=True,
            sqlite_where=PLANNED,
            postgresql_where=PLANNED,
        ),
    )

    customer_id: Mapped[str] = mapped_column(sa.String(36))
    region: Mapped[str] = mapped_column(REGION)
    reason: Mapped[str] = mapped_column(sa.String(20))
    method: Mapped[str] = mapped_column(sa.String(20))
    due_date: Mapped[date] = mapped_column(sa.Date)
    assignee: Mapped[str | None] = mapped_column(sa.String(100))
    status: Mapped[str] = mapped_column(sa.String(10))
    # What caused the plan (purchase id, repair id, complaint id, "<purchase>:<offset>", ...)
    # and when it happened; the customer's grade for periodic visits.
    trigger: Mapped[str] = mapped_column(sa.String(200))
    trigger_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    customer_grade: Mapped[str | None] = mapped_column(sa.String(1))
    complaint_id: Mapped[str | None] = mapped_column(sa.String(36))
    focus: Mapped[str | None] = mapped_column(sa.String(2000))
    notes: Mapped[str | None] = mapped_column(sa.String(2000))
    created_by: Mapped[str | None] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # the completed record
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    completed_by: Mapped[str | None] = mapped_column(sa.String(100))
    on_time: Mapped[bool | None] = mapped_column(sa.Boolean)
    satisfaction: Mapped[str | None] = mapped_column(sa.String(20))
    repurchase_intent: Mapped[bool | None] = mapped_column(sa.Boolean)
    recommend_score: Mapped[int | None] = mapped_column(sa.Integer)
    ratings: Mapped[dict | None] = mapped_column(sa.JSON)
    product_feedback: Mapped[dict | None] = mapped_column(sa.JSON)
    service_feedback: Mapped[str | None] = mapped_column(sa.String(2000))
    needs: Mapped[str | None] = mapped_column(sa.String(2000))
    competitor_info: Mapped[dict | None] = mapped_column(sa.JSON)
    # contact before the visit is done: an email visit's reply, an on-site visit's booking
    replied_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    appointment_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # overdue and cancelled
    overdue_notified_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(500))

    issues: Mapped[list[Issue]] = relationship(
        back_populates="visit", order_by="Issue.id", lazy="selectin"
    )
    audit: Mapped[Audit | None] = relationship(back_populates="visit", lazy="selectin")


class Issue(TenantRow, Base):
    """A problem found on a visit, tracked by a lead department to its resolution."""

    __tablename__ = "issues"
    __table_args__ = (
        tenant_index("issues"),
        sa.Index("ix_issues_visit", "visit_id"),
    )

    visit_id: Mapped[str | None] = mapped_column(sa.ForeignKey("visits.id"))
    complaint_id: Mapped[str | None] = mapped_column(sa.String(36))
    customer_id: Mapped[str] = mapped_column(sa.String(36))
    region: Mapped[str] = mapped_column(REGION)
    assignee: Mapped[str | None] = mapped_column(sa.String(100))
    category: Mapped[str] = mapped_column(sa.String(20))
    description: Mapped[str] = mapped_column(sa.String(2000))
    department: Mapped[str] = mapped_column(DEPARTMENT)
    assisting_departments: Mapped[list] = mapped_column(sa.JSON, default=list)
    status: Mapped[str] = mapped_column(sa.String(10))
    due_date: Mapped[date | None] = mapped_column(sa.Date)
    stages: Mapped[list] = mapped_column(sa.JSON, default=list)
    resolution: Mapped[str | None] = mapped_column(sa.String(2000))
    resolved_by: Mapped[str | None] = mapped_column(sa.String(100))
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # the customer told the result: satisfied (confirmed) or not (reopened, counted)
    satisfied: Mapped[bool | None] = mapped_column(sa.Boolean)
    confirmation_note: Mapped[str | None] = mapped_column(sa.String(2000))
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    confirmed_by: Mapped[str | None] = mapped_column(sa.String(100))
    reopen_count: Mapped[int] = mapped_column(sa.Integer, default=0)

    visit: Mapped[Visit | None] = relationship(back_populates="issues")
    departments: Mapped[list[IssueDepartment]] = relationship(cascade="all, delete-orphan")


class IssueDepartment(Base):
    """Which departments an issue involves (the lead and the assisting ones), for scoping."""

    __tablename__ = "issue_departments"
    __table_args__ = (sa.Index("ix_issue_departments_dept", "tenant_id", "department"),)

    issue_id: Mapped[str] = mapped_column(
        sa.ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True
    )
    department: Mapped[str] = mapped_column(DEPARTMENT, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.String(36))
    lead: Mapped[bool] = mapped_column(sa.Boolean)


class Audit(TenantRow, Base):
    """A supervisor's spot check of a completed visit record (one per visit)."""

    __tablename__ = "audits"

    visit_id: Mapped[str] = mapped_column(sa.ForeignKey("visits.id"), unique=True)
    accurate: Mapped[bool] = mapped_column(sa.Boolean)
    note: Mapped[str | None] = mapped_column(sa.String(2000))
    auditor: Mapped[str] = mapped_column(sa.String(100))
    audited_at: Mapped[datetime] = mapped_column(UtcDateTime)

    visit: Mapped[Visit] = relationship(back_populates="audit")


class Case(TenantRow, Base):
    """A resolved issue or complaint written up for reuse (the case library)."""

    __tablename__ = "cases"
    __table_args__ = (
        tenant_index("cases"),
        sa.Index("ix_cases_source", "tenant_id", "source", "source_id"),
    )

    source: Mapped[str] = mapped_column(sa.String(10))
    source_id: Mapped[str] = mapped_column(sa.String(64))
    title: Mapped[str] = mapped_column(sa.String(200))
    summary: Mapped[str] = mapped_column(sa.String(4000))
    lessons: Mapped[str | None] = mapped_column(sa.String(4000))
    category: Mapped[str] = mapped_column(sa.String(100))
    department: Mapped[str] = mapped_column(DEPARTMENT)
    customer_id: Mapped[str | None] = mapped_column(sa.String(36))
    created_by: Mapped[str | None] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ResolvedComplaint(Base):
    """A complaint whose resolution the visit service has seen (IssueResolved, source
    ``complaint``): what a case written up from it copies."""

    __tablename__ = "resolved_complaints"

    tenant_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    complaint_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    category: Mapped[str] = mapped_column(sa.String(100))
    department: Mapped[str] = mapped_column(DEPARTMENT)
    customer_id: Mapped[str] = mapped_column(sa.String(36))
    resolved_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CustomerCopy(Base):
    """What the visit service knows of a customer, fed by the customer service's events.

    ``info_at`` / ``grade_at`` are the times of the events the region/owner and the grade
    came from, so an older event arriving late never overwrites newer facts."""

    __tablename__ = "customers"

    tenant_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    name: Mapped[str | None] = mapped_column(sa.String(200))
    region: Mapped[str] = mapped_column(REGION)
    owner: Mapped[str | None] = mapped_column(sa.String(100))
    grade: Mapped[str | None] = mapped_column(sa.String(1))
    size_tier: Mapped[str | None] = mapped_column(sa.String(10))  # large: visited on site
    info_at: Mapped[datetime] = mapped_column(UtcDateTime)
    grade_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class RoundRobin(Base):
    """The round-robin counter of a tenant's region (the next agent's turn)."""

    __tablename__ = "round_robin"

    tenant_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    region: Mapped[str] = mapped_column(REGION, primary_key=True)
    counter: Mapped[int] = mapped_column(sa.Integer)


class CareContact(Base):
    """A contact's birthday and anniversary, copied from the customer service's
    ContactDatesChanged events (care visits); ``changed_at`` orders the events."""

    __tablename__ = "care_contacts"
    __table_args__ = (sa.Index("ix_care_contacts_customer", "tenant_id", "customer_id"),)

    tenant_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    contact_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(sa.String(36))
    name: Mapped[str | None] = mapped_column(sa.String(200))
    birthday: Mapped[date | None] = mapped_column(sa.Date)
    anniversary: Mapped[date | None] = mapped_column(sa.Date)
    # a key contact (None: not said, from producers before the flag; care as before)
    decision_maker: Mapped[bool | None] = mapped_column(sa.Boolean)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime)
