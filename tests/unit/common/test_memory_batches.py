"""Standalone mode's consumers and relays under load (memory:// and SQLite): events already
waiting are applied in bounded batches, each still exactly once and acked after its commit;
a failing event in a batch is dead-lettered and the rest applied; the relay marks confirmed
rows sent in batches too, and all of them by a clean stop."""

from __future__ import annotations

import itertools
import threading

import pytest

from revisit_common.messaging.consumer import EMBEDDED_BATCH
from revisit_common.messaging.envelope import parse
from revisit_common.messaging.outbox import pending_count
from revisit_common.messaging.settlement import Settlements
from tests.support import fake_service as fake
from tests.support import memory_bus
from tests.support.fake_service import HANDLERS, NoteFlagged
from tests.support.polling import wait_until
from tests.support.settled import watch_settled


@pytest.fixture
def settings(tmp_path):
    yield from memory_bus.own_queues(
        tmp_path,
        ("test", "writer"),
        relay_interval=0.02,
        consumer_retries=1,
        consumer_backoff=0.01,
    )


@pytest.fixture
def runtimes():
    with fake.built_runtimes() as build:
        yield build


def _transactions_spy():
    """A NoteWritten handler recording, per event, which transaction applied it."""
    numbers = itertools.count()
    applied: list[tuple[int, str]] = []
    lock = threading.Lock()

    def spy(session, envelope, context):
        number = session.info.setdefault("transaction", next(numbers))
        with lock:
            applied.append((number, envelope.id))
        HANDLERS["NoteWritten"](session, envelope, context)

    return spy, applied


def test_waiting_events_are_applied_in_bounded_batches_each_once(settings, runtimes):
    spy, applied = _transactions_spy()
    consumer = runtimes(settings, handlers={**HANDLERS, "NoteWritten": spy})
    consumer.declare()
    assert consumer.consumer.batch == EMBEDDED_BATCH
    events = [fake.note_envelope(settings, f"n-{i}") for i in range(3 * EMBEDDED_BATCH + 5)]
    key = events[0][0]
    memory_bus.publish(key, *(envelope.to_json() for _, envelope in events))
    memory_bus.publish(key, events[0][1].to_json())  # a redelivery, after the rest

    settled = watch_settled(consumer)
    with fake.running(consumer):
        outcomes = settled.wait(len(events) + 1)
    assert outcomes == [(e.id, "applied") for _, e in events] + [(events[0][1].id, "duplicate")]
    assert fake.note_counts(consumer.db) == {f"n-{i}": 1 for i in range(len(events))}
    assert sorted(fake.inbox_ids(consumer.db)) == sorted(e.id for _, e in events)
    sizes = [len(list(run)) for _, run in itertools.groupby(applied, key=lambda a: a[0])]
    assert max(sizes) == EMBEDDED_BATCH  # they were waiting: batches, bounded
    assert sum(sizes) == len(events)
    assert memory_bus.drain(consumer.consumer.queue) == []  # every one acked


def test_a_failing_event_in_a_batch_is_dead_lettered_and_the_rest_applied(settings, runtimes):
    spy, applied = _transactions_spy()
    consumer = runtimes(settings, handlers={**HANDLERS, "NoteWritten": spy})
    consumer.declare()
    before = [fake.note_envelope(settings, f"before-{i}") for i in range(3)]
    key_bad, poison = fake.note_envelope(settings, "poison", event_cls=NoteFlagged)
    after = [fake.note_envelope(settings, f"after-{i}") for i in range(3)]
    key = before[0][0]
    memory_bus.publish(key, *(e.to_json() for _, e in before))
    memory_bus.publish(key_bad, poison.to_json())
    memory_bus.publish(key, *(e.to_json() for _, e in after))

    settled = watch_settled(consumer)
    with fake.running(consumer):
        outcomes = dict(settled.wait(7))
    assert outcomes.pop(poison.id) == "dead"
    assert outcomes == {e.id: "applied" for _, e in before + after}
    assert fake.note_counts(consumer.db) == {
        **{f"before-{i}": 1 for i in range(3)},
        **{f"after-{i}": 1 for i in range(3)},
    }
    assert poison.id not in fake.inbox_ids(consumer.db)
    [dead] = memory_bus.drain(consumer.consumer.dead_queue)
    assert parse(dead.body).id == poison.id
    assert "NoteRejected" in dead.headers["x-revisit-reason"]
    assert memory_bus.drain(consumer.consumer.queue) == []


def test_the_running_relay_marks_settled_rows_sent(settings, runtimes):
    consumer = runtimes(settings)
    writer = runtimes(settings, name="writer", handlers={})
    consumer.declare()
    settled = watch_settled(consumer)
    with fake.running(consumer), fake.running(writer):
        written = [fake.record_note(writer, f"n-{i}") for i in range(20)]
        settled.wait_for(*(e.id for e in written))
        wait_until(lambda: pending_count(writer.db) == 0, message="the outbox rows marked sent")
    assert fake.note_counts(consumer.db) == {f"n-{i}": 1 for i in range(20)}


def test_a_clean_stop_marks_every_settled_row_sent(settings, runtimes):
    consumer = runtimes(settings)
    writer = runtimes(settings, name="writer", handlers={})
    consumer.declare()
    settled = watch_settled(consumer)
    with fake.running(consumer):
        with fake.running(writer):
            written = [fake.record_note(writer, f"n-{i}") for i in range(5)]
            settled.wait_for(*(e.id for e in written))
            # stopped at once: the relay has not marked them yet, its stop does
        assert pending_count(writer.db) == 0


def test_routes_are_matched_again_after_a_binding_changes():
    settlements = Settlements()
    settlements.bind("visit", ["customer.*"])
    assert settlements.consumers_of("customer.graded") == {"visit"}
    settlements.bind("kpi", ["#"])
    assert settlements.consumers_of("customer.graded") == {"visit", "kpi"}
    settlements.bind("visit", ["repair.closed"])
    assert settlements.consumers_of("customer.graded") == {"kpi"}
