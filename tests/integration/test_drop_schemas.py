"""Test clean-up cannot hang on a session that holds a lock in a test's schema and never
ends (its client gone without PostgreSQL noticing)."""

from __future__ import annotations

import time

import psycopg
import pytest

from tests.support.servers import drop_schemas

pytestmark = pytest.mark.services


def test_a_session_stuck_in_its_transaction_is_ended_and_the_schema_dropped(
    postgres_url, unique_prefix
):
    prefix = f"{unique_prefix}_"
    stuck = psycopg.connect(postgres_url)
    stuck.execute(f'CREATE SCHEMA "{prefix}a"')
    stuck.execute(f'CREATE TABLE "{prefix}a".t (id int)')
    stuck.commit()
    stuck.execute(f'INSERT INTO "{prefix}a".t VALUES (1)')  # idle in transaction from here
    try:
        started = time.monotonic()
        drop_schemas(postgres_url, prefix, lock_timeout="500ms")
        assert time.monotonic() - started < 30
        with psycopg.connect(postgres_url) as check:
            left = check.execute(
                "SELECT count(*) FROM pg_namespace WHERE nspname = %s", (f"{prefix}a",)
            ).fetchone()[0]
        assert left == 0
        with pytest.raises(psycopg.OperationalError):
            stuck.execute("SELECT 1")
    finally:
        stuck.close()


def test_other_schemas_are_left_alone(postgres_url, unique_prefix):
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{unique_prefix}x_keep"')
        conn.execute(f'CREATE SCHEMA "{unique_prefix}_gone"')
        try:
            drop_schemas(postgres_url, f"{unique_prefix}_")
            names = {
                row[0]
                for row in conn.execute(
                    "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s",
                    (unique_prefix + "%",),
                )
            }
            assert names == {f"{unique_prefix}x_keep"}
        finally:
            conn.execute(f'DROP SCHEMA IF EXISTS "{unique_prefix}x_keep"')
