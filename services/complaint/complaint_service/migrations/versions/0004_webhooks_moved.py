"""webhooks moved to the notify service: complaint's webhook tables are dropped

The notify service owns webhooks from now on (its own database, its 0001 creates the same
tables). Dropping here loses the webhooks registered with the complaint service unless they
were copied to notify first. Downgrade creates the tables again, empty.
"""

from alembic import op

from revisit_common.migrations import create_webhook_tables

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    for table in ("webhook_attempts", "webhook_deliveries", "webhooks"):
        op.drop_table(table)


def downgrade() -> None:
    create_webhook_tables(op)
