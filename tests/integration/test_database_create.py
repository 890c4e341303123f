"""``migrate`` creates a service's PostgreSQL database when the server lacks it (a fresh
server, ``make stack``), and leaves an existing one alone."""

from __future__ import annotations

import secrets
from urllib.parse import urlparse

import sqlalchemy as sa

from revisit_common.database_create import create_missing
from revisit_common.db import make_engine


def _exists(url: str, name: str) -> bool:
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            found = conn.execute(
                sa.text("SELECT count(*) FROM pg_database WHERE datname = :n"), {"n": name}
            )
            return found.scalar_one() == 1
    finally:
        engine.dispose()


def _drop(url: str, name: str) -> None:
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


def test_a_missing_database_is_created_once(postgres_url):
    name = f"revisit_created_{secrets.token_hex(4)}"
    url = urlparse(postgres_url)._replace(path=f"/{name}").geturl()
    try:
        assert _exists(postgres_url, name) is False
        assert create_missing(url) is True
        assert _exists(postgres_url, name) is True
        assert create_missing(url) is False  # there now: left alone
    finally:
        _drop(postgres_url, name)


def test_an_existing_database_and_sqlite_are_left_alone(postgres_url, tmp_path):
    assert create_missing(postgres_url) is False
    assert create_missing(f"sqlite:///{tmp_path / 'x.db'}") is False
    assert not (tmp_path / "x.db").exists()
