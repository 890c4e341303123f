"""The notify service's tables (its own database; nobody else reads them): webhooks, their
deliveries and the log of every attempt; emails, and the copies of people, customers' names
and open visits they are written from."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from revisit_common.columns import DEPARTMENT, TenantRow, children
from revisit_common.db import UtcDateTime


class Base(DeclarativeBase):
    pass


class Webhook(TenantRow, Base):
    __tablename__ = "webhooks"
    __table_args__ = (sa.Index("ix_webhooks_tenant", "tenant_id", "id"),)

    url: Mapped[str] = mapped_column(sa.String(2000))
    events: Mapped[list] = mapped_column(sa.JSON)
    secret: Mapped[str] = mapped_column(sa.String(256))
    department: Mapped[str | None] = mapped_column(DEPARTMENT)
    description: Mapped[str | None] = mapped_column(sa.String(500))
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_by: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Delivery(TenantRow, Base):
    """One event to send to one webhook, with its state and the log of its attempts."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("webhook_id", "event_id", name="uq_webhook_deliveries_event"),
        sa.Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        sa.Index("ix_webhook_deliveries_webhook", "webhook_id", "id"),
    )

    webhook_id: Mapped[str] = mapped_column(sa.ForeignKey("webhooks.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(sa.String(100))
    event_type: Mapped[str] = mapped_column(sa.String(100))
    routing_key: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(16))  # pending, delivered, failed, cancelled
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_status: Mapped[int | None] = mapped_column(sa.Integer)
    last_error: Mapped[str | None] = mapped_column(sa.String(1000))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    attempt_log: Mapped[list[DeliveryAttempt]] = children("DeliveryAttempt.id")


class DeliveryAttempt(Base):
    __tablename__ = "webhook_attempts"
    __table_args__ = (sa.Index("ix_webhook_attempts_delivery", "delivery_id", "id"),)

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    delivery_id: Mapped[str] = mapped_column(
        sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE")
    )
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    status_code: Mapped[int | None] = mapped_column(sa.Integer)
    error: Mapped[str | None] = mapped_column(sa.String(1000))
    duration_ms: Mapped[int] = mapped_column(sa.Integer)


# --------------------------------------------------------------------------- emails


class Person(Base):
    """The notify service's copy of a tenant's staff (StaffChanged): whom to email."""

    __tablename__ = "people"

    tenant_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    staff_id: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str | None] = mapped_column(sa.String(320))
    active: Mapped[bool] = mapped_column(sa.Boolean)
    changed_at: Mapped[str] = mapped_column(sa.String(64))


class CustomerName(Base):
    """A customer's name (CustomerRegistered), shown in the emails instead of its id."""

    __tablename__ = "customer_names"

    tenant_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(300))


class OpenVisit(Base):
    """A visit as its events tell it (VisitScheduled, VisitCompleted, VisitCancelled): the
    digest lists the open ones due tomorrow."""

    __tablename__ = "visit_copies"
    __table_args__ = (sa.Index("ix_visit_copies_due", "tenant_id", "open", "due_date"),)

    tenant_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    visit_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(sa.String(36))
    reason: Mapped[str] = mapped_column(sa.String(64))
    method: Mapped[str | None] = mapped_column(sa.String(64))
    assignee: Mapped[str | None] = mapped_column(sa.String(100))
    due_date: Mapped[date] = mapped_column(sa.Date)
    open: Mapped[bool] = mapped_column(sa.Boolean)
    scheduled_at: Mapped[str] = mapped_column(sa.String(64))


class Email(TenantRow, Base):
    """One email to one recipient, with its sending state. ``dedup_key`` names what caused
    it (the event and recipient, or the digest's tenant, day and person): a replayed event
    or a second digest run writes no second email."""

    __tablename__ = "emails"
    __table_args__ = (
        sa.UniqueConstraint("dedup_key", name="uq_emails_dedup_key"),
        sa.Index("ix_emails_due", "status", "next_attempt_at"),
        sa.Index("ix_emails_tenant_id", "tenant_id", "id"),
    )

    kind: Mapped[str] = mapped_column(sa.String(32))  # digest, complaint_reported, ...
    recipient: Mapped[str] = mapped_column(sa.String(320))
    subject: Mapped[str] = mapped_column(sa.String(500))
    body: Mapped[str] = mapped_column(sa.Text)
    locale: Mapped[str] = mapped_column(sa.String(16))
    status: Mapped[str] = mapped_column(sa.String(16))  # pending, sent, failed
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # None: now
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    dedup_key: Mapped[str] = mapped_column(sa.String(300))
    source_event_id: Mapped[str | None] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class DigestRun(Base):
    """A tenant's digest of one day, written: the next round of the job skips the tenant."""

    __tablename__ = "digest_runs"

    tenant_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    ran_at: Mapped[datetime] = mapped_column(UtcDateTime)
