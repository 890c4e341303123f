"""webhooks, their deliveries and attempts, idempotency keys, and the messaging tables

The webhook tables are those the complaint service held before (its 0001 and 0003); the
complaint service drops its copies in its 0004.
"""

from alembic import op

from revisit_common.migrations import (
    create_idempotency_table,
    create_messaging_tables,
    create_webhook_tables,
    drop_idempotency_table,
)

revision = "0001"
down_revision = None


def upgrade() -> None:
    create_messaging_tables(op)
    create_idempotency_table(op)
    create_webhook_tables(op)


def downgrade() -> None:
    for table in ("webhook_attempts", "webhook_deliveries", "webhooks"):
        op.drop_table(table)
    drop_idempotency_table(op)
    for table in ("tenant_settings", "inbox", "outbox"):
        op.drop_table(table)
