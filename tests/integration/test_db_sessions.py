"""Every PostgreSQL session a service opens ends a transaction its client abandoned."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from revisit_common import db
from revisit_common.db import make_engine

pytestmark = pytest.mark.services


def test_the_timeout_is_set_and_the_schema_kept(postgres_url, postgres_schemas):
    schema = f"{postgres_schemas}svc"
    engine = make_engine(postgres_url, schema=schema)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
            conn.execute(sa.text("CREATE TABLE t (id int)"))  # lands in the search path
        with engine.connect() as conn:
            timeout = conn.execute(sa.text("SHOW idle_in_transaction_session_timeout")).scalar()
            where = conn.execute(
                sa.text(
                    "SELECT table_schema FROM information_schema.tables "
                    "WHERE table_name = 't' AND table_schema LIKE :p"
                ),
                {"p": postgres_schemas + "%"},
            ).scalar_one()
        assert timeout == "5min"
        assert where == schema
    finally:
        engine.dispose()


def test_a_transaction_left_idle_is_ended_by_the_server(postgres_url, monkeypatch):
    monkeypatch.setattr(db, "IDLE_IN_TRANSACTION_TIMEOUT", "300ms")
    engine = make_engine(postgres_url)
    try:
        with engine.connect() as conn:
            pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar()
            time.sleep(1.5)  # inside the transaction SQLAlchemy began, saying nothing
            with pytest.raises(sa.exc.DBAPIError, match="idle-in-transaction timeout"):
                conn.execute(sa.text("SELECT 1"))
        with engine.connect() as conn:
            alive = conn.execute(
                sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            ).scalar()
        assert alive == 0
    finally:
        engine.dispose()
