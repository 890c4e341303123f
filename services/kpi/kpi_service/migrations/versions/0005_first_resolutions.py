"""complaints_first_resolved(_on_time): counts that a reopening never lowers

``revisit_complaints_resolved_total`` counts complaints resolved at least once, split by
whether their first resolution was within its deadline, and
``revisit_complaints_resolved_within_limit_total`` the same first resolution; the counters
file every fact under the labels it was first seen with. Facts stored before this revision
have no first resolution or first labels: run ``python -m kpi_service.rebuild`` after
upgrading (until then they are counted when their fact next changes, under their labels of
that time, and the counters start from 0, which Prometheus reads as a reset).
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"

TABLES = ("kpi_daily", "kpi_monthly", "kpi_totals")
COLUMNS = ("complaints_first_resolved", "complaints_first_resolved_on_time")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            for name in COLUMNS:
                batch.add_column(sa.Column(name, sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            for name in COLUMNS:
                batch.drop_column(name)
