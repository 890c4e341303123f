"""The KPI store's SQL: log events, merge them into facts, keep the aggregates in step.

Every change to a fact subtracts the contribution it last made and adds its new one, in the
transaction that changed it, on ``kpi_daily``, ``kpi_monthly`` and ``kpi_totals`` (upserts that
add to the row, so concurrent writers on PostgreSQL never lose an increment). The fact row is read
``FOR UPDATE``; two replicas creating the same fact at once collide on its primary key and
the loser's event is retried by the consumer, finding the row. Rows whose counts all come
back to zero are deleted, so the aggregates depend only on the facts, never on the path
that led to them. Reads (``GET /kpis``, ``/metrics``) touch only the aggregates: a period's
whole months in ``kpi_monthly``, the days of its partial edge months in ``kpi_daily``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from revisit_common import tenant_settings
from revisit_common.db import utcnow
from revisit_common.messaging.envelope import Envelope

from . import bulk, domain
from .domain import COUNTS, DAILY_DIMS, MONTHLY_DIMS, TOTAL_DIMS, Contribution
from .models import AGGREGATES, daily, event_log, facts, monthly, totals

FACT_KEY = ("tenant_id", "kind", "entity_id")
_TARGETS = (
    (daily, DAILY_DIMS, domain.daily_key),
    (monthly, MONTHLY_DIMS, domain.monthly_key),
    (totals, TOTAL_DIMS, domain.totals_key),
)


# --------------------------------------------------------------------------- event log


def _log_row(envelope: Envelope) -> dict:
    return {
        "event_id": envelope.id,
        "tenant_id": envelope.tenantid,
        "type": envelope.type,
        "time": envelope.time,
        "source": envelope.source,
        "subject": envelope.subject or "",
        "region": envelope.region or "",
        "dataversion": envelope.dataversion,
        "correlationid": envelope.correlationid,
        "data": envelope.data,
    }


def log_event(session: Session, envelope: Envelope) -> None:
    session.execute(event_log.insert(), {**_log_row(envelope), "logged_at": utcnow()})


def logged_events(session: Session, batch: int) -> Iterator[Envelope]:
    """The event log in order, read ``batch`` rows at a time."""
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
        for row in rows:
            yield Envelope(
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
        last = rows[-1].sequence


# --------------------------------------------------------------------------- facts

_FACT_KEY = tuple(facts.c[name] == sa.bindparam(f"k_{name}") for name in FACT_KEY)
_FACT_READ = sa.select(facts.c.state, facts.c.applied).where(*_FACT_KEY).with_for_update()
_FACT_WRITE = facts.update().where(*_FACT_KEY)


def _fact_key(tenant: str, kind: str, entity: str) -> dict[str, str]:
    return {"k_tenant_id": tenant, "k_kind": kind, "k_entity_id": entity}


def apply_event(session: Session, envelope: Envelope) -> None:
    """Merge ``envelope`` into its fact and move the fact's contribution accordingly."""
    event = domain.Observed(envelope.type, envelope.id, envelope.time, envelope.data)
    found = domain.target(event)
    if found is None:
        return
    rule, entity = found
    tenant = envelope.tenantid
    key = _fact_key(tenant, rule.kind, entity)
    row = session.execute(_FACT_READ, key).first()
    state = dict(row.state) if row is not None else {}
    merged = domain.merge(state, event, rule)
    if row is not None and merged == state:
        return
    timezone = tenant_settings.load(session, tenant).timezone
    new = domain.contribution(rule.kind, merged, timezone)
    old = Contribution.from_json(row.applied) if row is not None else None
    values = {"state": merged, "applied": new.to_json() if new else None, "updated_at": utcnow()}
    if row is None:
        ident = {"tenant_id": tenant, "kind": rule.kind, "entity_id": entity}
        session.execute(facts.insert(), {**ident, **values})
    else:
        session.execute(_FACT_WRITE, {**key, **values})
    move(session, tenant, old, new)


def apply_events(
    session: Session, envelopes: Sequence[Envelope], log: Sequence[Envelope] = ()
) -> None:
    """``apply_event`` for each of ``envelopes`` in order, with the same resulting facts and
    aggregates, in two statements on PostgreSQL (bulk.py): ``log`` logged as ``log_event``
    would, the facts read and locked at once (in key order) with their tenants' time zones;
    the merges done in memory (a fact seen twice merges twice); then each changed fact
    written once, and its move from the contribution it had to the one it ends with summed
    per bucket into one upsert per aggregate table. Settings events must not be among
    ``envelopes`` (service.record_many applies those one at a time).
    """
    items = []
    for envelope in envelopes:
        event = domain.Observed(envelope.type, envelope.id, envelope.time, envelope.data)
        found = domain.target(event)
        if found is not None:
            rule, entity = found
            items.append(((envelope.tenantid, rule.kind, entity), event, rule))
    if not items and not log:
        return
    now = utcnow()
    keys = sorted({key for key, _, _ in items})
    stored, zones = bulk.read(session, keys, [_log_row(e) for e in log], now)
    states = {key: state for key, (state, _) in stored.items()}  # merge copies, never mutates
    changed: set[tuple] = set()
    for key, event, rule in items:
        state = states.get(key, {})
        merged = domain.merge(state, event, rule)
        if key in states and merged == state:
            continue
        states[key] = merged
        changed.add(key)
    inserts, updates = [], []
    sums: dict[str, dict[tuple, dict[str, int]]] = {table.name: {} for table, _, _ in _TARGETS}
    for key in sorted(changed):
        tenant, kind, entity = key
        new = domain.contribution(kind, states[key], zones[tenant])
        old = Contribution.from_json(stored[key][1]) if key in stored else None
        row = {
            "tenant_id": tenant,
            "kind": kind,
            "entity_id": entity,
            "state": states[key],
            "applied": new.to_json() if new else None,
        }
        (updates if key in stored else inserts).append(row)
        for table, _, bucket_of in _TARGETS:
            into_table = sums[table.name]
            for bucket, counts in domain.deltas(old, new, bucket_of).items():
                into = into_table.setdefault((tenant, *bucket), {})
                for name, value in counts.items():
                    into[name] = into.get(name, 0) + value
    if changed:
        rows = {table.name: _count_rows(dims, sums[table.name]) for table, dims, _ in _TARGETS}
        bulk.write(session, inserts, updates, rows, now)


def _count_rows(dims: tuple[str, ...], buckets: dict[tuple, dict]) -> list[dict]:
    """Rows of bucket keys and counts ((tenant, *dims) -> counts), in bucket order, those
    whose moves cancel out left out (their row is as it was)."""
    rows = []
    for bucket in sorted(buckets):
        counts = {name: value for name, value in buckets[bucket].items() if value}
        if counts:
            keys = dict(zip(dims, bucket[1:], strict=True))
            rows.append({"tenant_id": bucket[0], **keys, **counts})
    return rows


def recompute_tenant(session: Session, tenant: str, timezone: str, batch: int = 500) -> int:
    """Re-derive every fact's contribution of ``tenant`` (its time zone changed)."""
    changed, after = 0, ("", "")
    while True:
        rows = session.execute(
            sa.select(facts.c.kind, facts.c.entity_id, facts.c.state, facts.c.applied)
            .where(facts.c.tenant_id == tenant, sa.tuple_(facts.c.kind, facts.c.entity_id) > after)
            .order_by(facts.c.kind, facts.c.entity_id)
            .limit(batch)
        ).all()
        if not rows:
            return changed
        for row in rows:
            old = Contribution.from_json(row.applied)
            new = domain.contribution(row.kind, row.state, timezone)
            if new == old:
                continue
            key = _fact_key(tenant, row.kind, row.entity_id)
            values = {"state": row.state, "applied": new.to_json() if new else None}
            session.execute(_FACT_WRITE, {**key, **values, "updated_at": utcnow()})
            move(session, tenant, old, new)
            changed += 1
        after = (rows[-1].kind, rows[-1].entity_id)


# --------------------------------------------------------------------------- aggregates


def move(session: Session, tenant: str, old: Contribution | None, new: Contribution | None):
    """Subtract ``old`` and add ``new`` in the daily and monthly aggregates and the totals."""
    for table, dims, key in _TARGETS:
        for bucket, counts in domain.deltas(old, new, key).items():
            _add(session, table, dims, tenant, bucket, counts)


def _add(session: Session, table: sa.Table, dims, tenant: str, bucket: tuple, counts) -> None:
    upsert, prune = _statements(session.get_bind().dialect.name, table.name)
    keys = {"tenant_id": tenant, **dict(zip(dims, bucket, strict=True))}
    session.execute(upsert, {**keys, **dict.fromkeys(COUNTS, 0), **counts})
    if any(value < 0 for value in counts.values()):
        session.execute(prune, {f"k_{name}": value for name, value in keys.items()})


@lru_cache(maxsize=8)
def _statements(dialect: str, name: str) -> tuple:
    """The upsert adding counts to a row, and the delete of that row once all zero (built
    once: they are the same for every bucket, so they compile once too)."""
    table = {t.name: t for t in AGGREGATES}[name]
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    keys = [column.name for column in table.primary_key.columns]
    stmt = insert(table)
    upsert = stmt.on_conflict_do_update(
        index_elements=keys,
        set_={name: table.c[name] + stmt.excluded[name] for name in COUNTS},
    )
    prune = table.delete().where(
        *(table.c[key] == sa.bindparam(f"k_{key}") for key in keys),
        *(table.c[name] == 0 for name in COUNTS),
    )
    return upsert, prune


def _slices(tenant: str, start: date, end: date, by: str | None, names) -> sa.Subquery:
    """The aggregate rows of ``start``..``end``: whole months from ``kpi_monthly``, the days
    of partial months from ``kpi_daily`` (column ``by``, if any, then ``names``)."""
    months, days = domain.split_period(start, end)
    ranges = [(monthly, monthly.c.month, *months)] if months else []
    ranges += [(daily, daily.c.day, lo, hi) for lo, hi in days]
    selects = [
        sa.select(*([table.c[by]] if by else []), *(table.c[name] for name in names)).where(
            table.c.tenant_id == tenant, column >= lo, column <= hi
        )
        for table, column, lo, hi in ranges
    ]
    return (sa.union_all(*selects) if len(selects) > 1 else selects[0]).subquery()


def _summed(rows: sa.Subquery, by: str | None, names) -> sa.Select:
    sums = [sa.func.coalesce(sa.func.sum(rows.c[name]), 0).label(name) for name in names]
    query = sa.select(*([rows.c[by]] if by else []), *sums)
    return query.group_by(rows.c[by]) if by else query


def period_counts(
    session: Session, tenant: str, start: date, end: date, by: str | None = None
) -> dict[str | None, dict[str, int]]:
    """Summed counts of the days ``start``..``end``, per value of dimension ``by``."""
    query = _summed(_slices(tenant, start, end, by, COUNTS), by, COUNTS)
    out = {}
    for row in session.execute(query).mappings():
        out[row[by] if by else None] = {name: int(row[name]) for name in COUNTS}
    return out


def customers_up_to(
    session: Session, tenant: str, end: date, by_region: bool = False
) -> dict[str | None, int]:
    """Customers registered on or before ``end`` (per region when asked)."""
    by = "region" if by_region else None
    query = _summed(_slices(tenant, date.min, end, by, ["customers"]), by, ["customers"])
    return {(row[0] if by_region else None): int(row[-1]) for row in session.execute(query)}


def tenant_ids(session: Session) -> list[str]:
    """The tenants this store has settings for (known before their first fact)."""
    table = tenant_settings.settings_table
    return list(session.execute(sa.select(table.c.tenant_id)).scalars())


def all_totals(session: Session) -> list[dict]:
    """Every row of ``kpi_totals``: the all-time counts behind ``/metrics``."""
    return [dict(row) for row in session.execute(sa.select(totals)).mappings()]
