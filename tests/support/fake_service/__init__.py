"""A minimal service for messaging tests: one table, two events, two handlers.

``NoteWritten`` is applied by writing a ``notes`` row (no unique key, so an event applied
twice shows up as two rows); ``NoteFlagged`` goes to a handler that always raises. Neither
event is in the catalogue of ``revisit_common.events``: they exist only for tests.

A producer is a runtime without handlers (e.g. ``name="writer"``): :func:`record_note` is
its state change, writing a ``notes`` row and the event in one transaction. The consumer is
a runtime named ``"test"`` (the name the ``broker_queues`` fixture cleans up after).

Lanes: the broker is shared (other test runs may be going on at the same time), so note
events carry a *lane*, the test's queue prefix, appended to their routing key
(``note.written.<lane>``, like a department suffix), and a runtime binds only
``note.*.<its queue prefix>``. An event with the empty lane is routed as ``note.written``.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from revisit_common.config import Settings
from revisit_common.db import Database
from revisit_common.events import Event
from revisit_common.messaging.bus import Bus
from revisit_common.messaging.envelope import Envelope, wrap
from revisit_common.messaging.inbox import inbox_table
from revisit_common.messaging.outbox import outbox_table
from revisit_common.messaging.registry import Handler, HandlerContext
from revisit_common.runtime import ServiceRuntime, ServiceSpec

MIGRATIONS = Path(__file__).parent / "migrations"
TENANT = "00000000-0000-7000-8000-000000000001"

_meta = sa.MetaData()
notes_table = sa.Table(
    "notes",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("tenant_id", sa.String(36)),
    sa.Column("text", sa.Text),
)


@dataclass(frozen=True, kw_only=True)
class _Note(Event):
    source_service = "test"
    subject_field = "note_id"
    note_id: str
    text: str
    lane: str = ""

    def routing_key(self) -> str:
        return f"{self.routing}.{self.lane}" if self.lane else self.routing


@dataclass(frozen=True, kw_only=True)
class NoteWritten(_Note):
    routing = "note.written"


@dataclass(frozen=True, kw_only=True)
class NoteFlagged(_Note):
    routing = "note.flagged"


def routing_keys(lane: str) -> list[str]:
    """What a fake-service consumer binds: the note events of its own lane."""
    return [f"note.*.{lane}"]


class NoteRejected(RuntimeError):
    """What :func:`reject_note` always raises."""


def apply_note_written(session: Session, envelope: Envelope, context: HandlerContext) -> None:
    session.execute(
        notes_table.insert().values(tenant_id=envelope.tenantid, text=envelope.data["text"])
    )


def reject_note(session: Session, envelope: Envelope, context: HandlerContext) -> None:
    raise NoteRejected(f"note {envelope.data['note_id']} is never accepted")


HANDLERS: Mapping[str, Handler] = {
    NoteWritten.type_name(): apply_note_written,
    NoteFlagged.type_name(): reject_note,
}


def make_runtime(
    settings: Settings,
    handlers: Mapping[str, Handler] | None = None,
    name: str = "test",
    bus: Bus | None = None,
) -> ServiceRuntime:
    """A migrated runtime of the fake service (``handlers={}``: a producer, no consumer)."""
    spec = ServiceSpec(
        name=name,
        title=f"fake {name}",
        migrations=MIGRATIONS,
        handlers=HANDLERS if handlers is None else handlers,
        routing_keys=routing_keys(settings.queue_prefix),
    )
    return ServiceRuntime(spec, settings, bus=bus)


@contextmanager
def built_runtimes() -> Iterator:
    """``build(settings, name=..., handlers=..., bus=...)``: :func:`make_runtime`, every
    runtime it made closed on exit (its relay too: one used through ``run_once`` keeps its
    connection). The ``runtimes`` fixtures of the messaging tests."""
    made: list[ServiceRuntime] = []

    def build(settings: Settings, **kwargs) -> ServiceRuntime:
        made.append(make_runtime(settings, **kwargs))
        return made[-1]

    try:
        yield build
    finally:
        for runtime in made:
            runtime.relay.close()
            runtime.close()


def record_note(
    runtime: ServiceRuntime,
    text: str,
    *,
    event_cls: type[_Note] = NoteWritten,
    tenant_id: str = TENANT,
    correlation_id: str | None = None,
    lane: str | None = None,
) -> Envelope:
    """The producer's state change: a ``notes`` row and its event, in one transaction.

    ``lane`` defaults to the runtime's queue prefix; ``""`` routes as plain ``note.written``.
    """
    lane = runtime.settings.queue_prefix if lane is None else lane
    with runtime.db.transaction() as session:
        note_id = session.execute(
            notes_table.insert().values(tenant_id=tenant_id, text=text).returning(notes_table.c.id)
        ).scalar_one()
        return runtime.outbox.add(
            session,
            event_cls(note_id=str(note_id), text=text, lane=lane),
            tenant_id=tenant_id,
            correlation_id=correlation_id,
        )


def note_envelope(
    settings: Settings, text: str, *, event_cls: type[_Note] = NoteWritten
) -> tuple[str, Envelope]:
    """A note event made outside any service (to publish by hand): routing key, envelope."""
    event = event_cls(note_id=uuid.uuid4().hex[:8], text=text, lane=settings.queue_prefix)
    return event.routing_key(), wrap(event, tenant_id=TENANT, region=settings.region)


def note_counts(db: Database) -> dict[str, int]:
    """How many ``notes`` rows each text has."""
    with db.engine.connect() as conn:
        rows = conn.execute(
            sa.select(notes_table.c.text, sa.func.count()).group_by(notes_table.c.text)
        ).all()
    return {text: count for text, count in rows}


def inbox_ids(db: Database) -> list[str]:
    with db.engine.connect() as conn:
        return list(conn.execute(sa.select(inbox_table.c.event_id)).scalars())


def outbox_rows(db: Database) -> list[sa.Row]:
    with db.engine.connect() as conn:
        return list(conn.execute(sa.select(outbox_table).order_by(outbox_table.c.id)))


@contextmanager
def running(runtime: ServiceRuntime, join_timeout: float = 10.0) -> Iterator[threading.Event]:
    """Run the runtime's relay and consumer on threads; stop and join them on exit."""
    stop = threading.Event()
    already = len(runtime.threads)
    threads = runtime.start_workers(stop)[already:]
    try:
        yield stop
    finally:
        stop.set()
        for thread in threads:
            thread.join(join_timeout)
        alive = [thread.name for thread in threads if thread.is_alive()]
        assert not alive, f"worker threads did not stop: {alive}"
