"""What a service in this process wrote to its outbox, oldest first (as the bus would carry
it): as envelopes, or as plain documents with their routing key; and relaying all of it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from revisit_common.db import Database
from revisit_common.messaging.envelope import Envelope, parse
from revisit_common.messaging.outbox import outbox_table, pending_count

from .tables import tables_database


def _rows(runtime) -> list:
    with runtime.db.engine.connect() as conn:
        return conn.execute(sa.select(outbox_table).order_by(outbox_table.c.id)).all()


def envelopes(runtime, type_name: str | None = None) -> list[Envelope]:
    """The events of type ``type_name`` (all when None), parsed."""
    found = [parse(row.body) for row in _rows(runtime)]
    return [e for e in found if type_name is None or e.type == type_name]


def events_of(runtime, type_name: str | None = None, routing_key: str | None = None) -> list:
    """The events as JSON documents, each with the ``routing_key`` it is published under."""
    docs = [{**json.loads(row.body), "routing_key": row.routing_key} for row in _rows(runtime)]
    return [
        d
        for d in docs
        if (type_name is None or d["type"] == type_name)
        and (routing_key is None or d["routing_key"] == routing_key)
    ]


def routing_keys(runtime, type_name: str) -> list[str]:
    """The routing keys the events of type ``type_name`` are published under."""
    return [d["routing_key"] for d in events_of(runtime, type_name)]


def relay_all(runtime, *, relay=None, timeout: float = 10.0) -> int:
    """Run passes of ``relay`` (the runtime's own by default) until ``runtime``'s outbox is
    empty, failing after ``timeout`` s; returns how many rows it marked sent."""
    relay = relay or runtime.relay
    sent = 0
    deadline = time.monotonic() + timeout
    while pending_count(runtime.db):
        assert time.monotonic() < deadline, "outbox not drained in time"
        sent += relay.run_once()
    return sent


@contextmanager
def outbox_database(folder) -> Iterator[Database]:
    """A SQLite database in ``folder`` holding the outbox table (and the tables declared on
    its metadata), disposed of afterwards."""
    database = Database(f"sqlite:///{folder / 'outbox.sqlite3'}")
    outbox_table.metadata.create_all(database.engine)
    try:
        yield database
    finally:
        database.dispose()


@contextmanager
def outbox_database_of(request, folder, name: str) -> Iterator[Database]:
    """The outbox's database for a test parametrised over ``tests.support.webhooks.DATABASES``
    (``request.param``): SQLite in ``folder``, or PostgreSQL in a schema of its own whose name
    ends with ``name``."""
    with tables_database(request, folder, name, outbox_table.metadata) as database:
        yield database
