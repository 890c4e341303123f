"""The SQL statements an engine runs, as a test counts them."""

from __future__ import annotations

import sqlalchemy as sa


def selects_from(engine: sa.Engine, table: str) -> list[str]:
    """A list that fills with every SELECT ``engine`` runs from ``table`` from now on."""
    seen: list[str] = []

    def note(_conn, _cursor, sql, *_):
        if sql.lstrip().startswith("SELECT") and f"FROM {table}" in sql:
            seen.append(sql)

    sa.event.listen(engine, "before_cursor_execute", note)
    return seen
