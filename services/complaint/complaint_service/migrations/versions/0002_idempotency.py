"""idempotency_keys: Idempotency-Key of POST/PATCH requests (CONTRACT.md §4.1)

Revision ID: 0002
Revises: 0001
"""

from alembic import op

from revisit_common.migrations import create_idempotency_table, drop_idempotency_table

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_idempotency_table(op)


def downgrade() -> None:
    drop_idempotency_table(op)
