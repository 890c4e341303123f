"""The KPI store's statements for many rows at once (a run of events, see projection.py).

On PostgreSQL a batch takes two statements whose text does not depend on the number of
rows: :func:`read` logs the events and reads (and locks) the facts and the tenants' time
zones; :func:`write` writes the facts and adds the counts to every aggregate (data-modifying
``WITH`` queries), returning the aggregate rows that came back to zero, which a third
statement deletes (rare). The rows travel as JSON array parameters, turned back into rows by
``json_to_recordset``, so each statement is parsed once, the server runs one statement, not
one per row, and the client encodes the rows with orjson (arrays as parameters cost more:
psycopg escapes every element of a text array in Python; see :func:`_dumps`); the logged events
travel as the bodies they were received as (:func:`_log_bodies`). Elsewhere (SQLite)
they are small statements with the same effect, one a row, each reaching its row by its
primary key and run on the driver's connection (:func:`revisit_common.db.run`: compiled
once, without SQLAlchemy's execution machinery, which cost ten times the statement there).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import lru_cache

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from revisit_common import db, tenant_settings
from revisit_common.messaging.envelope import Envelope

from . import customer_periods
from .customer_periods import COLUMNS as CUSTOMER_COLUMNS
from .customer_periods import COUNTER_KEY, MEMBER_KEY
from .domain import COUNTS
from .models import (
    AGGREGATES,
    PLAIN_PLACES,
    customer_spans,
    event_log,
    facts,
    purchase_amounts,
    span_customers,
    totals,
    totals_versions,
)

FACT_KEY = ("tenant_id", "kind", "entity_id")
FACT_DAYS = ("day", "limit_day")  # written with every fact (domain.fact_days)
# kpi_event_log's columns from an envelope's attributes, with the values absent ones take
LOG_FIELDS = {
    "event_id": ("id", "varchar", None),
    "tenant_id": ("tenantid", "varchar", None),
    "type": ("type", "varchar", None),
    "time": ("time", "varchar", None),
    "source": ("source", "varchar", None),
    "subject": ("subject", "varchar", "''"),
    "region": ("region", "varchar", "''"),
    "dataversion": ("dataversion", "int", "1"),
    "correlationid": ("correlationid", "varchar", None),
    "data": ("data", "json", None),
}
Key = tuple[str, str, str]


def _iso(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


# The rows are trees built afresh for each statement (no container is reached twice), so the
# encoder's check for cycles (an id() kept per dict and list it enters) is skipped.
_json_dumps = json.JSONEncoder(separators=(",", ":"), default=_iso, check_circular=False).encode
# Types orjson would encode where the stdlib encoder raises (dataclasses) or encodes otherwise
# (subclasses of str, int, dict, list) are left to the stdlib (orjson raises on them)
_PASS = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS


def _dumps(value) -> str:
    """``value`` as compact JSON text, dates as ISO dates: by orjson (a tenth of the stdlib
    encoder's CPU), whose text PostgreSQL reads as the same values (it leaves non-ASCII
    characters unescaped and writes some floats otherwise: ``1e-7`` for ``1e-07``); what it
    refuses (integers beyond 64 bits, keys that are not strings, lone surrogates) by the
    stdlib encoder, which raises where it did. Not for floats that may be NaN or infinite,
    which orjson writes as null (see :func:`_fact_rows`)."""
    try:
        return orjson.dumps(value, option=_PASS).decode()
    except orjson.JSONEncodeError:
        return _json_dumps(value)


def _fact_rows(rows: list[dict]) -> str:
    """Rows of ``kpi_facts`` as :func:`_dumps` writes them. Their states hold events' values,
    where an infinite float (an event's number out of a float's range) is written as the
    stdlib writes it (``Infinity``, which PostgreSQL refuses, failing the event), not null."""
    if all(_finite(row["state"]) for row in rows):
        return _dumps(rows)
    return _json_dumps(rows)


def _finite(tree) -> bool:
    """Whether the dicts and lists of ``tree`` hold no float that is NaN or infinite."""
    nodes = [tree]
    while nodes:
        node = nodes.pop()
        for value in node.values() if type(node) is dict else node:
            kind = type(value)
            if kind is float:
                if not math.isfinite(value):
                    return False
            elif kind is dict or kind is list or kind is tuple:
                nodes.append(value)
    return True


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _pg_type(column: sa.Column) -> str:
    if isinstance(column.type, sa.Date):
        return "date"
    if isinstance(column.type, sa.Integer):
        return "int"
    if isinstance(column.type, sa.JSON):
        return "json"
    return "varchar"


def _rows(columns: Iterable[sa.Column], param: str = "rows", alias: str = "u") -> str:
    """``json_to_recordset(CAST(:param AS json)) AS alias(a type, ...)`` for ``columns``."""
    names = ", ".join(f"{c.name} {_pg_type(c)}" for c in columns)
    return f"json_to_recordset(CAST(:{param} AS json)) AS {alias}({names})"


def _on(keys: Iterable[str], left: str, right: str = "u") -> str:
    return " AND ".join(f"{left}.{name} = {right}.{name}" for name in keys)


# --------------------------------------------------------------------------- read


def _log_row(envelope: Envelope) -> dict:
    """``envelope`` as a row of ``kpi_event_log`` (without sequence and logged_at)."""
    row = {name: getattr(envelope, field) for name, (field, _, _) in LOG_FIELDS.items()}
    return {**row, "subject": envelope.subject or "", "region": envelope.region or ""}


def _log_bodies(log: Sequence[Envelope]) -> str:
    """``log`` as a JSON array of envelopes: each as it was received when it was well-formed
    as it is (:attr:`Envelope.body`), so its data is not encoded again."""
    return "[" + ",".join(e.body or e.to_json() for e in log) + "]"


@lru_cache(maxsize=1)
def _read_statement() -> sa.TextClause:
    names = ", ".join(LOG_FIELDS)
    values = ", ".join(
        f"coalesce(l.{field}, {absent})" if absent else f"l.{field}"
        for field, _, absent in LOG_FIELDS.values()
    )
    envelopes = ", ".join(f"{field} {kind}" for field, kind, _ in LOG_FIELDS.values())
    keys = ", ".join(f"f.{name}" for name in FACT_KEY)
    zones = tenant_settings.settings_table.name
    return sa.text(
        f"WITH logged AS (INSERT INTO {event_log.name} ({names}, logged_at) "
        f"SELECT {values}, :now FROM json_to_recordset(CAST(:log AS json)) AS l({envelopes})) "
        f"SELECT * FROM (SELECT {keys}, f.state, f.applied FROM {facts.name} AS f "
        f"JOIN {_rows((facts.c[n] for n in FACT_KEY), 'keys')} ON {_on(FACT_KEY, 'f')} "
        f"ORDER BY {keys} FOR UPDATE OF f) AS locked "
        f"UNION ALL SELECT s.tenant_id, NULL, NULL, to_json(s.timezone), NULL FROM {zones} AS s "
        f"WHERE s.tenant_id IN (SELECT json_array_elements_text(CAST(:tenants AS json)))"
    )


def read(
    session: Session, keys: list[Key], log: Sequence[Envelope], now: datetime
) -> tuple[dict[Key, tuple], dict[str, str]]:
    """Log ``log`` (events, in order);
    then the (state, applied) of the stored facts among ``keys`` (sorted), locked FOR UPDATE
    in key order, and the time zone of each of their tenants."""
    tenants = sorted({key[0] for key in keys})
    stored: dict[Key, tuple] = {}
    zones = dict.fromkeys(tenants, tenant_settings.DEFAULT_TIMEZONE)
    if not _postgres(session):
        rows = [{**_log_row(envelope), "logged_at": now} for envelope in log]
        _each(session, _sqlite_log_insert(), rows)
        zones = {tenant: tenant_settings.load(session, tenant).timezone for tenant in tenants}
        return _read_sqlite(session, keys), zones
    params = {
        "log": _log_bodies(log),
        "now": now,
        "keys": _dumps([dict(zip(FACT_KEY, key, strict=True)) for key in keys]),
        "tenants": _dumps(tenants),
    }
    for tenant, kind, entity, state, applied in session.execute(_read_statement(), params):
        if kind is None:
            zones[tenant] = state
        else:
            stored[tenant, kind, entity] = (state, applied)
    return stored, zones


def _each(session: Session, statement, rows: list[dict]) -> None:
    """SQLite: ``statement`` (built once) with each of ``rows`` in the session's transaction."""
    if rows:
        connection = session.connection()
        for row in rows:
            db.run(connection, statement, row)


def _by_key(session: Session, statement, keys: Iterable[tuple], names=FACT_KEY) -> list:
    """SQLite: the rows ``statement`` (built once, its parameters ``names``) finds for each
    of ``keys``, in their order, as (key, row) pairs: one primary key lookup each (a tuple
    ``IN`` list scans the whole table on SQLite)."""
    connection = session.connection()
    found = []
    for key in keys:
        for row in db.run(connection, statement, dict(zip(names, key, strict=True))):
            found.append((key, row))
    return found


def _read_sqlite(session: Session, keys: list[Key]) -> dict[Key, tuple]:
    """The (state, applied) of the stored facts among ``keys`` (SQLite: one writer, no
    locks to take)."""
    return dict(_by_key(session, _sqlite_fact_read(), keys))


@lru_cache(maxsize=1)
def _sqlite_fact_read() -> sa.Select:
    return sa.select(facts.c.state, facts.c.applied).where(
        *(facts.c[name] == sa.bindparam(name) for name in FACT_KEY)
    )


@lru_cache(maxsize=1)
def _sqlite_log_insert() -> sa.Insert:
    return event_log.insert()


# --------------------------------------------------------------------------- write


def _counted(table: sa.Table) -> tuple[str, ...]:
    """The count columns of an aggregate table or of ``kpi_customer_spans``."""
    return CUSTOMER_COLUMNS if table is customer_spans else COUNTS


def _zero(table: sa.Table) -> str:
    return " AND ".join(f"{table.name}.{name} = 0" for name in _counted(table))


@lru_cache(maxsize=1)
def _write_statement() -> sa.TextClause:
    keys = ", ".join(FACT_KEY)
    written = ("state", "applied", *FACT_DAYS)
    values = [facts.c[name] for name in (*FACT_KEY, *written)]
    sets = ", ".join(f"{name} = u.{name}" for name in written)
    parts = [
        f"new_facts AS (INSERT INTO {facts.name} ({keys}, {', '.join(written)}, updated_at) "
        f"SELECT {keys}, {', '.join(written)}, :now FROM {_rows(values, 'inserts')} "
        f"RETURNING {', '.join(AMOUNT_FACT)})",
        f"changed_facts AS (UPDATE {facts.name} AS f SET {sets}, "
        f"updated_at = :now FROM {_rows(values, 'updates')} WHERE {_on(FACT_KEY, 'f')} "
        f"RETURNING {', '.join(f'f.{n}' for n in AMOUNT_FACT)})",
        *_amount_parts(),
    ]
    parts.append(_raise_versions())
    zeros = []
    for table in AGGREGATES:
        bucket = [c.name for c in table.primary_key.columns]
        columns = ", ".join(bucket + list(COUNTS))
        # Counts left out of a row are zero.
        values = ", ".join(bucket + [f"coalesce({n}, 0)" for n in COUNTS])
        adds = ", ".join(f"{n} = {table.name}.{n} + excluded.{n}" for n in COUNTS)
        returned = ", ".join(f"{table.name}.{n}" for n in bucket)
        source = _rows(list(table.primary_key.columns) + [table.c[n] for n in COUNTS], table.name)
        parts.append(
            f"add_{table.name} AS (INSERT INTO {table.name} ({columns}) "
            f"SELECT {values} FROM {source} ON CONFLICT ({', '.join(bucket)}) DO UPDATE SET "
            f"{adds} RETURNING {returned}, {_zero(table)} AS zero)"
        )
        zeros.append(
            f"SELECT '{table.name}' AS aggregate, row_to_json(z) AS bucket "
            f"FROM add_{table.name} AS z WHERE z.zero"
        )
    members, zero = _customer_parts()
    parts += members
    zeros.append(zero)
    return sa.text(f"WITH {', '.join(parts)} {' UNION ALL '.join(zeros)}")


# A fact's columns the purchases' sums take (the derived ones as the database derives them)
AMOUNT_FACT = ("tenant_id", "kind", "day", "units", "cents", "places")
PLAIN = [f"plain_{n}" for n in PLAIN_PLACES]


def _amount_parts() -> list[str]:
    """The purchases' sums (``kpi_purchase_amounts``) moved by the purchases written: less
    their rows as they were (``:purchases``, the keys of the purchases updated: this
    statement's snapshot still holds their old derived columns), plus the rows written
    (their RETURNING), per day and month."""
    table = purchase_amounts.name
    key = _rows((facts.c[n] for n in FACT_KEY), "purchases", "p")
    taken = ", ".join(f"f.{n}" for n in AMOUNT_FACT)
    moved = " UNION ALL ".join(
        f"SELECT {', '.join(AMOUNT_FACT)}, {sign} AS sign FROM {source} "
        f"WHERE kind = 'purchase' AND day IS NOT NULL"
        for source, sign in (("new_facts", 1), ("changed_facts", 1), ("old_purchases", -1))
    )
    first_day = (
        "CASE s.span WHEN 'day' THEN m.day ELSE CAST(date_trunc('month', m.day) AS date) END"
    )
    plain = ", ".join(
        f"sum(CASE WHEN m.cents IS NOT NULL AND m.places = {n} THEN m.sign ELSE 0 END)"
        for n in PLAIN_PLACES
    )
    columns = ", ".join(("tenant_id", "span", "first_day", "units", "cents", *PLAIN))
    adds = ", ".join(f"{n} = {table}.{n} + excluded.{n}" for n in ("units", "cents", *PLAIN))
    return [
        f"old_purchases AS (SELECT {taken} FROM {facts.name} AS f JOIN {key} "
        f"ON {_on(FACT_KEY, 'f', 'p')})",
        f"moved_purchases AS ({moved})",
        f"add_{table} AS (INSERT INTO {table} ({columns}) "
        f"SELECT m.tenant_id, s.span, {first_day}, sum(m.sign * coalesce(m.units, 0)), "
        f"sum(m.sign * coalesce(m.cents, 0)), {plain} "
        f"FROM moved_purchases AS m CROSS JOIN (VALUES ('day'), ('month')) AS s(span) "
        f"GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 "
        f"ON CONFLICT (tenant_id, span, first_day) DO UPDATE SET {adds})",
    ]


def _customer_parts() -> tuple[list[str], str]:
    """The customers' rows of a span (``kpi_customer_spans``) added to, and the counters of
    their spans (``kpi_span_customers``) moved by the rows whose counts crossed zero: a
    row's count before is the one it returns less the one added (the row locked by the
    upsert: exact with concurrent writers). The rows back at zero are returned to prune."""
    table, counters = customer_spans.name, span_customers.name
    keys, cols = ", ".join(MEMBER_KEY), ", ".join(CUSTOMER_COLUMNS)
    added = _rows([customer_spans.c[n] for n in (*MEMBER_KEY, *CUSTOMER_COLUMNS)], table, "d")
    values = ", ".join([*MEMBER_KEY, *(f"coalesce({n}, 0)" for n in CUSTOMER_COLUMNS)])
    adds = ", ".join(f"{n} = {table}.{n} + excluded.{n}" for n in CUSTOMER_COLUMNS)
    returned = ", ".join(f"{table}.{n}" for n in (*MEMBER_KEY, *CUSTOMER_COLUMNS))
    crossed = ", ".join(
        f"CAST(n.{c} > 0 AS int) - CAST(n.{c} - coalesce(d.{c}, 0) > 0 AS int) AS {c}"
        for c in CUSTOMER_COLUMNS
    )
    moved = " OR ".join(f"{c} <> 0" for c in CUSTOMER_COLUMNS)
    counter_keys = ", ".join(COUNTER_KEY)
    sums = ", ".join(f"sum({c})" for c in CUSTOMER_COLUMNS)
    raises = ", ".join(f"{c} = {counters}.{c} + excluded.{c}" for c in CUSTOMER_COLUMNS)
    parts = [
        f"add_{table} AS (INSERT INTO {table} ({keys}, {cols}) "
        f"SELECT {values} FROM {_rows(customer_spans.c, table)} "
        f"ON CONFLICT ({keys}) DO UPDATE SET {adds} "
        f"RETURNING {returned}, {_zero(customer_spans)} AS zero)",
        f"add_{counters} AS (INSERT INTO {counters} ({counter_keys}, {cols}) "
        f"SELECT {counter_keys}, {sums} FROM (SELECT n.tenant_id, n.span, n.first_day, "
        f"{crossed} FROM add_{table} AS n JOIN {added} ON {_on(MEMBER_KEY, 'n', 'd')}) AS m "
        f"WHERE {moved} GROUP BY {counter_keys} ORDER BY {counter_keys} "
        f"ON CONFLICT ({counter_keys}) DO UPDATE SET {raises})",
    ]
    zero = (
        f"SELECT '{table}' AS aggregate, row_to_json(z) AS bucket "
        f"FROM (SELECT {keys} FROM add_{table} WHERE zero) AS z"
    )
    return parts, zero


def _raise_versions() -> str:
    """The totals version of every tenant whose ``kpi_totals`` the statement changes raised
    (created at 1), rows locked in tenant order: two writers never wait on each other in a
    cycle. Not referenced by the query, so run after it (after the aggregates, as when it
    was a statement of its own)."""
    name = totals_versions.name
    tenants = f"json_to_recordset(CAST(:{totals.name} AS json)) AS t(tenant_id varchar)"
    return (
        f"raised_versions AS (INSERT INTO {name} (tenant_id, version) "
        f"SELECT DISTINCT tenant_id, 1 FROM {tenants} ORDER BY tenant_id "
        f"ON CONFLICT (tenant_id) DO UPDATE SET version = {name}.version + 1)"
    )


@lru_cache(maxsize=4)
def _prune_statement(name: str) -> sa.TextClause:
    table = {t.name: t for t in (*AGGREGATES, customer_spans)}[name]
    keys = list(table.primary_key.columns)
    return sa.text(
        f"DELETE FROM {table.name} USING {_rows(keys)} "
        f"WHERE {_on((c.name for c in keys), table.name)} AND {_zero(table)}"
    )


def write(
    session: Session,
    inserts: list[dict],
    updates: list[dict],
    counts: dict[str, list],
    now,
    members: list[dict] = (),
) -> None:
    """New facts (a key another writer creates first is an IntegrityError, as with one
    insert each) and changed ones (rows: tenant_id, kind, entity_id, state, applied); then
    for each aggregate table (``counts``: name -> rows of a bucket's keys and the counts to
    add, the others zero, in bucket order) the counts added, each bucket created at zero
    when missing, and the buckets whose counts all came back to zero deleted; and the totals
    version of every tenant whose ``kpi_totals`` rows change raised (what ``/metrics``
    checks before rendering again). ``members``: the counts to add to the customers' rows
    of a span (customer_periods.member_rows), with their spans' counters moved as the rows'
    counts cross zero, the rows back at zero deleted."""
    if not _postgres(session):
        _write_sqlite(session, inserts, updates, counts, now)
        _members_sqlite(session, list(members))
        return
    params = {name: _dumps(counts.get(name, ())) for name in (t.name for t in AGGREGATES)}
    params[customer_spans.name] = _dumps(members)
    params["purchases"] = _dumps(
        [{n: row[n] for n in FACT_KEY} for row in updates if row["kind"] == "purchase"]
    )
    params.update(inserts=_fact_rows(inserts), updates=_fact_rows(updates), now=now)
    zeros: dict[str, list] = {}
    for name, bucket in session.execute(_write_statement(), params):
        zeros.setdefault(name, []).append(bucket)
    for name, buckets in zeros.items():
        session.execute(_prune_statement(name), {"rows": _dumps(buckets)})


def _write_sqlite(session, inserts, updates, counts, now) -> None:
    keys = [tuple(r[n] for n in FACT_KEY) for r in updates if r["kind"] == "purchase"]
    before = _purchase_rows(session, keys)
    _each(session, _sqlite_fact_insert(), [{**r, "updated_at": now} for r in inserts])
    rows = [
        {**{f"k_{n}": r[n] for n in FACT_KEY}, "updated_at": now}
        | {name: r[name] for name in ("state", "applied", *FACT_DAYS)}
        for r in updates
    ]
    _each(session, _sqlite_fact_update(), rows)
    keys += [tuple(r[n] for n in FACT_KEY) for r in inserts if r["kind"] == "purchase"]
    _add_amounts_sqlite(session, before, _purchase_rows(session, keys))
    for table in AGGREGATES:
        rows = counts.get(table.name)
        if rows:
            _add_sqlite(session, table, rows)
    tenants = sorted({row["tenant_id"] for row in counts.get(totals.name, ())})
    _each(session, _raise_version("sqlite"), [{"tenant": tenant} for tenant in tenants])


def raise_versions(session: Session, tenants: Iterable[str]) -> None:
    """Raise the totals version of ``tenants`` (created at 1), rows locked in tenant order
    (:func:`write` does it itself; seeding uses this)."""
    rows = [{"tenant": tenant} for tenant in sorted(set(tenants))]
    if rows:
        session.execute(_raise_version(session.get_bind().dialect.name), rows)


@lru_cache(maxsize=2)
def _raise_version(dialect: str) -> sa.Insert:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(totals_versions).values(tenant_id=sa.bindparam("tenant"), version=1)
    return stmt.on_conflict_do_update(
        index_elements=["tenant_id"], set_={"version": totals_versions.c.version + 1}
    )


@lru_cache(maxsize=1)
def _sqlite_fact_insert() -> sa.Insert:
    return facts.insert()


@lru_cache(maxsize=1)
def _sqlite_fact_update() -> sa.Update:
    return facts.update().where(*(facts.c[name] == sa.bindparam(f"k_{name}") for name in FACT_KEY))


@lru_cache(maxsize=4)
def _sqlite_statements(name: str) -> tuple[sa.Insert, sa.Delete]:
    """The upsert adding counts to a row of aggregate ``name``, and the delete of a row once
    all zero (built once: building them costs more than running them)."""
    table = {t.name: t for t in AGGREGATES}[name]
    keys = [c.name for c in table.primary_key.columns]
    stmt = sqlite.insert(table)
    upsert = stmt.on_conflict_do_update(
        index_elements=keys, set_={n: table.c[n] + stmt.excluded[n] for n in COUNTS}
    )
    delete = table.delete().where(
        *(table.c[k] == sa.bindparam(f"k_{k}") for k in keys),
        *(table.c[n] == 0 for n in COUNTS),
    )
    return upsert, delete


def _add_sqlite(session: Session, table: sa.Table, rows: list[dict]) -> None:
    upsert, delete = _sqlite_statements(table.name)
    _each(session, upsert, [{**dict.fromkeys(COUNTS, 0), **row} for row in rows])
    # Only a bucket something was taken from can have come back to zero.
    keys = [c.name for c in table.primary_key.columns]
    prunes = [
        {f"k_{k}": row[k] for k in keys} for row in rows if any(row.get(n, 0) < 0 for n in COUNTS)
    ]
    _each(session, delete, prunes)


def _members_sqlite(session: Session, rows: list[dict]) -> None:
    """:func:`write`'s customers' rows and their spans' counters on SQLite (one writer: the
    rows' counts read, added to, written back)."""
    if not rows:
        return
    keys = [tuple(r[n] for n in MEMBER_KEY) for r in rows]
    before = {
        key: dict(zip(CUSTOMER_COLUMNS, found, strict=True))
        for key, found in _by_key(session, _sqlite_members_read(), keys, MEMBER_KEY)
    }
    kept, gone, moved = [], [], {}
    for row in rows:
        at = tuple(row[n] for n in MEMBER_KEY)
        after, crossed = customer_periods.counter_moves(before.get(at, {}), row)
        (kept if any(after.values()) else gone).append({**row, **after})
        into = moved.setdefault(at[:3], dict.fromkeys(CUSTOMER_COLUMNS, 0))
        for name, value in crossed.items():
            into[name] += value
    upsert, delete, add = _sqlite_member_statements()
    _each(session, upsert, kept)
    _each(session, delete, [{f"k_{n}": r[n] for n in MEMBER_KEY} for r in gone])
    counters = [
        {**dict(zip(COUNTER_KEY, at, strict=True)), **counts}
        for at, counts in sorted(moved.items())
        if any(counts.values())
    ]
    _each(session, add, counters)


@lru_cache(maxsize=1)
def _sqlite_members_read() -> sa.Select:
    columns = (customer_spans.c[n] for n in CUSTOMER_COLUMNS)
    return sa.select(*columns).where(*(customer_spans.c[n] == sa.bindparam(n) for n in MEMBER_KEY))


@lru_cache(maxsize=1)
def _sqlite_member_statements() -> tuple[sa.Insert, sa.Delete, sa.Insert]:
    """A customer's row of a span set, deleted, and its span's counters added to."""
    stmt = sqlite.insert(customer_spans)
    upsert = stmt.on_conflict_do_update(
        index_elements=list(MEMBER_KEY), set_={n: stmt.excluded[n] for n in CUSTOMER_COLUMNS}
    )
    delete = customer_spans.delete().where(
        *(customer_spans.c[n] == sa.bindparam(f"k_{n}") for n in MEMBER_KEY)
    )
    counted = sqlite.insert(span_customers)
    add = counted.on_conflict_do_update(
        index_elements=list(COUNTER_KEY),
        set_={n: span_customers.c[n] + counted.excluded[n] for n in CUSTOMER_COLUMNS},
    )
    return upsert, delete, add


def _purchase_rows(session: Session, keys: list[tuple]) -> list[tuple]:
    """(tenant, day, units, cents, places) of the purchase facts ``keys`` as stored now (the
    derived columns as SQLite derives them), those with a day."""
    return [row for _, row in _by_key(session, _sqlite_purchases_read(), keys)]


@lru_cache(maxsize=1)
def _sqlite_purchases_read() -> sa.Select:
    return sa.select(
        facts.c.tenant_id, facts.c.day, facts.c.units, facts.c.cents, facts.c.places
    ).where(*(facts.c[n] == sa.bindparam(n) for n in FACT_KEY), facts.c.day.is_not(None))


def _add_amounts_sqlite(session: Session, before: list[tuple], after: list[tuple]) -> None:
    """The purchases' sums per day and month moved from the rows ``before`` to ``after``."""
    sums: dict[tuple, dict[str, int]] = {}
    for rows, sign in ((before, -1), (after, 1)):
        for tenant, day, units, cents, places in rows:
            for span, first in (("day", day), ("month", day.replace(day=1))):
                into = sums.setdefault((tenant, span, first), dict.fromkeys(_AMOUNTS, 0))
                into["units"] += sign * (units or 0)
                if cents is not None:
                    into["cents"] += sign * cents
                    into[f"plain_{places}"] += sign
    rows = [
        {"tenant_id": k[0], "span": k[1], "first_day": k[2], **v}
        for k, v in sorted(sums.items())
        if any(v.values())
    ]
    _each(session, _sqlite_amounts_upsert(), rows)


_AMOUNTS = ("units", "cents", *(f"plain_{n}" for n in PLAIN_PLACES))


@lru_cache(maxsize=1)
def _sqlite_amounts_upsert() -> sa.Insert:
    stmt = sqlite.insert(purchase_amounts)
    return stmt.on_conflict_do_update(
        index_elements=["tenant_id", "span", "first_day"],
        set_={n: purchase_amounts.c[n] + stmt.excluded[n] for n in _AMOUNTS},
    )
