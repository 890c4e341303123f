"""Distinct customers per month and year, purchases' sums per day and month, kept as facts change

At 1M events a year's ``customers_due`` / ``customers_visited`` (and the rollout reasons')
were counted over every due visit of the year (~90k index entries). ``kpi_customer_spans``
holds per tenant, month or year and customer its visits that count, ``kpi_span_customers``
per tenant and month or year the customers with some (customer_periods.py, written by the
projection): a whole month or year is one row. Both are filled here from the stored facts'
derived columns (what index ``kpi_facts_visit_customers`` holds), as the projection would.

Likewise a year's units and amounts sold summed every purchase of the year (~20k):
``kpi_purchase_amounts`` holds their sums per tenant and day or month (models.py), filled
here from the purchases' derived columns (what index ``kpi_facts_purchase_sums`` held: no
longer read, it is dropped, one index less to write per purchase).
"""

import sqlalchemy as sa
from alembic import op

from kpi_service.customer_periods import COLUMNS, GROUPS, MONTH, YEAR
from kpi_service.models import DROPPED_INDEXES, FIGURE_INDEXES, PLAIN_PLACES

revision = "0011"
down_revision = "0010"
ID = sa.String(100)


def _keys(*extra: sa.Column) -> list[sa.Column]:
    return [
        sa.Column("tenant_id", ID, primary_key=True),
        sa.Column("span", sa.String(5), primary_key=True),
        sa.Column("first_day", sa.Date, primary_key=True),
        *extra,
        *(sa.Column(n, sa.Integer, nullable=False, server_default="0") for n in COLUMNS),
    ]


def _first_day(span: str) -> str:
    if span == "day":
        return "day"
    if op.get_bind().dialect.name == "postgresql":
        return f"CAST(date_trunc('{span}', day) AS date)"
    return f"date(day, 'start of {span}')"


def upgrade() -> None:
    op.create_table(
        "kpi_customer_spans", *_keys(sa.Column("customer_id", sa.Text, primary_key=True))
    )
    op.create_table("kpi_span_customers", *_keys())
    for span in (MONTH, YEAR):
        start = _first_day(span)
        sums = []
        for reason in GROUPS.values():
            when = "" if reason is None else f"reason = '{reason}' AND "
            sums.append(f"sum(CASE WHEN {when}due = 1 THEN 1 ELSE 0 END)")
            sums.append(f"sum(CASE WHEN {when}completed = 1 THEN 1 ELSE 0 END)")
        op.execute(
            f"INSERT INTO kpi_customer_spans (tenant_id, span, first_day, customer_id, "
            f"{', '.join(COLUMNS)}) SELECT tenant_id, '{span}', {start}, customer_id, "
            f"{', '.join(sums)} FROM kpi_facts "
            f"WHERE kind = 'visit' AND due = 1 AND customer_id IS NOT NULL AND day IS NOT NULL "
            f"GROUP BY tenant_id, {start}, customer_id"
        )
    counted = ", ".join(f"sum(CASE WHEN {n} > 0 THEN 1 ELSE 0 END)" for n in COLUMNS)
    op.execute(
        f"INSERT INTO kpi_span_customers (tenant_id, span, first_day, {', '.join(COLUMNS)}) "
        f"SELECT tenant_id, span, first_day, {counted} FROM kpi_customer_spans "
        f"GROUP BY tenant_id, span, first_day"
    )
    _purchases()


def _purchases() -> None:
    plain = [f"plain_{n}" for n in PLAIN_PLACES]
    op.create_table(
        "kpi_purchase_amounts",
        sa.Column("tenant_id", ID, primary_key=True),
        sa.Column("span", sa.String(5), primary_key=True),
        sa.Column("first_day", sa.Date, primary_key=True),
        sa.Column("units", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("cents", sa.BigInteger, nullable=False, server_default="0"),
        *(sa.Column(n, sa.Integer, nullable=False, server_default="0") for n in plain),
    )
    counted = ", ".join(
        f"sum(CASE WHEN cents IS NOT NULL AND places = {n} THEN 1 ELSE 0 END)" for n in PLAIN_PLACES
    )
    for span in ("day", MONTH):
        start = _first_day(span)
        op.execute(
            f"INSERT INTO kpi_purchase_amounts (tenant_id, span, first_day, units, cents, "
            f"{', '.join(plain)}) SELECT tenant_id, '{span}', {start}, "
            f"sum(coalesce(units, 0)), sum(coalesce(cents, 0)), {counted} FROM kpi_facts "
            f"WHERE kind = 'purchase' AND day IS NOT NULL GROUP BY tenant_id, {start}"
        )
    for index in DROPPED_INDEXES:
        op.drop_index(index, table_name="kpi_facts")


def downgrade() -> None:
    for index in DROPPED_INDEXES:
        columns, where = FIGURE_INDEXES[index]
        condition = sa.text(where)
        op.create_index(
            index, "kpi_facts", list(columns), postgresql_where=condition, sqlite_where=condition
        )
    op.drop_table("kpi_purchase_amounts")
    op.drop_table("kpi_span_customers")
    op.drop_table("kpi_customer_spans")
