"""units_sold, complaint_resolve_limits, complaints_resolved_within_limit: counts for metrics

The policies' own KPIs (DOMAIN.md §6) as Prometheus counters: units sold (a purchase's
quantity, 1 without one), complaints with a resolve limit and those of them resolved
within it. Purchases and complaints stored before this revision are counted once
``python -m kpi_service.rebuild`` has run (or when their fact next changes); until then
they are in neither count (no counter falls either way).
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"

TABLES = ("kpi_daily", "kpi_monthly", "kpi_totals")
COLUMNS = ("units_sold", "complaint_resolve_limits", "complaints_resolved_within_limit")


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
