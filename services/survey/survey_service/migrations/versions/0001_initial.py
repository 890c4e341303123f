"""surveys, results, invitations, responses, the customer copy, and the messaging tables"""

import sqlalchemy as sa
from alembic import op

from revisit_common.migrations import TS, create_messaging_tables

revision = "0001"
down_revision = None


def _survey_fk() -> sa.Column:
    return sa.Column(
        "survey_id", sa.String(36), sa.ForeignKey("surveys.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    create_messaging_tables(op)
    op.create_table(
        "surveys",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.String(2000)),
        sa.Column("questions", sa.JSON, nullable=False),
        sa.Column("satisfaction_question", sa.String(64)),
        sa.Column("recommend_question", sa.String(64)),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("created_by", sa.String(100)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("closed_at", TS),
    )
    op.create_index("ix_surveys_tenant_id", "surveys", ["tenant_id", "id"])
    op.create_table(
        "survey_results",
        sa.Column(
            "survey_id",
            sa.String(36),
            sa.ForeignKey("surveys.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("tally", sa.JSON, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "invitations",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        _survey_fk(),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("visit_id", sa.String(64)),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("used_at", TS),
    )
    op.create_index("ix_invitations_token_hash", "invitations", ["token_hash"], unique=True)
    op.create_index("ix_invitations_survey_customer", "invitations", ["survey_id", "customer_id"])
    op.create_table(
        "responses",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        _survey_fk(),
        sa.Column(
            "invitation_id",
            sa.String(36),
            sa.ForeignKey("invitations.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("visit_id", sa.String(64)),
        sa.Column("answers", sa.JSON, nullable=False),
        sa.Column("satisfaction", sa.String(20)),
        sa.Column("recommend_score", sa.Integer),
        sa.Column("average_rating", sa.Float),
        sa.Column("responded_at", TS, nullable=False),
    )
    op.create_index("ix_responses_survey", "responses", ["survey_id", "id"])
    op.create_table(
        "customers",
        sa.Column("tenant_id", sa.String(36), primary_key=True),
        sa.Column("customer_id", sa.String(64), primary_key=True),
        sa.Column("type", sa.String(20)),
        sa.Column("region", sa.String(100)),
        sa.Column("grade", sa.String(1)),
        sa.Column("as_of", TS),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_customers_segment", "customers", ["tenant_id", "grade", "customer_id"])


def downgrade() -> None:
    for table in (
        "customers",
        "responses",
        "invitations",
        "survey_results",
        "surveys",
        "tenant_settings",
        "inbox",
        "outbox",
    ):
        op.drop_table(table)
