"""the reason of a complaint's severity takes up to 32 characters

Severity is also derived from the departments a complaint touches (``several_departments``,
19 characters) and raised by escalation (``escalated``), DOMAIN.md §3; the column of
revision 0006 held 16. Rows keep their reason; the downgrade sets the longer ones back to "given".
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    with op.batch_alter_table("complaints") as batch:
        batch.alter_column(
            "severity_reason", existing_type=sa.String(16), type_=sa.String(32), nullable=False
        )


def downgrade() -> None:
    op.execute("UPDATE complaints SET severity_reason = 'given' WHERE length(severity_reason) > 16")
    with op.batch_alter_table("complaints") as batch:
        batch.alter_column(
            "severity_reason", existing_type=sa.String(32), type_=sa.String(16), nullable=False
        )
