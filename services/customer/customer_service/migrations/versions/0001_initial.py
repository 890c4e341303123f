"""customers, contacts, purchases, repairs, and the messaging tables"""

import sqlalchemy as sa
from alembic import op

from revisit_common.migrations import TS, create_messaging_tables

revision = "0001"
down_revision = None

MONEY = sa.Numeric(18, 2)


def upgrade() -> None:
    create_messaging_tables(op)
    op.create_table(
        "customers",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("region", sa.String(100), nullable=False),
        sa.Column("owner", sa.String(100)),
        sa.Column("address", sa.String(500)),
        sa.Column("legal_representative", sa.String(100)),
        sa.Column("business_scope", sa.String(1000)),
        sa.Column("annual_purchase_amount", MONEY, nullable=False),
        sa.Column("purchase_frequency", sa.String(50)),
        sa.Column("cooperation_start", sa.Date, nullable=False),
        sa.Column("overdue_days", sa.Integer, nullable=False, server_default="0"),
        sa.Column("legal_dispute", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("credit_rating", sa.String(10), nullable=False, server_default="good"),
        sa.Column("complaint_dates", sa.JSON, nullable=False),
        sa.Column("satisfaction_levels", sa.JSON, nullable=False),
        sa.Column("size_tier", sa.String(10), nullable=False),
        sa.Column("cooperation_tier", sa.String(10), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("grade", sa.String(1), nullable=False),
        sa.Column("risk_level", sa.String(10), nullable=False),
        sa.Column("risk_reasons", sa.JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_customers_tenant_id", "customers", ["tenant_id", "id"])
    op.create_table(
        "contacts",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "customer_id",
            sa.String(36),
            sa.ForeignKey("customers.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("title", sa.String(100)),
        sa.Column("phone", sa.String(50)),
        sa.Column("email", sa.String(254)),
        sa.Column("decision_maker", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("birthday", sa.Date),
        sa.Column("anniversary", sa.Date),
    )
    op.create_index("ix_contacts_customer", "contacts", ["customer_id"])
    for table, extra in (
        (
            "purchases",
            [
                sa.Column("amount", MONEY, nullable=False),
                sa.Column("product", sa.String(200), nullable=False),
                sa.Column("purchased_at", TS, nullable=False),
                sa.Column("created_at", TS, nullable=False),
            ],
        ),
        (
            "repairs",
            [
                sa.Column("product", sa.String(200), nullable=False),
                sa.Column("description", sa.String(2000), nullable=False),
                sa.Column("opened_at", TS, nullable=False),
                sa.Column("closed_at", TS),
                sa.Column("result", sa.String(2000)),
            ],
        ),
    ):
        op.create_table(
            table,
            sa.Column("id", sa.String(36), primary_key=True),
            sa.Column("tenant_id", sa.String(36), nullable=False),
            sa.Column(
                "customer_id",
                sa.String(36),
                sa.ForeignKey("customers.id", ondelete="CASCADE"),
                nullable=False,
            ),
            *extra,
        )
    op.create_index("ix_purchases_customer", "purchases", ["customer_id", "purchased_at"])
    op.create_index("ix_repairs_customer", "repairs", ["customer_id"])


def downgrade() -> None:
    for table in (
        "repairs",
        "purchases",
        "contacts",
        "customers",
        "tenant_settings",
        "inbox",
        "outbox",
    ):
        op.drop_table(table)
