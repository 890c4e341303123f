"""Processes killed at the worst moments: each event is still applied exactly once.

The relay and consumer kills use the fake service of tests/support in a worker process of
its own (``note_worker``), killed at an exact point by ``REVISIT_FAULT_INJECT`` and restarted
without it; its ``notes`` table has no unique key, so an event applied twice would show as two
rows. The SIGKILL in the middle of a batch hits the KPI worker of the native stack.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest

from revisit_common.config import Settings
from revisit_common.faults import EXIT_CODE
from revisit_common.messaging.outbox import pending_count
from tests.support.client import ADMIN
from tests.support.fake_service import inbox_ids, make_runtime, note_counts, record_note
from tests.support.outbox import relay_all
from tests.support.rabbit import PikaClient

from .harness import (
    NoteWorker,
    kpi_counts,
    metric_sum,
    new_tenant,
    note_env,
    queue_counts,
    report,
    wait_for,
    write_stream,
)

NOTES = 20


@pytest.fixture
def note_setup(tmp_path, amqp_url, postgres_url, broker_queues, postgres_schemas):
    """Env of the fake-service processes, and the test's own runtimes on the same schemas:
    ``writer`` (notes and their outbox rows) and ``test`` (the consumer's tables, its queue
    declared)."""
    env = note_env(amqp_url, postgres_url, broker_queues, postgres_schemas)
    settings = Settings.from_env(env)
    writer = make_runtime(settings, handlers={}, name="writer")
    consumer = make_runtime(settings, name="test")
    consumer.declare()
    yield env, writer, consumer
    writer.relay.close()
    writer.close()
    consumer.close()


def test_relay_killed_after_confirm_before_mark_sent_publishes_again_applied_once(
    note_setup, tmp_path, amqp_url, broker_queues
):
    env, writer, consumer = note_setup
    tap = PikaClient(amqp_url)
    try:
        queue = tap.tap(f"note.*.{broker_queues}")
        written = [record_note(writer, f"n-{i}").id for i in range(NOTES)]

        relay = NoteWorker(env, tmp_path / "relay.log", "writer")
        relay.start("relay_after_confirm", wait=False)
        code = relay.wait_exit(30)
        assert code == EXIT_CODE, relay.output()
        first = Counter(_id(m) for m in tap.collect(queue, set(written)))
        confirmed_unmarked = pending_count(writer.db)
        assert set(first) == set(written), "the batch was not confirmed before the kill"
        assert confirmed_unmarked == NOTES, "rows were marked sent: the kill came too late"

        started = time.monotonic()
        relay.start()  # without the fault
        wait_for(lambda: pending_count(writer.db) == 0, 30, "outbox drained after restart")
        again = Counter(_id(m) for m in tap.collect(queue, set(written)))
        worker = NoteWorker(env, tmp_path / "consumer.log", "test").start()
        wait_for(lambda: len(inbox_ids(consumer.db)) == NOTES, 30, "every note applied")
        recovered = time.monotonic() - started
        # Every copy on the consumer's queue settled (each row published twice), so a
        # duplicate still in flight has landed.
        delivered = sum(first.values()) + sum(again.values())
        samples = wait_for(lambda: _settled(worker.metrics(), delivered), 30, "every copy settled")
        duplicates = metric_sum(samples, "revisit_events_consumed_total", outcome="duplicate")
        worker.stop()
        relay.stop()
    finally:
        tap.close()
    counts = note_counts(consumer.db)
    report(
        "relay_killed_after_confirm",
        events=NOTES,
        published_first=sum(first.values()),
        confirmed_not_marked=confirmed_unmarked,
        published_again=sum(again.values()),
        applied=sum(counts.values()),
        duplicates_skipped=int(duplicates),
        lost=NOTES - len(counts),
        duplicated=sum(counts.values()) - len(counts),
        seconds_to_recover=recovered,
    )
    assert set(again) == set(written), "the unmarked rows were not published again"
    assert duplicates == NOTES  # each one arrived twice, and the inbox skipped the copy
    assert counts == {f"n-{i}": 1 for i in range(NOTES)}


def _settled(samples: dict, count: int) -> dict | None:
    """``samples`` once the worker has applied or skipped ``count`` messages in all."""
    done = sum(
        metric_sum(samples, "revisit_events_consumed_total", outcome=outcome)
        for outcome in ("applied", "duplicate")
    )
    return samples if done >= count else None


def _id(message) -> str:
    import json

    return json.loads(message.body)["id"]


@pytest.mark.parametrize(
    ("point", "nth"),
    [("consumer_after_commit", 5), ("consumer_before_commit", 2)],
    ids=["after-commit-before-ack", "before-commit"],
)
def test_consumer_killed_around_its_commit_applies_each_event_once(
    note_setup, tmp_path, amqp_url, broker_queues, point, nth
):
    """Killed after the commit, before the ack of the ``nth`` message (so ``nth - 1`` were
    acked); or before the ``nth`` commit (a message's, or a batch's when the consumer
    commits a batch at once). Prefetch 20: every message is in flight when it dies."""
    env, writer, consumer = note_setup
    written = [record_note(writer, f"n-{i}").id for i in range(NOTES)]
    relay_all(writer, timeout=20)

    worker = NoteWorker(env, tmp_path / "consumer.log", "test")
    worker.start(f"{point}:{nth}", wait=False)
    assert worker.wait_exit(30) == EXIT_CODE, worker.output()
    committed = len(inbox_ids(consumer.db))
    acked = nth - 1 if point == "consumer_after_commit" else committed  # acks sent
    ready = wait_for(
        lambda: (c := queue_counts(amqp_url, f"{broker_queues}.test"))[1] == 0 and c[0],
        15,
        "the dead consumer's unacknowledged messages back in the queue",
    )

    started = time.monotonic()
    worker.start()
    wait_for(lambda: len(inbox_ids(consumer.db)) == NOTES, 30, "every note applied")
    recovered = time.monotonic() - started
    # Every redelivered message settled (applied, or skipped as a duplicate).
    samples = wait_for(lambda: _settled(worker.metrics(), ready), 30, "redeliveries settled")
    worker.stop()
    duplicates = metric_sum(samples, "revisit_events_consumed_total", outcome="duplicate")
    applied_after = metric_sum(samples, "revisit_events_consumed_total", outcome="applied")
    counts = note_counts(consumer.db)
    report(
        f"consumer_killed_{point}",
        events=NOTES,
        committed_before_kill=committed,
        acks_sent=acked,
        acks_received=NOTES - ready,
        redelivered=ready,
        duplicates_skipped=int(duplicates),
        applied_after_restart=int(applied_after),
        lost=NOTES - len(counts),
        duplicated=sum(counts.values()) - len(counts),
        seconds_to_recover=recovered,
    )
    if point == "consumer_after_commit":
        assert committed >= nth  # the nth was committed when it died
    else:
        assert committed < NOTES  # the nth transaction was not
    # Every message whose ack the broker did not get came back, the one being handled
    # included. (Acks written just before the kill may die with the socket: the kernel
    # resets a connection closed with unread deliveries, dropping what it had not sent.)
    assert NOTES - acked <= ready <= NOTES
    acks_received = NOTES - ready
    assert duplicates == committed - acks_received  # committed, not acked: skipped
    assert applied_after == NOTES - committed
    assert sorted(inbox_ids(consumer.db)) == sorted(written)
    assert counts == {f"n-{i}": 1 for i in range(NOTES)}


def test_kpi_worker_sigkilled_in_the_middle_of_a_batch(stack, sources, amqp_url, fault_prefix):
    tenant, key = new_tenant(stack.gateway, ADMIN, "SIGKILL")
    kpi_queue = f"{fault_prefix}.kpi"
    stack.stop_role("kpi-worker")  # events pile up in its queue meanwhile
    # Enough of them that the worker (some 5,000 events/s) cannot drain them in the time
    # between seeing it under way and the kill (two queries and a passive declare).
    outcomes = write_stream(stack.gateway, key, 1200, clients=6, purchases_per_customer=9)
    assert all(o.status == 201 for o in outcomes)
    wait_for(lambda: not any(stack.outbox_pending().values()), 60, "everything published")
    backlog = wait_for(lambda: queue_counts(amqp_url, kpi_queue)[0], 10, "a backlog")
    before, _ = sources.kpi_events(tenant)

    stack.start_role("kpi-worker")
    wait_for(
        lambda: sources.kpi_events(tenant)[0] > before, 60, "the worker under way", interval=0.02
    )
    ready_before = queue_counts(amqp_url, kpi_queue)[0]
    stack.kill_role("kpi-worker")
    applied_at_kill = sources.kpi_events(tenant)[0] - before
    ready_after = wait_for(
        lambda: (c := queue_counts(amqp_url, kpi_queue))[1] == 0 and c[0], 15, "requeued"
    )
    assert applied_at_kill < backlog, "the worker finished before the kill: proves nothing"

    started = time.monotonic()
    stack.start_role("kpi-worker")
    source = sources.customers(tenant)
    kpi = wait_for(
        lambda: (
            (k := kpi_counts(stack.gateway, key)) and all(k[n] == source[n] for n in source) and k
        ),
        90,
        f"KPI counts equal to the sources {source}",
    )
    recovered = time.monotonic() - started
    wait_for(lambda: queue_counts(amqp_url, kpi_queue)[0] == 0, 60, "the kpi queue drained")
    events, distinct = sources.kpi_events(tenant)
    dead = queue_counts(amqp_url, f"{kpi_queue}.dead")[0]
    duplicates = metric_sum(
        stack.worker_metrics("kpi"), "revisit_events_consumed_total", outcome="duplicate"
    )
    accepted = sum(o.status == 201 for o in outcomes)
    report(
        "kpi_worker_sigkill_mid_batch",
        writes_tried=len(outcomes),
        accepted=accepted,
        queued_events=backlog,
        applied_before_kill=applied_at_kill,
        in_flight_requeued=ready_after - ready_before,
        duplicates_skipped=int(duplicates),
        lost=accepted - (kpi["customers"] + kpi["purchases"]),
        duplicated=events - distinct + dead,
        seconds_to_recover=recovered,
    )
    # The kill returned the worker's unacknowledged batch to the queue: more ready after
    # the kill than just before it, although nothing was published in between.
    assert ready_after > ready_before
    assert accepted == source["customers"] + source["purchases"]
    assert events == distinct and dead == 0
