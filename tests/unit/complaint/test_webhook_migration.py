"""Complaint's webhook migrations: 0003 cut the stored errors of delivery logs to their class;
0004 drops the webhook tables (webhooks moved to the notify service), and its downgrade
creates them again."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command

from complaint_service.bootstrap import SPEC
from revisit_common.db import Database
from tests.support import migration_steps as steps
from tests.support.migration_steps import database_fixture

BEFORE = [
    "HTTP 500: internal stack trace of the receiver",
    "ConnectionError: HTTPConnectionPool(host='10.0.0.1', port=80): url: /hooks/tok-123",
    "HTTP 404",
    None,
]
AFTER = ["HTTP 500", "ConnectionError", "HTTP 404", None]


database = database_fixture("complaint")


def migrate(db: Database, revision: str, step=command.upgrade) -> None:
    """Run the complaint service's migrations up (or, with ``step=command.downgrade``, down)
    to ``revision``."""
    steps.migrate(db, SPEC.migrations, revision, step)


def test_stored_errors_are_cut_to_their_class(database):
    migrate(database, "0002")
    now = datetime.now(UTC)
    with database.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO webhooks (id, tenant_id, url, events, secret, active, created_by,"
                " created_at) VALUES ('w1', 't', 'https://h.example/', '[\"#\"]', :secret,"
                " :true, 'me', :now)"
            ),
            {"now": now, "true": True, "secret": "s" * 20},
        )
        for n, error in enumerate(BEFORE):
            conn.execute(
                sa.text(
                    "INSERT INTO webhook_deliveries (id, tenant_id, webhook_id, event_id,"
                    " event_type, routing_key, body, status, attempts, last_error, created_at)"
                    " VALUES (:id, 't', 'w1', :id, 'ComplaintRaised', 'k', '{}', 'failed', 1,"
                    " :error, :now)"
                ),
                {"id": f"d{n}", "error": error, "now": now},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO webhook_attempts (id, delivery_id, at, status_code, error,"
                    " duration_ms) VALUES (:id, :id, :now, NULL, :error, 3)"
                ),
                {"id": f"d{n}", "error": error, "now": now},
            )
    migrate(database, "0003")
    with database.engine.connect() as conn:
        last = conn.execute(sa.text("SELECT last_error FROM webhook_deliveries ORDER BY id"))
        attempts = conn.execute(sa.text("SELECT error FROM webhook_attempts ORDER BY id"))
        assert [row[0] for row in last] == AFTER
        assert [row[0] for row in attempts] == AFTER


def migrate_down(db: Database, revision: str) -> None:
    migrate(db, revision, command.downgrade)


WEBHOOK_TABLES = {"webhooks", "webhook_deliveries", "webhook_attempts"}


def tables(db: Database) -> set[str]:
    return set(sa.inspect(db.engine).get_table_names(schema=db.schema))


def test_the_webhook_tables_move_out_and_back(database):
    migrate(database, "0003")
    assert tables(database) >= WEBHOOK_TABLES
    migrate(database, "0004")
    assert WEBHOOK_TABLES & tables(database) == set()
    assert {"complaints", "complaint_ledger", "outbox", "inbox"} <= tables(database)
    migrate_down(database, "0003")
    assert tables(database) >= WEBHOOK_TABLES
