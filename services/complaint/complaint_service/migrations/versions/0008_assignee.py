"""complaints.assignee: the staff id of the person handling a complaint (CONTRACT §4.3)"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    with op.batch_alter_table("complaints") as batch:
        batch.add_column(sa.Column("assignee", sa.String(64), nullable=True))
    op.create_index("ix_complaints_assignee", "complaints", ["tenant_id", "assignee"])


def downgrade() -> None:
    op.drop_index("ix_complaints_assignee", "complaints")
    with op.batch_alter_table("complaints") as batch:
        batch.drop_column("assignee")
