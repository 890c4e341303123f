"""The KPI store's statements for many rows at once (a consumer batch, see store.apply_events).

On PostgreSQL each one is a single statement whose text does not depend on the number of
rows: the rows travel as one JSON array parameter, turned back into rows by
``json_to_recordset``, so the statement is parsed once, the server runs one statement, not
one per row, and the client encodes the rows with the C JSON encoder (arrays as parameters
cost more: psycopg escapes every element of a text array in Python). Elsewhere (SQLite)
they are plain SQLAlchemy executemany calls with the same effect.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from .domain import COUNTS
from .models import daily, event_log, facts, totals

FACT_KEY = ("tenant_id", "kind", "entity_id")
Key = tuple[str, str, str]


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


def _rows(columns: Iterable[sa.Column], alias: str = "u") -> str:
    """``json_to_recordset(CAST(:rows AS json)) AS u(a type, ...)`` for ``columns``."""
    names = ", ".join(f"{c.name} {_pg_type(c)}" for c in columns)
    return f"json_to_recordset(CAST(:rows AS json)) AS {alias}({names})"


def _json(rows: list[dict], names: Iterable[str]) -> str:
    """The ``:rows`` parameter: ``rows`` (only ``names``) as one JSON array."""
    names = list(names)
    return json.dumps([{name: row[name] for name in names} for row in rows], default=_iso)


def _iso(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


# --------------------------------------------------------------------------- event log

_LOG_COLUMNS = [c for c in event_log.columns if c.name not in ("sequence", "logged_at")]


@lru_cache(maxsize=1)
def _log_insert() -> sa.TextClause:
    names = ", ".join(c.name for c in _LOG_COLUMNS)
    return sa.text(
        f"INSERT INTO {event_log.name} ({names}, logged_at) "
        f"SELECT {names}, :logged_at FROM {_rows(_LOG_COLUMNS)}"
    )


def insert_log(session: Session, rows: list[dict], logged_at: datetime) -> None:
    """Rows of ``kpi_event_log`` (without sequence and logged_at), in this order."""
    if not rows:
        return
    if _postgres(session):
        params = {"rows": _json(rows, [c.name for c in _LOG_COLUMNS]), "logged_at": logged_at}
        session.execute(_log_insert(), params)
    else:
        session.execute(event_log.insert(), [{**r, "logged_at": logged_at} for r in rows])


# --------------------------------------------------------------------------- facts

_KEY_COLUMNS = [facts.c[name] for name in FACT_KEY]
_VALUE_COLUMNS = [facts.c.state, facts.c.applied]


@lru_cache(maxsize=1)
def _fact_statements() -> tuple[sa.TextClause, sa.TextClause, sa.TextClause]:
    keys = ", ".join(FACT_KEY)
    on = " AND ".join(f"f.{name} = u.{name}" for name in FACT_KEY)
    read = sa.text(
        f"SELECT f.tenant_id, f.kind, f.entity_id, f.state, f.applied "
        f"FROM {facts.name} AS f JOIN {_rows(_KEY_COLUMNS)} ON {on} "
        f"ORDER BY f.tenant_id, f.kind, f.entity_id FOR UPDATE OF f"
    )
    insert = sa.text(
        f"INSERT INTO {facts.name} ({keys}, state, applied, updated_at) "
        f"SELECT {keys}, state, applied, :updated_at "
        f"FROM {_rows(_KEY_COLUMNS + _VALUE_COLUMNS)}"
    )
    update = sa.text(
        f"UPDATE {facts.name} AS f SET state = u.state, applied = u.applied, "
        f"updated_at = :updated_at FROM {_rows(_KEY_COLUMNS + _VALUE_COLUMNS)} WHERE {on}"
    )
    return read, insert, update


def read_facts(session: Session, keys: list[Key], chunk: int = 1000) -> dict[Key, tuple]:
    """(state, applied) of the stored facts among ``keys``, locked FOR UPDATE in key order."""
    out: dict[Key, tuple] = {}
    for start in range(0, len(keys), chunk):
        part = keys[start : start + chunk]
        if _postgres(session):
            read = _fact_statements()[0]
            keys_json = json.dumps([dict(zip(FACT_KEY, k, strict=True)) for k in part])
            rows = session.execute(read, {"rows": keys_json})
        else:
            rows = session.execute(
                sa.select(*_KEY_COLUMNS, facts.c.state, facts.c.applied)
                .where(sa.tuple_(*_KEY_COLUMNS).in_(part))
                .order_by(*_KEY_COLUMNS)
                .with_for_update()
            )
        for row in rows:
            out[(row.tenant_id, row.kind, row.entity_id)] = (row.state, row.applied)
    return out


def write_facts(session: Session, inserts: list[dict], updates: list[dict], now) -> None:
    """New facts (a key another writer creates first is an IntegrityError, as with one
    insert each) and changed ones; rows: tenant_id, kind, entity_id, state, applied."""
    names = [*FACT_KEY, "state", "applied"]
    if _postgres(session):
        _, insert, update = _fact_statements()
        for rows, statement in ((inserts, insert), (updates, update)):
            if rows:
                session.execute(statement, {"rows": _json(rows, names), "updated_at": now})
        return
    if inserts:
        session.execute(facts.insert(), [{**r, "updated_at": now} for r in inserts])
    if updates:
        where = [facts.c[name] == sa.bindparam(f"k_{name}") for name in FACT_KEY]
        rows = [
            {
                **{f"k_{n}": r[n] for n in FACT_KEY},
                "state": r["state"],
                "applied": r["applied"],
                "updated_at": now,
            }
            for r in updates
        ]
        session.execute(facts.update().where(*where), rows)


# --------------------------------------------------------------------------- aggregates


def _key_columns(table: sa.Table) -> list[sa.Column]:
    return list(table.primary_key.columns)


@lru_cache(maxsize=4)
def _count_statements(name: str) -> tuple[sa.TextClause, sa.TextClause]:
    table = {t.name: t for t in (daily, totals)}[name]
    keys = _key_columns(table)
    counts = [table.c[n] for n in COUNTS]
    columns = ", ".join(c.name for c in keys + counts)
    key_names = ", ".join(c.name for c in keys)
    adds = ", ".join(f"{n} = {table.name}.{n} + excluded.{n}" for n in COUNTS)
    # Counts left out of a row are zero.
    values = ", ".join([c.name for c in keys] + [f"coalesce({n}, 0)" for n in COUNTS])
    upsert = sa.text(
        f"INSERT INTO {table.name} ({columns}) SELECT {values} FROM {_rows(keys + counts)} "
        f"ON CONFLICT ({key_names}) DO UPDATE SET {adds}"
    )
    on = " AND ".join(f"t.{c.name} = u.{c.name}" for c in keys)
    zero = " AND ".join(f"t.{n} = 0" for n in COUNTS)
    prune = sa.text(f"DELETE FROM {table.name} AS t USING {_rows(keys)} WHERE {on} AND {zero}")
    return upsert, prune


def add_counts(session: Session, table: sa.Table, rows: list[dict], prunes: list[dict]) -> None:
    """Add each row's counts to its bucket (created at zero when missing), in row order;
    then delete those of ``prunes`` (bucket keys) whose counts are all zero. A row is its
    bucket's keys and the counts to add (those left out: zero)."""
    if not rows:
        return
    keys = [c.name for c in _key_columns(table)]
    if _postgres(session):
        upsert, prune = _count_statements(table.name)
        session.execute(upsert, {"rows": json.dumps(rows, default=_iso)})
        if prunes:
            session.execute(prune, {"rows": _json(prunes, keys)})
        return
    rows = [{**dict.fromkeys(COUNTS, 0), **row} for row in rows]
    stmt = sqlite.insert(table)
    upsert = stmt.on_conflict_do_update(
        index_elements=keys, set_={n: table.c[n] + stmt.excluded[n] for n in COUNTS}
    )
    session.execute(upsert, rows)
    if prunes:
        delete = table.delete().where(
            *(table.c[k] == sa.bindparam(f"k_{k}") for k in keys),
            *(table.c[n] == 0 for n in COUNTS),
        )
        session.execute(delete, [{f"k_{k}": p[k] for k in keys} for p in prunes])
