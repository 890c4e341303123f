"""care: contacts' birthdays and anniversaries copied from the customer service"""

import sqlalchemy as sa
from alembic import op

from revisit_common.migrations import TS

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "care_contacts",
        sa.Column("tenant_id", sa.String(36), primary_key=True),
        sa.Column("contact_id", sa.String(64), primary_key=True),
        sa.Column("customer_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(200)),
        sa.Column("birthday", sa.Date),
        sa.Column("anniversary", sa.Date),
        sa.Column("changed_at", TS, nullable=False),
    )
    op.create_index("ix_care_contacts_customer", "care_contacts", ["tenant_id", "customer_id"])


def downgrade() -> None:
    op.drop_table("care_contacts")
