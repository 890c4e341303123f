"""Alembic migrations per service, applied at start.

Each service has ``migrations/`` with an ``env.py`` that calls :func:`run_env`, and
versions written with alembic ``op`` calls. A version names its ``revision`` and
``down_revision`` only (alembic reads ``branch_labels`` and ``depends_on`` as optional). The
tables several services create alike are defined once here: the outbox, inbox and
settings-copy tables every service has (:func:`create_messaging_tables`), the idempotency keys
(:func:`add_idempotency_keys`, :func:`drop_idempotency_keys`: a whole revision's steps) and
the webhook tables (:func:`create_webhook_tables`: complaint's before they moved, notify's).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import sqlalchemy as sa
from alembic import command, context, op
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from .db import Database

TS = sa.DateTime(timezone=True)
"""The timestamp column type of every table (timezone-aware)."""

_LOCK_KEY = 0x7265766973  # "revis": one advisory lock for migrations on PostgreSQL


def upgrade(db: Database, migrations_dir: Path) -> None:
    """Bring the service's database to the newest revision (safe to run concurrently)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    with db.engine.connect() as conn:
        if db.is_postgres:
            conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": _LOCK_KEY})
            if db.schema:
                conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{db.schema}"'))
            conn.commit()
        try:
            if MigrationContext.configure(conn).get_current_revision() != _head(cfg):
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
            conn.commit()
        finally:
            if db.is_postgres:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK_KEY})
                conn.commit()


def _head(cfg: Config) -> str | None:
    """The newest revision of ``cfg``'s migrations (read once per folder: loading the version
    scripts is most of what an upgrade of a database already at the newest costs)."""
    return _head_of(cfg.get_main_option("script_location"))


@cache
def _head_of(script_location: str) -> str | None:
    config = Config()
    config.set_main_option("script_location", script_location)
    return ScriptDirectory.from_config(config).get_current_head()


def run_env() -> None:
    """The body of every service's ``migrations/env.py`` (online mode only)."""
    conn = context.config.attributes["connection"]
    context.configure(connection=conn, target_metadata=None, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def tenant_keys() -> tuple[sa.Column, sa.Column]:
    """``id`` (a UUID string, the primary key) and ``tenant_id``: the first two columns of a
    tenant's table, as :class:`revisit_common.columns.TenantRow` maps them."""
    return (
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
    )


def create_tenant_table(op, name: str, *columns: sa.Column) -> None:
    """A tenant's table: :func:`tenant_keys`, then ``columns``, and the index
    ``ix_<name>_tenant_id`` on (tenant_id, id) that lists a tenant's rows in id order."""
    op.create_table(name, *tenant_keys(), *columns)
    op.create_index(f"ix_{name}_tenant_id", name, ["tenant_id", "id"])


def create_messaging_tables(op) -> None:
    """Outbox, inbox and tenant-settings copy: the same in every service."""
    op.create_table(
        "outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("routing_key", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text, nullable=True),
    )
    op.create_index(
        "ix_outbox_pending",
        "outbox",
        ["id"],
        postgresql_where=sa.text("sent_at IS NULL"),
        sqlite_where=sa.text("sent_at IS NULL"),
    )
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(100), primary_key=True),
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "tenant_settings",
        sa.Column("tenant_id", sa.String(36), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("document", sa.JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def create_idempotency_table(op) -> None:
    """Idempotency keys (CONTRACT.md §4.1): one row per (tenant, key), written with the write."""
    op.create_table(
        "idempotency_keys",
        sa.Column("tenant_id", sa.String(36), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("headers", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_idempotency_keys_expires_at", "idempotency_keys", ["expires_at"])


def drop_idempotency_table(op) -> None:
    op.drop_index("ix_idempotency_keys_expires_at", "idempotency_keys")
    op.drop_table("idempotency_keys")


def add_idempotency_keys() -> None:
    """The ``upgrade`` of each service's idempotency revision."""
    create_idempotency_table(op)


def drop_idempotency_keys() -> None:
    """The ``downgrade`` of each service's idempotency revision."""
    drop_idempotency_table(op)


def create_webhook_tables(op) -> None:
    """Webhooks, their deliveries and the attempts of each delivery."""
    op.create_table(
        "webhooks",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("events", sa.JSON, nullable=False),
        sa.Column("secret", sa.String(256), nullable=False),
        sa.Column("department", sa.String(64)),
        sa.Column("description", sa.String(500)),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("deleted_at", TS),
    )
    op.create_index("ix_webhooks_tenant", "webhooks", ["tenant_id", "id"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column(
            "webhook_id",
            sa.String(36),
            sa.ForeignKey("webhooks.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("event_id", sa.String(100), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("routing_key", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", TS),
        sa.Column("last_status", sa.Integer),
        sa.Column("last_error", sa.String(1000)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("delivered_at", TS),
        sa.UniqueConstraint("webhook_id", "event_id", name="uq_webhook_deliveries_event"),
    )
    op.create_index(
        "ix_webhook_deliveries_due", "webhook_deliveries", ["status", "next_attempt_at"]
    )
    op.create_index("ix_webhook_deliveries_webhook", "webhook_deliveries", ["webhook_id", "id"])
    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "delivery_id",
            sa.String(36),
            sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("at", TS, nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("error", sa.String(1000)),
        sa.Column("duration_ms", sa.Integer, nullable=False),
    )
    op.create_index("ix_webhook_attempts_delivery", "webhook_attempts", ["delivery_id", "id"])
