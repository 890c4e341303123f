"""complaints keep their given and derived severity and their coordinator; the customer copy
keeps size tier and grade

Severity is derived at intake (a major category or a large customer raise a general
complaint to major) and customer_service coordinates the complaints other departments
handle (DOMAIN.md §3). Complaints raised before this revision keep their severity as given;
their coordinator is not known. Customers copied before it have no size tier or grade until
the customer service's next event about them.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    with op.batch_alter_table("complaints") as batch:
        batch.add_column(sa.Column("severity_given", sa.String(16)))
        batch.add_column(
            sa.Column("severity_reason", sa.String(16), nullable=False, server_default="given")
        )
        batch.add_column(sa.Column("coordinator", sa.String(64)))
    op.execute("UPDATE complaints SET severity_given = severity")
    with op.batch_alter_table("complaints") as batch:
        batch.alter_column("severity_given", existing_type=sa.String(16), nullable=False)
    with op.batch_alter_table("complaint_customers") as batch:
        batch.add_column(sa.Column("size_tier", sa.String(32)))
        batch.add_column(sa.Column("grade", sa.String(8)))


def downgrade() -> None:
    with op.batch_alter_table("complaint_customers") as batch:
        batch.drop_column("grade")
        batch.drop_column("size_tier")
    with op.batch_alter_table("complaints") as batch:
        for column in ("coordinator", "severity_reason", "severity_given"):
            batch.drop_column(column)
