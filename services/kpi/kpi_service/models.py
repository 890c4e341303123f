"""The KPI store (its own database): the event log, facts, daily aggregates and totals.

* ``kpi_event_log``: every event applied, in arrival order (``sequence``), for rebuilds.
* ``kpi_facts``: one row per visit, issue, audit, purchase, customer or complaint: the
  merged fields (``state``), the contribution last added to the aggregates (``applied``),
  and the days a period read selects it by (``day``, ``limit_day``); the columns the
  database derives from it as it is written (:data:`DERIVED`), which the policies' figures
  of a period count.
* ``kpi_daily``: counts per tenant, tenant-local day, region, department and assignee; what
  ``GET /kpis`` sums.
* ``kpi_monthly``: the same counts per tenant-local month (its first day): ``GET /kpis``
  sums whole months here and only the days of partial months in ``kpi_daily``.
* ``kpi_customer_spans`` / ``kpi_span_customers``: per tenant, calendar month or year and
  customer, its visits due (and completed) in it; per tenant and month or year, the customers
  with some (customer_periods.py): ``GET /kpis`` reads a whole month's or year's distinct
  customers in one row.
* ``kpi_purchase_amounts``: the purchases' units and plain amounts per tenant and day or
  month (``GET /kpis``' sales of a period: its months' and edge days' rows).
* ``kpi_totals``: all-time counts per tenant, fact kind and the metric labels (region,
  department, reason, severity, channel); what ``/metrics`` reads.
* ``kpi_totals_versions``: per tenant, a number raised in the same transaction as any change
  to its ``kpi_totals`` rows (never lowered, never deleted): ``/metrics`` renders the
  business families again only when the sum over the tenants has moved (collector.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement

from revisit_common.db import UtcDateTime

from .customer_periods import COLUMNS as CUSTOMER_COLUMNS
from .domain import COUNTS

metadata = sa.MetaData()
DIM = sa.String(200)
ID = sa.String(100)


def _counts() -> list[sa.Column]:
    return [sa.Column(name, sa.Integer, nullable=False, server_default="0") for name in COUNTS]


event_log = sa.Table(
    "kpi_event_log",
    metadata,
    sa.Column(
        "sequence",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("event_id", ID, nullable=False, unique=True),
    sa.Column("tenant_id", ID, nullable=False),
    sa.Column("type", ID, nullable=False),
    sa.Column("time", sa.String(64), nullable=False),
    sa.Column("source", sa.String(200), nullable=False),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("region", DIM, nullable=False),
    sa.Column("dataversion", sa.Integer, nullable=False),
    sa.Column("correlationid", sa.String(200)),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("logged_at", UtcDateTime, nullable=False),
)

# --------------------------------------------------------------------------- derived columns
# Each read from the fact's merged fields (``state``) or from the contribution the rules made
# of it (``applied``), for its kind only (NULL for the others):
# * visit: ``customer_id`` (NULL when absent or ""), its ``reason`` and the ``visits_due``
#   / ``visits_completed`` flags of its contribution (``due``, ``completed``);
# * complaint: ``on_time``, the contribution's ``complaints_resolved_on_time`` (its resolve
#   limit day is ``limit_day``);
# * purchase: ``units`` (the contribution's ``units_sold``), and its amount in hundredths
#   (``cents``) with the number of its decimals (``places``) when the amount is a plain
#   decimal of at most 15 digits and 2 decimals (what the customer service sends); NULL
#   otherwise, and then the store reads that fact's amount itself (policy_kpis.amount).
# Stored on PostgreSQL, virtual on SQLite (which cannot add a stored column to a table).
# PostgreSQL: each expression reads one path in one pass over the JSON text (the cost of a
# derived column is parsing; json_extract_path_text parses once where ``->`` then ``->>``
# parse twice), the amount's checks done by one regular expression each.
_PLAIN_PG = r"^[0-9]{1,15}(?:\.[0-9]{0,2})?$"  # the whole amount, if plain
_PLACES_PG = r"^[0-9]{1,15}\.?([0-9]{0,2})$"  # its decimals (read where cents is not NULL)


def _pg(kind: str, expression: str) -> str:
    return f"CASE WHEN kind = '{kind}' THEN {expression} END"


def _path(column: str, *keys: str) -> str:
    return f"json_extract_path_text({column}, {', '.join(repr(k) for k in keys)})"


_PG_AMOUNT = _path("state", "fields", "amount")
_SQ_AMOUNT = "CAST(json_extract(state, '$.fields.amount') AS TEXT)"
_SQ_DOT = f"instr({_SQ_AMOUNT}, '.')"
_SQ_PLACES = f"CASE WHEN {_SQ_DOT} = 0 THEN 0 ELSE length({_SQ_AMOUNT}) - {_SQ_DOT} END"
_SQ_PLAIN = (
    # a JSON number with a fraction is a REAL to SQLite, which writes it with 15 digits
    f"(json_type(state, '$.fields.amount') IN ('text', 'integer') "
    f"AND {_SQ_AMOUNT} GLOB '[0-9]*' AND {_SQ_AMOUNT} NOT GLOB '*[^0-9.]*' "
    f"AND instr(substr({_SQ_AMOUNT}, {_SQ_DOT} + 1), '.') = 0 "
    f"AND {_SQ_PLACES} <= 2 AND length({_SQ_AMOUNT}) - {_SQ_PLACES} <= 16 "
    f"AND ({_SQ_DOT} > 0 OR length({_SQ_AMOUNT}) <= 15))"
)
_SQ_PLACES_IF = f"CASE WHEN {_SQ_PLAIN} THEN {_SQ_PLACES} END"


def _sq(kind: str, expression: str) -> str:
    return f"CASE WHEN kind = '{kind}' THEN {expression} END"


# name -> (type, PostgreSQL expression, SQLite expression)
_DERIVED: dict[str, tuple[sa.types.TypeEngine, str, str]] = {
    "customer_id": (
        sa.Text(),
        _pg("visit", f"NULLIF({_path('state', 'fields', 'customer_id')}, '')"),
        _sq("visit", "NULLIF(CAST(json_extract(state, '$.fields.customer_id') AS TEXT), '')"),
    ),
    "reason": (
        sa.Text(),
        _pg("visit", _path("applied", "reason")),
        _sq("visit", "json_extract(applied, '$.reason')"),
    ),
    "due": (
        sa.SmallInteger(),
        _pg("visit", f"CAST({_path('applied', 'counts', 'visits_due')} AS smallint)"),
        _sq("visit", "json_extract(applied, '$.counts.visits_due')"),
    ),
    "completed": (
        sa.SmallInteger(),
        _pg("visit", f"CAST({_path('applied', 'counts', 'visits_completed')} AS smallint)"),
        _sq("visit", "json_extract(applied, '$.counts.visits_completed')"),
    ),
    "on_time": (
        sa.SmallInteger(),
        _pg(
            "complaint",
            f"CAST({_path('applied', 'counts', 'complaints_resolved_on_time')} AS smallint)",
        ),
        _sq("complaint", "json_extract(applied, '$.counts.complaints_resolved_on_time')"),
    ),
    "units": (
        sa.BigInteger(),
        _pg("purchase", f"CAST({_path('applied', 'counts', 'units_sold')} AS bigint)"),
        _sq("purchase", "json_extract(applied, '$.counts.units_sold')"),
    ),
    "cents": (
        sa.BigInteger(),
        _pg(
            "purchase",
            f"CAST(CAST(substring({_PG_AMOUNT} FROM '{_PLAIN_PG}') AS numeric) * 100 AS bigint)",
        ),
        _sq(
            "purchase",
            f"CAST(replace({_SQ_AMOUNT}, '.', '') AS INTEGER) "
            f"* (CASE {_SQ_PLACES_IF} WHEN 0 THEN 100 WHEN 1 THEN 10 WHEN 2 THEN 1 END)",
        ),
    ),
    "places": (
        sa.SmallInteger(),
        _pg("purchase", f"length(substring({_PG_AMOUNT} FROM '{_PLACES_PG}'))"),
        _sq("purchase", _SQ_PLACES_IF),
    ),
}
DERIVED = {name: type_ for name, (type_, _, _) in _DERIVED.items()}


class Derived(ColumnElement):
    """The generation expression of derived column ``name``, in the dialect's JSON syntax."""

    inherit_cache = True

    def __init__(self, name: str):
        self.name = name


@compiles(Derived)
def _derived_sqlite(element: Derived, compiler, **kw) -> str:
    return _DERIVED[element.name][2]


@compiles(Derived, "postgresql")
def _derived_postgres(element: Derived, compiler, **kw) -> str:
    return _DERIVED[element.name][1]


def derived_column(name: str, persisted: bool | None = None) -> sa.Column:
    """Derived column ``name`` (stored on PostgreSQL, virtual on SQLite: ``persisted``)."""
    return sa.Column(name, DERIVED[name], sa.Computed(Derived(name), persisted=persisted))


facts = sa.Table(
    "kpi_facts",
    metadata,
    sa.Column("tenant_id", ID, primary_key=True),
    sa.Column("kind", sa.String(20), primary_key=True),
    sa.Column("entity_id", ID, primary_key=True),
    sa.Column("state", sa.JSON, nullable=False),
    sa.Column("applied", sa.JSON),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    # The tenant-local day the fact counts on (its contribution's), and a complaint's resolve
    # limit day: the period reads of the policies' figures and the reports take only the
    # facts of their period (NULL: stored before revision 0007, read by every period).
    sa.Column("day", sa.Date),
    sa.Column("limit_day", sa.Date),
    # What the policies' figures count of a fact (policy_kpis.py), derived by the database
    # in the statement that writes the fact (generated columns, revision 0008), so that a
    # period's figures are SQL aggregates over narrow columns, not a decoding of every fact.
    *(derived_column(name) for name in DERIVED),
    sa.Index("kpi_facts_day", "tenant_id", "kind", "day"),
    sa.Index("kpi_facts_limit_day", "tenant_id", "kind", "limit_day"),
)
# The policies' period reads (store.visit_customers, purchase_sums) read these only, not the
# facts' rows (index-only scans on PostgreSQL): due visits with a customer (a period's edge
# days), and purchases (revision 0008; dropped by revision 0011, :data:`DROPPED_INDEXES`).
FIGURE_INDEXES = {
    "kpi_facts_visit_customers": (
        ("tenant_id", "day", "customer_id", "reason", "completed"),
        "kind = 'visit' AND due = 1 AND customer_id IS NOT NULL",
    ),
    "kpi_facts_purchase_sums": (
        ("tenant_id", "day", "cents", "places", "units"),
        "kind = 'purchase'",
    ),
}
# Revision 0011: the purchases' sums are read from kpi_purchase_amounts.
DROPPED_INDEXES = ("kpi_facts_purchase_sums",)
for _name, (_columns, _where) in FIGURE_INDEXES.items():
    if _name in DROPPED_INDEXES:
        continue
    sa.Index(
        _name,
        *(facts.c[c] for c in _columns),
        postgresql_where=sa.text(_where),
        sqlite_where=sa.text(_where),
    )


def _by_period(name: str, period: str) -> sa.Table:
    """Counts per tenant, tenant-local ``period`` (a date), region, department, assignee."""
    return sa.Table(
        name,
        metadata,
        sa.Column("tenant_id", ID, primary_key=True),
        sa.Column(period, sa.Date, primary_key=True),
        sa.Column("region", DIM, primary_key=True),
        sa.Column("department", DIM, primary_key=True),
        sa.Column("assignee", DIM, primary_key=True),
        *_counts(),
    )


daily = _by_period("kpi_daily", "day")
monthly = _by_period("kpi_monthly", "month")  # the month's first day

# The other reads of ``GET /kpis`` by index only (revision 0010), each index holding what its
# read takes: complaints by resolve limit day with their on-time flag (store.
# complaints_by_limit), the purchases whose amount is not plain (store.purchase_sums reads
# their state), and the months with customers (store.customers_up_to reads all of them).
PERIOD_INDEXES = {
    "kpi_facts_complaint_limits": (
        facts,
        ("tenant_id", "limit_day", "on_time"),
        "kind = 'complaint'",
    ),
    "kpi_facts_other_amounts": (facts, ("tenant_id", "day"), "kind = 'purchase' AND cents IS NULL"),
    "kpi_monthly_customers": (
        monthly,
        ("tenant_id", "month", "region", "customers"),
        "customers <> 0",
    ),
}
for _name, (_table, _columns, _where) in PERIOD_INDEXES.items():
    sa.Index(
        _name,
        *(_table.c[c] for c in _columns),
        postgresql_where=sa.text(_where),
        sqlite_where=sa.text(_where),
    )

# Distinct customers due and visited per calendar month and year (customer_periods.py,
# revision 0011): per customer of a span, its visits that count; per span, the customers
# with some (a whole month's or year's figures: one row).
SPAN = sa.String(5)  # customer_periods.MONTH or YEAR
customer_spans = sa.Table(
    "kpi_customer_spans",
    metadata,
    sa.Column("tenant_id", ID, primary_key=True),
    sa.Column("span", SPAN, primary_key=True),
    sa.Column("first_day", sa.Date, primary_key=True),
    sa.Column("customer_id", sa.Text, primary_key=True),
    *(sa.Column(n, sa.Integer, nullable=False, server_default="0") for n in CUSTOMER_COLUMNS),
)
span_customers = sa.Table(
    "kpi_span_customers",
    metadata,
    sa.Column("tenant_id", ID, primary_key=True),
    sa.Column("span", SPAN, primary_key=True),
    sa.Column("first_day", sa.Date, primary_key=True),
    *(sa.Column(n, sa.Integer, nullable=False, server_default="0") for n in CUSTOMER_COLUMNS),
)
CUSTOMER_TABLES = (customer_spans, span_customers)

# The purchases' units and plain amounts per tenant and day or month (``span`` "day" or
# "month", its first day; revision 0011), summed from the facts' derived columns as they are
# written (bulk.py): ``cents`` the plain amounts' hundredths, ``plain_<n>`` how many plain
# amounts have ``n`` decimals (the most decimals: the highest ``n`` with some). A period's
# sums are its whole months' rows and its edge days' (store.purchase_sums), however many
# purchases it holds.
PLAIN_PLACES = (0, 1, 2)
purchase_amounts = sa.Table(
    "kpi_purchase_amounts",
    metadata,
    sa.Column("tenant_id", ID, primary_key=True),
    sa.Column("span", SPAN, primary_key=True),
    sa.Column("first_day", sa.Date, primary_key=True),
    sa.Column("units", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("cents", sa.BigInteger, nullable=False, server_default="0"),
    *(
        sa.Column(f"plain_{n}", sa.Integer, nullable=False, server_default="0")
        for n in PLAIN_PLACES
    ),
)
SUMMARY_TABLES = (*CUSTOMER_TABLES, purchase_amounts)  # what a rebuild rebuilds besides

totals = sa.Table(
    "kpi_totals",
    metadata,
    sa.Column("tenant_id", ID, primary_key=True),
    sa.Column("kind", sa.String(20), primary_key=True),
    sa.Column("region", DIM, primary_key=True),
    sa.Column("department", DIM, primary_key=True),
    sa.Column("reason", DIM, primary_key=True),
    sa.Column("severity", DIM, primary_key=True),
    sa.Column("channel", DIM, primary_key=True),
    *_counts(),
)

totals_versions = sa.Table(
    "kpi_totals_versions",
    metadata,
    sa.Column("tenant_id", ID, primary_key=True),
    sa.Column("version", sa.BigInteger, nullable=False, server_default="0"),
)

AGGREGATES = (daily, monthly, totals)  # every table of counts a fact's contribution moves
