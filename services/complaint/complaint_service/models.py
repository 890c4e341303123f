"""The complaint service's tables (its own database; nobody else reads them)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from revisit_common.columns import DEPARTMENT, REGION, Stamped, TenantRow, children, tenant_index
from revisit_common.db import UtcDateTime


class Base(DeclarativeBase):
    pass


class Complaint(TenantRow, Stamped, Base):
    __tablename__ = "complaints"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "number", name="uq_complaints_number"),
        tenant_index("complaints"),
        sa.Index("ix_complaints_tenant_status", "tenant_id", "status"),
        sa.Index("ix_complaints_customer", "tenant_id", "customer_id"),
        sa.Index("ix_complaints_reported", "tenant_id", "reported_upward_reason"),
        sa.Index("ix_complaints_assignee", "tenant_id", "assignee"),
    )

    number: Mapped[str] = mapped_column(sa.String(32))
    status: Mapped[str] = mapped_column(sa.String(32))
    severity: Mapped[str] = mapped_column(sa.String(16))
    channel: Mapped[str] = mapped_column(sa.String(16))
    category: Mapped[str] = mapped_column(sa.String(100))
    department: Mapped[str] = mapped_column(DEPARTMENT)
    customer_id: Mapped[str] = mapped_column(sa.String(64))
    region: Mapped[str] = mapped_column(REGION)
    complainant: Mapped[str | None] = mapped_column(sa.String(200))
    contact: Mapped[str | None] = mapped_column(sa.String(200))
    product: Mapped[str | None] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The limits of the current round, already moved by the pauses that ended.
    first_response_by: Mapped[datetime | None] = mapped_column(UtcDateTime)
    plan_by: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolve_by: Mapped[datetime] = mapped_column(UtcDateTime)
    first_responded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    planned_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    round: Mapped[int] = mapped_column(sa.Integer, default=1)
    paused_from: Mapped[str | None] = mapped_column(sa.String(32))
    paused_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    paused_seconds: Mapped[float] = mapped_column(sa.Float, default=0.0)
    escalated_first_response: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    escalated_plan: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    escalated_resolve_round: Mapped[int] = mapped_column(sa.Integer, default=0)
    resolution: Mapped[str | None] = mapped_column(sa.Text)
    satisfied: Mapped[bool | None] = mapped_column(sa.Boolean)
    created_by: Mapped[str] = mapped_column(sa.String(100))
    # Other departments that help handle it (named at intake; the handling one not again).
    assisting_departments: Mapped[list] = mapped_column(sa.JSON, default=list)
    # Why and when it was reported upward at intake (supervision.py); None: not reported.
    reported_upward_reason: Mapped[str | None] = mapped_column(sa.String(32))
    reported_upward_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Triage at intake (triage.py): ``severity`` is derived from the one given, for a reason
    # (given | category | customer | several_departments | escalated: raised later by
    # escalation); the coordinating department, None when it handles it.
    severity_given: Mapped[str] = mapped_column(sa.String(16))
    severity_reason: Mapped[str] = mapped_column(sa.String(32))
    coordinator: Mapped[str | None] = mapped_column(DEPARTMENT)
    # The staff id of the person handling it (assignment.py); None: nobody in particular.
    assignee: Mapped[str | None] = mapped_column(sa.String(64))

    ledger: Mapped[list[LedgerEntry]] = children("LedgerEntry.id", back_populates="complaint")


class LedgerEntry(Base):
    """One step of a complaint's handling: when, who, which department, what."""

    __tablename__ = "complaint_ledger"
    __table_args__ = (sa.Index("ix_complaint_ledger_complaint", "complaint_id", "id"),)

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    complaint_id: Mapped[str] = mapped_column(sa.ForeignKey("complaints.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    action: Mapped[str] = mapped_column(sa.String(32))
    from_status: Mapped[str | None] = mapped_column(sa.String(32))
    status: Mapped[str] = mapped_column(sa.String(32))
    by: Mapped[str] = mapped_column(sa.String(100))
    department: Mapped[str | None] = mapped_column(DEPARTMENT)
    note: Mapped[str | None] = mapped_column(sa.Text)

    complaint: Mapped[Complaint] = relationship(back_populates="ledger")


class CustomerCopy(Base):
    """The region, size tier and grade of each customer, kept from the customer service's
    events (size tier and grade None until one says them)."""

    __tablename__ = "complaint_customers"

    tenant_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    region: Mapped[str] = mapped_column(REGION)
    size_tier: Mapped[str | None] = mapped_column(sa.String(32))
    grade: Mapped[str | None] = mapped_column(sa.String(8))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


# Serials per tenant per month: one row, incremented by one atomic upsert (numbering.py).
counters_table = sa.Table(
    "complaint_counters",
    Base.metadata,
    sa.Column("tenant_id", sa.String(36), primary_key=True),
    sa.Column("period", sa.String(6), primary_key=True),
    sa.Column("value", sa.Integer, nullable=False),
)
