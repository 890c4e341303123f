"""The hand-over of webhooks from the complaint database (before its migration 0004) to the
notify database: every row copied once, then complaint's tables dropped; a fresh install or
a second run copies nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from complaint_service.bootstrap import SPEC as COMPLAINT
from notify_service.models import Delivery, DeliveryAttempt, Webhook
from revisit_common import migrations
from revisit_common.config import Settings
from revisit_common.db import Database
from revisit_runner.handover import move_webhooks
from tests.support.settings import make_settings
from tests.support.webhooks import DATABASES

NOW = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)


@pytest.fixture(params=DATABASES)
def settings(request, tmp_path):
    if request.param == "sqlite":
        return make_settings(data_dir=tmp_path)
    return make_settings(
        database_url=request.getfixturevalue("postgres_url"),
        db_schema_prefix=request.getfixturevalue("postgres_schemas"),
    )


def database(settings: Settings, service: str) -> Database:
    db = Database(*settings.database_for(service))
    if db.schema:
        with db.engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{db.schema}"'))
    return db


def complaint_at_0003(settings: Settings) -> Database:
    """The complaint database as v1.0 left it, with a webhook, a delivery and an attempt."""
    db = database(settings, "complaint")
    cfg = Config()
    cfg.set_main_option("script_location", str(COMPLAINT.migrations))
    with db.engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003")
        conn.commit()
    with db.engine.begin() as conn:
        conn.execute(
            sa.insert(Webhook.__table__),
            [
                {
                    "id": "w1",
                    "tenant_id": "t",
                    "url": "https://h.example/in",
                    "events": ["complaint.*"],
                    "secret": "s" * 20,
                    "department": "product",
                    "description": None,
                    "active": True,
                    "created_by": "key-admin",
                    "created_at": NOW,
                    "deleted_at": None,
                }
            ],
        )
        conn.execute(
            sa.insert(Delivery.__table__),
            [
                {
                    "id": "d1",
                    "tenant_id": "t",
                    "webhook_id": "w1",
                    "event_id": "e1",
                    "event_type": "ComplaintRaised",
                    "routing_key": "complaint.raised.product",
                    "body": "{}",
                    "status": "pending",
                    "attempts": 1,
                    "next_attempt_at": NOW,
                    "last_status": 500,
                    "last_error": "HTTP 500",
                    "created_at": NOW,
                    "delivered_at": None,
                }
            ],
        )
        conn.execute(
            sa.insert(DeliveryAttempt.__table__),
            [
                {
                    "id": "a1",
                    "delivery_id": "d1",
                    "at": NOW,
                    "status_code": 500,
                    "error": "HTTP 500",
                    "duration_ms": 12,
                }
            ],
        )
    return db


def test_webhooks_move_once_then_complaint_drops_its_tables(settings):
    complaint = complaint_at_0003(settings)
    try:
        assert move_webhooks(settings) == 3
        assert move_webhooks(settings) == 0  # copied by id: nothing twice
        migrations.upgrade(complaint, COMPLAINT.migrations)
        left = set(sa.inspect(complaint.engine).get_table_names(schema=complaint.schema))
        assert {"webhooks", "webhook_deliveries", "webhook_attempts"} & left == set()
        assert move_webhooks(settings) == 0  # nothing left to move
    finally:
        complaint.dispose()
    notify = database(settings, "notify")
    try:
        with notify.read() as session:
            hook = session.get(Webhook, "w1")
            assert (hook.url, hook.events, hook.department) == (
                "https://h.example/in",
                ["complaint.*"],
                "product",
            )
            assert hook.created_at == NOW
            delivery = session.get(Delivery, "d1")
            assert (delivery.status, delivery.attempts, delivery.last_error) == (
                "pending",
                1,
                "HTTP 500",
            )
            assert [a.id for a in delivery.attempt_log] == ["a1"]
    finally:
        notify.dispose()


def test_a_fresh_install_has_nothing_to_move(settings):
    assert move_webhooks(settings) == 0
