"""The customer service's tables (its own database; nobody else reads them)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from revisit_common.columns import REGION, Stamped, TenantRow, children, tenant_index
from revisit_common.db import UtcDateTime

MONEY = sa.Numeric(18, 2)


class Base(DeclarativeBase):
    pass


class Customer(TenantRow, Stamped, Base):
    __tablename__ = "customers"
    __table_args__ = (
        tenant_index("customers"),
        # the customer's id in the tenant's own system (ERP): imports match rows by it
        sa.Index("uq_customers_external_id", "tenant_id", "external_id", unique=True),
    )

    name: Mapped[str] = mapped_column(sa.String(200))
    external_id: Mapped[str | None] = mapped_column(sa.String(100))
    type: Mapped[str] = mapped_column(sa.String(20))
    region: Mapped[str] = mapped_column(REGION)
    owner: Mapped[str | None] = mapped_column(sa.String(100))
    address: Mapped[str | None] = mapped_column(sa.String(500))
    legal_representative: Mapped[str | None] = mapped_column(sa.String(100))
    business_scope: Mapped[str | None] = mapped_column(sa.String(1000))
    annual_purchase_amount: Mapped[Decimal] = mapped_column(MONEY)
    purchase_frequency: Mapped[str | None] = mapped_column(sa.String(50))
    cooperation_start: Mapped[date] = mapped_column(sa.Date)
    overdue_days: Mapped[int] = mapped_column(sa.Integer, default=0)
    legal_dispute: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    credit_rating: Mapped[str] = mapped_column(sa.String(10), default="good")
    complaint_dates: Mapped[list] = mapped_column(sa.JSON, default=list)
    satisfaction_levels: Mapped[list] = mapped_column(sa.JSON, default=list)
    size_tier: Mapped[str] = mapped_column(sa.String(10))
    cooperation_tier: Mapped[str] = mapped_column(sa.String(10))
    score: Mapped[float] = mapped_column(sa.Float)
    grade: Mapped[str] = mapped_column(sa.String(1))
    risk_level: Mapped[str] = mapped_column(sa.String(10))
    risk_reasons: Mapped[list] = mapped_column(sa.JSON, default=list)
    # When the derived fields were last computed: the periodic re-grading reads it.
    graded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # How many purchases are recorded (kept with each one): the first one, and whether the
    # annual amount follows them, read without counting.
    purchase_count: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")

    contacts: Mapped[list[Contact]] = children("Contact.position", back_populates="customer")


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(sa.Integer)
    name: Mapped[str] = mapped_column(sa.String(100))
    title: Mapped[str | None] = mapped_column(sa.String(100))
    phone: Mapped[str | None] = mapped_column(sa.String(50))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    decision_maker: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    birthday: Mapped[date | None] = mapped_column(sa.Date)
    anniversary: Mapped[date | None] = mapped_column(sa.Date)

    customer: Mapped[Customer] = relationship(back_populates="contacts")


class Purchase(TenantRow, Base):
    __tablename__ = "purchases"
    __table_args__ = (sa.Index("ix_purchases_customer", "customer_id", "purchased_at"),)

    customer_id: Mapped[str] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    product: Mapped[str] = mapped_column(sa.String(200))
    quantity: Mapped[int] = mapped_column(sa.Integer, default=1)
    purchased_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PurchaseSum(Base):
    """A customer's purchases of one UTC day or month (``span``), summed as each is recorded:
    the 12-month windows read these, never the purchases (see ``purchase_windows``)."""

    __tablename__ = "purchase_sums"

    customer_id: Mapped[str] = mapped_column(
        sa.ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    span: Mapped[str] = mapped_column(sa.String(5), primary_key=True)
    start: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    amount_cents: Mapped[int] = mapped_column(sa.BigInteger)
    count: Mapped[int] = mapped_column(sa.Integer)


class Repair(TenantRow, Base):
    __tablename__ = "repairs"
    __table_args__ = (sa.Index("ix_repairs_customer", "customer_id"),)

    customer_id: Mapped[str] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"))
    product: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.String(2000))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    result: Mapped[str | None] = mapped_column(sa.String(2000))


class Project(TenantRow, Base):
    """A project completed for a customer (a post_project visit follows)."""

    __tablename__ = "projects"
    __table_args__ = (sa.Index("ix_projects_customer", "customer_id", "id"),)

    customer_id: Mapped[str] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(200))
    completed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MarketingEvent(TenantRow, Base):
    """A marketing event and the tenant's customers who attended it (their ids)."""

    __tablename__ = "marketing_events"
    __table_args__ = (tenant_index("marketing_events"),)

    name: Mapped[str] = mapped_column(sa.String(200))
    held_on: Mapped[date] = mapped_column(sa.Date)
    attendees: Mapped[list] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
