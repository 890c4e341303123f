"""visits_cancelled: visits cancelled before completion, a count of their own

A cancelled visit used to leave every count; it now adds ``visits_cancelled``, so that
``visits_due + visits_cancelled`` (the metric ``revisit_visits_due_total``) never falls.
Visits cancelled before this revision are counted once ``python -m kpi_service.rebuild``
has run; until then they are in neither count (no counter falls either way).
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"

TABLES = ("kpi_daily", "kpi_monthly", "kpi_totals")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("visits_cancelled", sa.Integer, nullable=False, server_default="0")
            )


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("visits_cancelled")
