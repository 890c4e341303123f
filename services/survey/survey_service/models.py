"""The survey service's tables (its own database; nobody else reads them).

Invitation tokens are never stored: only their SHA-256 (``token_hash``), looked up through a
unique index. Results are a tally per survey (``survey_results``), updated in the same
transaction as each response, so reading them costs one row whatever the number of answers.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from revisit_common.columns import REGION, TenantRow, tenant_index
from revisit_common.db import UtcDateTime


class Base(DeclarativeBase):
    pass


class Survey(TenantRow, Base):
    __tablename__ = "surveys"
    __table_args__ = (tenant_index("surveys"),)

    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str | None] = mapped_column(sa.String(2000))
    questions: Mapped[list] = mapped_column(sa.JSON)
    satisfaction_question: Mapped[str | None] = mapped_column(sa.String(64))
    recommend_question: Mapped[str | None] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(10))  # open | closed
    created_by: Mapped[str | None] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class SurveyResult(Base):
    __tablename__ = "survey_results"

    survey_id: Mapped[str] = mapped_column(
        sa.ForeignKey("surveys.id", ondelete="CASCADE"), primary_key=True
    )
    tally: Mapped[dict] = mapped_column(sa.JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Invitation(TenantRow, Base):
    __tablename__ = "invitations"
    __table_args__ = (
        sa.Index("ix_invitations_token_hash", "token_hash", unique=True),
        sa.Index("ix_invitations_survey_customer", "survey_id", "customer_id"),
    )

    survey_id: Mapped[str] = mapped_column(sa.ForeignKey("surveys.id", ondelete="CASCADE"))
    customer_id: Mapped[str] = mapped_column(sa.String(64))
    visit_id: Mapped[str | None] = mapped_column(sa.String(64))
    token_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Response(TenantRow, Base):
    __tablename__ = "responses"
    __table_args__ = (sa.Index("ix_responses_survey", "survey_id", "id"),)

    survey_id: Mapped[str] = mapped_column(sa.ForeignKey("surveys.id", ondelete="CASCADE"))
    invitation_id: Mapped[str] = mapped_column(
        sa.ForeignKey("invitations.id", ondelete="CASCADE"), unique=True
    )
    customer_id: Mapped[str] = mapped_column(sa.String(64))
    visit_id: Mapped[str | None] = mapped_column(sa.String(64))
    answers: Mapped[dict] = mapped_column(sa.JSON)
    satisfaction: Mapped[str | None] = mapped_column(sa.String(20))
    recommend_score: Mapped[int | None] = mapped_column(sa.Integer)
    average_rating: Mapped[float | None] = mapped_column(sa.Float)
    responded_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CustomerCopy(Base):
    """What segments select on, fed by CustomerRegistered and CustomerGraded."""

    __tablename__ = "customers"
    __table_args__ = (sa.Index("ix_customers_segment", "tenant_id", "grade", "customer_id"),)

    tenant_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    type: Mapped[str | None] = mapped_column(sa.String(20))
    region: Mapped[str | None] = mapped_column(REGION)
    grade: Mapped[str | None] = mapped_column(sa.String(1))
    as_of: Mapped[datetime | None] = mapped_column(UtcDateTime)  # newest event applied
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
