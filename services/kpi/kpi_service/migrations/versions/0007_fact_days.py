"""kpi_facts.day and limit_day: a period's facts read by index, not every fact of the tenant

``GET /kpis`` (the policies' figures) and the reports read the facts of their period only:
by the day the fact counts on, and a complaint by its resolve limit day. Facts stored before
this revision have neither (NULL) and are read by every period, as before, until their fact
next changes or ``python -m kpi_service.rebuild`` runs.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    with op.batch_alter_table("kpi_facts") as batch:
        batch.add_column(sa.Column("day", sa.Date))
        batch.add_column(sa.Column("limit_day", sa.Date))
    op.create_index("kpi_facts_day", "kpi_facts", ["tenant_id", "kind", "day"])
    op.create_index("kpi_facts_limit_day", "kpi_facts", ["tenant_id", "kind", "limit_day"])


def downgrade() -> None:
    op.drop_index("kpi_facts_limit_day", table_name="kpi_facts")
    op.drop_index("kpi_facts_day", table_name="kpi_facts")
    with op.batch_alter_table("kpi_facts") as batch:
        batch.drop_column("limit_day")
        batch.drop_column("day")
