"""Messaging tables and the fake service's one table, ``notes``.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from revisit_common.migrations import create_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_messaging_tables(op)
    # No unique key on purpose: an event applied twice leaves two rows, so tests can count.
    op.create_table(
        "notes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("notes")
