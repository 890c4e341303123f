"""Creating a service's PostgreSQL database when it does not exist yet.

``migrate`` (the Helm pre-upgrade Job, ``make stack``) calls :func:`create_missing` before
the migrations, so a fresh server needs nothing done by hand. The database is created from
the server's maintenance database ``postgres``, by the URL's own user (who must be allowed
to create databases; where it is not, the error says so).
"""

from __future__ import annotations

from urllib.parse import urlparse

import sqlalchemy as sa

from .db import make_engine


def create_missing(url: str) -> bool:
    """Create the database ``url`` names if the server does not have it: True if created.
    Not PostgreSQL (SQLite creates its file itself): nothing to do."""
    if not url.startswith(("postgresql://", "postgresql+psycopg://")):
        return False
    name = urlparse(url).path.lstrip("/")
    if not name:
        return False
    engine = make_engine(urlparse(url)._replace(path="/postgres").geturl(), pool_size=1)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            exists = conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).first()
            if exists:
                return False
            quoted = conn.dialect.identifier_preparer.quote_identifier(name)
            conn.execute(sa.text(f"CREATE DATABASE {quoted}"))
            return True
    finally:
        engine.dispose()
