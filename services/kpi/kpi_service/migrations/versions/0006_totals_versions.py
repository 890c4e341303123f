"""kpi_totals_versions: a per-tenant number raised with every change to kpi_totals

``/metrics`` keeps each tenant's rendered series until its version moves (collector.py), so
a scrape reads ``kpi_totals`` only for the tenants that changed. Every tenant with totals
starts at version 1.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    op.create_table(
        "kpi_totals_versions",
        sa.Column("tenant_id", sa.String(100), primary_key=True),
        sa.Column("version", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.execute(
        "INSERT INTO kpi_totals_versions (tenant_id, version) "
        "SELECT DISTINCT tenant_id, 1 FROM kpi_totals"
    )


def downgrade() -> None:
    op.drop_table("kpi_totals_versions")
