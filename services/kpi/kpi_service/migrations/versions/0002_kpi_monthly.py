"""kpi_monthly: the daily counts rolled up per tenant-local month, backfilled from kpi_daily

GET /kpis sums whole months of a period here and only the days of its partial edge months
in kpi_daily, so its cost no longer grows with the length of the period.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"

DIM = sa.String(200)
ID = sa.String(100)
PERIOD = ("tenant_id", "day", "region", "department", "assignee")


def _counts() -> list[str]:
    """The count columns of ``kpi_daily`` as 0001 made them (read from the database: a
    migration does not import the code it migrates for)."""
    columns = sa.inspect(op.get_bind()).get_columns("kpi_daily")
    return [c["name"] for c in columns if c["name"] not in PERIOD]


def upgrade() -> None:
    counts = _counts()
    op.create_table(
        "kpi_monthly",
        sa.Column("tenant_id", ID, primary_key=True),
        sa.Column("month", sa.Date, primary_key=True),  # the month's first day
        sa.Column("region", DIM, primary_key=True),
        sa.Column("department", DIM, primary_key=True),
        sa.Column("assignee", DIM, primary_key=True),
        *(sa.Column(n, sa.Integer, nullable=False, server_default="0") for n in counts),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:  # no daily row changes while the months are summed (writers wait)
        op.execute("LOCK TABLE kpi_daily IN SHARE ROW EXCLUSIVE MODE")
    month = "CAST(date_trunc('month', day) AS date)" if postgres else "date(day, 'start of month')"
    dims = "tenant_id, month, region, department, assignee"
    sums = ", ".join(f"sum({n})" for n in counts)
    nonzero = " OR ".join(f"sum({n}) <> 0" for n in counts)
    op.execute(
        f"INSERT INTO kpi_monthly ({dims}, {', '.join(counts)}) "
        f"SELECT tenant_id, {month} AS month, region, department, assignee, {sums} "
        f"FROM kpi_daily GROUP BY tenant_id, {month}, region, department, assignee "
        f"HAVING {nonzero}"
    )


def downgrade() -> None:
    op.drop_table("kpi_monthly")
