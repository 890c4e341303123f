"""The KPI store's rows: the event log, the facts, and the aggregates' reads and writes.

No rules here (domain.py decides, projection.py applies): this module logs events and reads
the log back, reads facts (locked ``FOR UPDATE``, in key order) with their tenants' time
zones, writes facts and adds counts to ``kpi_daily``, ``kpi_monthly`` and ``kpi_totals``
(upserts that add to the row, so concurrent writers on PostgreSQL never lose an increment;
rows whose counts all come back to zero are deleted), in a few statements for many rows
(bulk.py); every change to a tenant's ``kpi_totals`` raises its ``kpi_totals_versions`` row
in the same transaction (what ``/metrics`` checks before rendering again). Two replicas
creating the same fact at once collide on its primary key and the loser's event is retried
by the consumer, finding the row. Reads (``GET /kpis``, ``/metrics``) touch the aggregates:
a period's whole months in ``kpi_monthly``, the days of its partial edge months in
``kpi_daily``; the reports read the facts of a few kinds (:func:`facts_of`); the
policies' figures are counted by the database from the customers per month and year
(customer_periods.py) and the facts' derived columns of the period's edge days
(:func:`visit_customers`), the complaints' (:func:`complaints_by_limit`), and the purchases'
sums per day and month (:func:`purchase_sums`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.orm import Session

from revisit_common import tenant_settings
from revisit_common.messaging.envelope import Envelope

from . import bulk, customer_periods, domain
from .domain import COUNTS, Key
from .models import (
    FIGURE_INDEXES,
    PERIOD_INDEXES,
    PLAIN_PLACES,
    customer_spans,
    daily,
    event_log,
    facts,
    monthly,
    purchase_amounts,
    span_customers,
    totals,
    totals_versions,
)

TABLES = {"daily": daily, "monthly": monthly, "totals": totals}  # domain.AGGREGATES' tables
AGGREGATE_TABLES = {table.name: table for table in (daily, monthly)}  # what _summed reads


# --------------------------------------------------------------------------- event log


def logged_batches(session: Session, batch: int) -> Iterator[list[Envelope]]:
    """The event log in order, ``batch`` rows at a time."""
    last = 0
    while True:
        rows = session.execute(
            sa.select(event_log)
            .where(event_log.c.sequence > last)
            .order_by(event_log.c.sequence)
            .limit(batch)
        ).all()
        if not rows:
            return
        yield [
            Envelope(
                id=row.event_id,
                source=row.source,
                type=row.type,
                time=row.time,
                subject=row.subject,
                tenantid=row.tenant_id,
                region=row.region,
                dataversion=row.dataversion,
                correlationid=row.correlationid,
                data=dict(row.data),
            )
            for row in rows
        ]
        last = rows[-1].sequence


# --------------------------------------------------------------------------- facts


def read_facts(
    session: Session, keys: list[Key], log: Sequence[Envelope], now: datetime
) -> tuple[dict[Key, tuple], dict[str, str]]:
    """Log ``log`` (in order); then the (state, applied) of the stored facts among ``keys``
    (sorted), locked FOR UPDATE in key order, and the time zone of each of their tenants."""
    return bulk.read(session, keys, log, now)


def tenant_facts(session: Session, tenant: str, batch: int = 500) -> Iterator[list[tuple]]:
    """Every fact of ``tenant`` as (key, state, applied), in key order, ``batch`` at a time."""
    after = ("", "")
    while True:
        rows = session.execute(
            sa.select(facts.c.kind, facts.c.entity_id, facts.c.state, facts.c.applied)
            .where(facts.c.tenant_id == tenant, sa.tuple_(facts.c.kind, facts.c.entity_id) > after)
            .order_by(facts.c.kind, facts.c.entity_id)
            .limit(batch)
        ).all()
        if not rows:
            return
        yield [((tenant, r.kind, r.entity_id), r.state, r.applied) for r in rows]
        after = (rows[-1].kind, rows[-1].entity_id)


def facts_of(
    session: Session,
    tenant: str,
    kinds: Sequence[str],
    since: date,
    until: date,
    by: str = "day",
) -> Iterator[tuple[str, dict]]:
    """The facts of ``tenant`` of ``kinds`` whose ``by`` day (``day`` or ``limit_day``) is
    from ``since`` to ``until``, and those with none (stored before revision 0007), as
    (kind, state), one kind at a time (index ranges of ``kpi_facts_day`` /
    ``_limit_day``): what the figures the aggregates cannot give read. A superset of what a
    figure counts: the figures check each fact's days themselves."""
    column = facts.c[by]
    for kind in kinds:
        rows = session.execute(
            sa.select(facts.c.state).where(
                facts.c.tenant_id == tenant,
                facts.c.kind == kind,
                sa.or_(column.between(since, until), column.is_(None)),
            )
        ).scalars()
        for state in rows:
            yield kind, state


def _indexed(index: str) -> sa.TextClause:
    """The condition of partial index ``index`` as written in it (literals, not parameters:
    so the planners, SQLite's and PostgreSQL's generic plans too, can use the index)."""
    if index in FIGURE_INDEXES:
        return sa.text(FIGURE_INDEXES[index][1])
    return sa.text(PERIOD_INDEXES[index][2])


def visit_customers(
    session: Session, tenant: str, start: date, end: date, reasons: Sequence[str]
) -> dict[str | None, tuple[int, int]]:
    """Distinct customers of ``tenant`` with a visit due on a day ``start``..``end`` (its
    contribution's ``visits_due``), and of those with a completed one: overall (None) and
    for visits of each of ``reasons``.

    A whole calendar month or year: its counters (``kpi_span_customers``, one row). Any
    other period: counted by the database per customer over the customers' rows of its
    whole years and months (``kpi_customer_spans``) and the visits of its edge days (index
    ``kpi_facts_visit_customers``), then summed (:func:`_customer_levels`)."""
    groups = {reason: name for name, reason in customer_periods.GROUPS.items()}
    known = all(reason in groups for reason in reasons)
    span = customer_periods.one_span(start, end) if known else None
    if span is not None:
        table = span_customers
        row = session.execute(
            sa.select(*(table.c[n] for n in customer_periods.COLUMNS)).where(
                table.c.tenant_id == tenant, table.c.span == span[0], table.c.first_day == span[1]
            )
        ).one_or_none()
        counts = dict(row._mapping) if row is not None else {}
        return {
            reason: (int(counts.get(f"{name}_due", 0)), int(counts.get(f"{name}_visited", 0)))
            for reason, name in ((None, "customers"), *((r, groups[r]) for r in reasons))
        }
    whole, days = customer_periods.spans(start, end) if known else ([], [(start, end)])
    return _customer_levels(session, tenant, whole, days, reasons)


def _customer_levels(
    session: Session,
    tenant: str,
    whole: Sequence[tuple[str, date, date]],
    days: Sequence[tuple[date, date]],
    reasons: Sequence[str],
) -> dict[str | None, tuple[int, int]]:
    """:func:`visit_customers` over the customers' rows of spans ``whole`` (span, first,
    last first day) and the visits of ``days``: one row per customer, then sums.

    Per customer, one maximum per figure, the fewest a customer's row needs: ``visited`` 1
    if a visit was completed (else NULL), and per reason 2 if a visit of it was completed,
    1 if one was only due, NULL without one."""
    parts = []
    rows = customer_spans
    groups = {reason: name for name, reason in customer_periods.GROUPS.items()}
    for span, first, last in whole:
        levels = [sa.case((rows.c.customers_visited > 0, 1)).label("visited")]
        for n, reason in enumerate(reasons):
            due, visited = rows.c[f"{groups[reason]}_due"], rows.c[f"{groups[reason]}_visited"]
            levels.append(sa.case((visited > 0, 2), (due > 0, 1)).label(f"r{n}"))
        parts.append(
            sa.select(rows.c.customer_id, *levels).where(
                rows.c.tenant_id == tenant,
                rows.c.span == span,
                rows.c.first_day.between(first, last),
            )
        )
    done = facts.c.completed == 1
    for first, last in days:
        levels = [sa.case((done, 1)).label("visited")]
        for n, reason in enumerate(reasons):
            level = sa.case((facts.c.reason == reason, sa.case((done, 2), else_=1)))
            levels.append(level.label(f"r{n}"))
        parts.append(
            sa.select(facts.c.customer_id, *levels).where(
                facts.c.tenant_id == tenant,
                facts.c.day.between(first, last),
                _indexed("kpi_facts_visit_customers"),
            )
        )
    each = (sa.union_all(*parts) if len(parts) > 1 else parts[0]).subquery()
    maxima = [sa.func.max(each.c.visited).label("visited")]
    maxima += [sa.func.max(each.c[f"r{n}"]).label(f"r{n}") for n in range(len(reasons))]
    per_customer = sa.select(*maxima).group_by(each.c.customer_id).subquery()
    counts = [sa.func.count(), sa.func.count(per_customer.c.visited)]
    for n in range(len(reasons)):
        level = per_customer.c[f"r{n}"]
        counts += [sa.func.count(level), sa.func.count(sa.case((level == 2, 1)))]
    row = session.execute(sa.select(*counts).select_from(per_customer)).one()
    out = {None: (int(row[0]), int(row[1]))}
    for n, reason in enumerate(reasons):
        out[reason] = (int(row[2 + 2 * n]), int(row[3 + 2 * n]))
    return out


def complaints_by_limit(session: Session, tenant: str, start: date, end: date) -> tuple[int, int]:
    """Complaints of ``tenant`` whose resolve limit day is ``start``..``end``, and of those
    resolved on time (their contribution's ``complaints_resolved_on_time``): index
    ``kpi_facts_complaint_limits`` only."""
    row = session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(facts.c.on_time), 0)).where(
            facts.c.tenant_id == tenant,
            facts.c.limit_day.between(start, end),
            _indexed("kpi_facts_complaint_limits"),
        )
    ).one()
    return int(row[0]), int(row[1])


def purchase_sums(
    session: Session, tenant: str, start: date, end: date, since: date
) -> dict[str, dict]:
    """The purchases of ``tenant`` on the days ``start``..``end`` ("period") and
    ``since``..the day before ``start`` ("previous"): units (``units``), the sum of the plain
    amounts in hundredths (``cents``, None without any) with their most decimals
    (``places``), and the amounts that are not plain, as stored (``others``): the sums of
    each period's whole months and edge days (``kpi_purchase_amounts``), and the facts of
    index ``kpi_facts_other_amounts``."""
    out = {"period": _amounts(session, tenant, start, end)}
    out["previous"] = {"units": 0, "cents": None, "places": None, "others": []}
    if since < start:
        out["previous"] = _amounts(session, tenant, since, start - timedelta(days=1))
        out["previous"]["units"] = 0
    days = (facts.c.tenant_id == tenant, facts.c.day.between(since, end))
    others = session.execute(
        sa.select(facts.c.day, facts.c.state).where(*days, _indexed("kpi_facts_other_amounts"))
    )
    for day, state in others:
        fields = (state or {}).get("fields") or {}
        out["period" if day >= start else "previous"]["others"].append(fields.get("amount"))
    return out


def _amounts(session: Session, tenant: str, start: date, end: date) -> dict:
    """Units, plain amounts' hundredths and most decimals of the days ``start``..``end``:
    its whole months' rows of ``kpi_purchase_amounts`` and its edge days'."""
    table = purchase_amounts
    months, days = domain.split_period(start, end)
    spans = [sa.and_(table.c.span == "month", table.c.first_day.between(*months))] if months else []
    spans += [sa.and_(table.c.span == "day", table.c.first_day.between(a, b)) for a, b in days]
    plain = [sa.func.coalesce(sa.func.sum(table.c[f"plain_{n}"]), 0) for n in PLAIN_PLACES]
    row = session.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(table.c.units), 0),
            sa.func.coalesce(sa.func.sum(table.c.cents), 0),
            *plain,
        ).where(table.c.tenant_id == tenant, sa.or_(*spans))
    ).one()
    most = max((n for n, count in zip(PLAIN_PLACES, row[2:], strict=True) if count), default=None)
    cents = None if most is None else int(row[1])
    return {"units": int(row[0]), "cents": cents, "places": most, "others": []}


def write_facts(
    session: Session,
    inserts: list[dict],
    updates: list[dict],
    counts: Mapping[str, list[dict]],
    now: datetime,
    members: Sequence[dict] = (),
) -> None:
    """New facts and changed ones (rows: tenant_id, kind, entity_id, state, applied), then
    ``counts`` (aggregate name of domain.AGGREGATES -> rows of a bucket's keys and the counts
    to add) added to the aggregate tables, the rows that come back to zero deleted, and
    ``members`` (customer_periods.member_rows) to the customers' rows of their spans."""
    rows = {TABLES[name].name: value for name, value in counts.items()}
    # raises the changed totals' versions
    bulk.write(session, inserts, updates, rows, now, list(members))


def raise_every_version(session: Session) -> None:
    """Raise every tenant's totals version (the totals were rebuilt)."""
    session.execute(totals_versions.update().values(version=totals_versions.c.version + 1))


# --------------------------------------------------------------------------- aggregates


@lru_cache(maxsize=64)
def _summed(
    tables: tuple[str, ...], by: str | None, names: tuple[str, ...], only: str | None
) -> sa.Select:
    """The sums of ``names`` (per ``by``, if any) over the rows of ``tables`` (names of
    ``kpi_monthly`` and ``kpi_daily``, each a range of its days: parameters ``tenant``,
    ``from_<n>`` and ``to_<n>``, ``n`` its place) that meet condition ``only``. Made once
    per shape: a statement of many columns costs more to build than to run."""
    selects = []
    for n, table_name in enumerate(tables):
        table = AGGREGATE_TABLES[table_name]
        column = table.c.month if table is monthly else table.c.day
        where = [
            table.c.tenant_id == sa.bindparam("tenant"),
            column >= sa.bindparam(f"from_{n}"),
            column <= sa.bindparam(f"to_{n}"),
        ]
        if only is not None:
            where.append(sa.text(only))
        columns = [*([table.c[by]] if by else []), *(table.c[name] for name in names)]
        selects.append(sa.select(*columns).where(*where))
    rows = (sa.union_all(*selects) if len(selects) > 1 else selects[0]).subquery()
    sums = [sa.func.coalesce(sa.func.sum(rows.c[name]), 0).label(name) for name in names]
    query = sa.select(*([rows.c[by]] if by else []), *sums)
    return query.group_by(rows.c[by]) if by else query


def _period_sums(
    session: Session,
    tenant: str,
    start: date,
    end: date,
    by: str | None,
    names: tuple[str, ...],
    only: str | None = None,
) -> sa.Result:
    """The rows of :func:`_summed` for the days ``start``..``end``: whole months from
    ``kpi_monthly``, the days of partial months from ``kpi_daily``."""
    months, days = domain.split_period(start, end)
    ranges = [(monthly.name, *months)] if months else []
    ranges += [(daily.name, first, last) for first, last in days]
    params = {"tenant": tenant}
    for n, (_, first, last) in enumerate(ranges):
        params[f"from_{n}"], params[f"to_{n}"] = first, last
    query = _summed(tuple(name for name, _, _ in ranges), by, names, only)
    return session.execute(query, params)


def period_counts(
    session: Session,
    tenant: str,
    start: date,
    end: date,
    by: str | None = None,
    names: tuple[str, ...] = COUNTS,
) -> dict[str | None, dict[str, int]]:
    """Summed counts ``names`` (all by default) of the days ``start``..``end``, per value of
    dimension ``by``."""
    out = {}
    for row in _period_sums(session, tenant, start, end, by, names).mappings():
        out[row[by] if by else None] = {name: int(row[name]) for name in names}
    return out


def customers_up_to(
    session: Session, tenant: str, end: date, by_region: bool = False
) -> dict[str | None, int]:
    """Customers registered on or before ``end``: in all (None), or per region when asked
    (the regions with some only). The months' from index ``kpi_monthly_customers`` only (the
    rows with customers: few, however many other counts a tenant's months hold)."""
    by = "region" if by_region else None
    only = PERIOD_INDEXES["kpi_monthly_customers"][2]
    found = _period_sums(session, tenant, date.min, end, by, ("customers",), only).all()
    if not by_region:
        return {None: int(found[0][-1])}
    return {row.region: int(row.customers) for row in found if row.customers}


def tenant_ids(session: Session) -> list[str]:
    """The tenants this store has settings for (known before their first fact)."""
    table = tenant_settings.settings_table
    return list(session.execute(sa.select(table.c.tenant_id)).scalars())


def tenant_versions(session: Session) -> dict[str, int]:
    """Each tenant's totals version: it moves whenever the tenant's ``kpi_totals`` change."""
    query = sa.select(totals_versions.c.tenant_id, totals_versions.c.version)
    return {tenant: int(version) for tenant, version in session.execute(query)}


def metric_totals(
    session: Session,
    labels: Mapping[str, Sequence[str]],
    kept: Mapping[str, Sequence[str]],
    tenants: Sequence[str] | None = None,
) -> list[dict]:
    """The ``kpi_totals`` counts of ``tenants`` (None: all) summed by the database per
    tenant, kind and the columns ``labels[kind]`` of that kind (its other columns ""); a
    column of ``kept`` keeps those values only, any other value reads "other"."""
    columns = []
    for name in sorted({name for names in labels.values() for name in names}):
        value = totals.c[name]
        if name in kept:
            value = sa.case((value.in_(kept[name]), value), else_=sa.literal("other"))
        kinds = sorted(kind for kind, names in labels.items() if name in names)
        columns.append(sa.case((totals.c.kind.in_(kinds), value), else_=sa.literal("")).label(name))
    keys = [totals.c.tenant_id, totals.c.kind, *columns]
    sums = [sa.func.sum(totals.c[name]).label(name) for name in COUNTS]
    query = sa.select(*keys, *sums).group_by(*keys)
    few = tenants is None or len(tenants) <= 200
    if tenants is not None and few:
        query = query.where(totals.c.tenant_id.in_(tenants))
    rows = session.execute(query).mappings()
    if few:
        return [dict(row) for row in rows]
    wanted = set(tenants)  # many: read them all rather than send a long list
    return [dict(row) for row in rows if row["tenant_id"] in wanted]


def all_totals(session: Session) -> list[dict]:
    """Every row of ``kpi_totals``: the all-time counts behind ``/metrics``."""
    return [dict(row) for row in session.execute(sa.select(totals)).mappings()]
