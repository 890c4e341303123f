"""kpi_facts' derived columns: the policies' figures of a period as SQL aggregates

``GET /kpis`` counted the policies' figures (policy_kpis.py: distinct customers due and
visited, complaints by resolve limit day, units and amounts sold) by decoding every fact of
the period at every request. The columns the database now derives from each fact as it is
written (models.DERIVED: customer, reason, flags of its contribution, units, amount in
hundredths) let it count them itself: stored on PostgreSQL (adding them computes them for
every existing fact), virtual on SQLite. The facts stored before revision 0007, which have no
``day`` / ``limit_day`` yet, get them here (the contribution's day, a complaint's resolve
limit day in its tenant's time zone), so every period read can select by them.
"""

from datetime import date

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateColumn

from kpi_service.domain import resolve_limit_day
from kpi_service.models import DERIVED, FIGURE_INDEXES, derived_column
from revisit_common import tenant_settings

revision = "0008"
down_revision = "0007"
BATCH = 1000


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":  # one ALTER TABLE: the table is rewritten once
        columns = (derived_column(name, persisted=True) for name in DERIVED)
        adds = (f"ADD COLUMN {CreateColumn(c).compile(dialect=bind.dialect)}" for c in columns)
        op.execute(f"ALTER TABLE kpi_facts {', '.join(adds)}")
    else:  # SQLite adds a (virtual) column by ALTER TABLE, one at a time
        for name in DERIVED:
            op.add_column("kpi_facts", derived_column(name, persisted=False))
    for index, (columns, where) in FIGURE_INDEXES.items():
        condition = sa.text(where)
        op.create_index(
            index, "kpi_facts", list(columns), postgresql_where=condition, sqlite_where=condition
        )
    _days()


def _days() -> None:
    """``day`` and ``limit_day`` of the facts stored before revision 0007."""
    facts = sa.table(
        "kpi_facts",
        *(sa.column(n) for n in ("tenant_id", "kind", "entity_id", "day", "limit_day")),
        sa.column("state", sa.JSON),
        sa.column("applied", sa.JSON),
    )
    key = (facts.c.tenant_id, facts.c.kind, facts.c.entity_id)
    session = Session(bind=op.get_bind())
    zones: dict[str, str] = {}
    after = ("", "", "")
    while True:
        rows = session.execute(
            sa.select(*key, facts.c.state, facts.c.applied)
            .where(facts.c.day.is_(None), facts.c.limit_day.is_(None))
            .where(sa.tuple_(*key) > after)
            .order_by(*key)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        updates = []
        for tenant, kind, entity, state, applied in rows:
            if tenant not in zones:
                zones[tenant] = tenant_settings.load(session, tenant).timezone
            fields = (state or {}).get("fields") or {}
            limit = resolve_limit_day(fields, zones[tenant]) if kind == "complaint" else None
            day = (applied or {}).get("day")
            if day or limit:
                updates.append(
                    {
                        "t": tenant,
                        "k": kind,
                        "e": entity,
                        "d": day and date.fromisoformat(day),
                        "l": limit,
                    }
                )
        if updates:
            session.execute(
                facts.update()
                .where(
                    facts.c.tenant_id == sa.bindparam("t"),
                    facts.c.kind == sa.bindparam("k"),
                    facts.c.entity_id == sa.bindparam("e"),
                )
                .values(
                    day=sa.bindparam("d", type_=sa.Date), limit_day=sa.bindparam("l", type_=sa.Date)
                ),
                updates,
            )
        after = tuple(rows[-1][:3])


def downgrade() -> None:
    for index in FIGURE_INDEXES:
        op.drop_index(index, table_name="kpi_facts")
    for name in reversed(list(DERIVED)):
        op.drop_column("kpi_facts", name)
