"""Competing KPI consumers (two worker replicas on one queue, #15): on a real RabbitMQ and
PostgreSQL, two consumers sharing the KPI queue and store apply a shuffled stream with
redeliveries and republished copies exactly once each, without a deadlock, and end with
the store one consumer applying the events one at a time builds."""

from __future__ import annotations

import dataclasses
import faulthandler
import logging
import random
import tempfile
import threading

import pytest
import sqlalchemy as sa
from kombu import Connection, Producer

from kpi_service.bootstrap import SPEC
from revisit_common.messaging.envelope import CONTENT_TYPE
from revisit_common.runtime import ServiceRuntime
from tests.support.kpi.client import snapshot
from tests.support.kpi.recompute import generate
from tests.support.kpi.scenario import republished
from tests.support.polling import wait_until
from tests.support.settled import watch_settled

pytestmark = pytest.mark.services


def _where(first, watched, amqp_url: str, queue: str, stream: list) -> str:
    """What a stalled run looks like: each consumer's settled count, the events never
    settled (by their place in the published order: a tail of it would be lost on the way in),
    the queue's ready messages, the database sessions that are not idle, and every thread's
    stack."""
    lines = [f"settled: {[len(w.messages) for w in watched]}"]
    seen = {event_id for w in watched for event_id, _ in w.messages}
    missing = [(n, e.id, e.type) for n, e in enumerate(stream) if e.id not in seen]
    lines.append(f"never settled (place, id, type) of {len(stream)} published: {missing}")
    with Connection(amqp_url) as conn:
        _, ready, consumers = conn.channel().queue_declare(queue, passive=True)
        lines.append(f"queue {queue}: {ready} ready, {consumers} consumers")
    with first.db.engine.connect() as conn:
        active = conn.execute(
            sa.text(
                "SELECT pid, state, wait_event_type, wait_event, left(query, 200)"
                " FROM pg_stat_activity WHERE datname = current_database()"
                " AND state <> 'idle' AND pid <> pg_backend_pid()"
            )
        )
        lines += [f"session {tuple(row)}" for row in active]
    with tempfile.TemporaryFile("w+") as dump:  # every thread's stack, the consumers' too
        faulthandler.dump_traceback(dump, all_threads=True)
        dump.seek(0)
        lines.append(dump.read())
    return "\n".join(lines)


def test_two_consumers_on_one_queue_apply_each_event_once(postgres_settings, amqp_url, caplog):
    rng = random.Random(20261206)
    truth = generate(rng, visits=150)
    events = truth.events("tenant-competing")
    stream = events + rng.sample(events, 30) + [republished(e) for e in rng.sample(events, 30)]
    rng.shuffle(stream)  # the tenant's time zone arrives somewhere in the middle
    for n, zone in enumerate(("Asia/Tokyo", "Europe/Berlin", "Asia/Shanghai"), start=2):
        moved = {**events[0].data, "timezone": zone, "settings_version": n}
        changed = dataclasses.replace(
            events[0], id=f"tz-{n}", type="TenantSettingsChanged", data=moved
        )
        stream.insert(len(stream) * n // 5, changed)  # every fact derived again, meanwhile
    distinct = len({e.id for e in stream})
    settings = dataclasses.replace(postgres_settings, prefetch=40)
    alone = dataclasses.replace(settings, db_schema_prefix=settings.db_schema_prefix + "alone_")
    one, first, second = (ServiceRuntime(SPEC, s) for s in (alone, settings, settings))
    caplog.set_level(logging.WARNING, logger="revisit_common.messaging")
    stop = threading.Event()
    try:
        for envelope in stream:
            assert one.consumer.apply(envelope) in ("applied", "duplicate")
        first.declare()
        queue = f"{settings.queue_prefix}.kpi"
        # Straight to the queue (no other test's events), each publish confirmed: the broker
        # holds every message before the consumers start, so a stall is theirs alone.
        with Connection(amqp_url, transport_options={"confirm_publish": True}) as conn:
            producer = Producer(conn.channel(), routing_key=queue)  # the default exchange
            for envelope in stream:
                producer.publish(envelope.to_json(), content_type=CONTENT_TYPE, delivery_mode=2)
        watched = [watch_settled(first), watch_settled(second)]
        for runtime in (first, second):
            name = f"consumer-{len(runtime.threads)}"
            thread = threading.Thread(target=runtime.consumer.run_forever, args=(stop,), name=name)
            thread.start()
            runtime.threads.append(thread)
        try:
            wait_until(
                lambda: sum(len(w.messages) for w in watched) >= len(stream),
                timeout=120,
                message=f"{len(stream)} messages settled",
            )
        except AssertionError as exc:  # say where each consumer is, for whoever reads it
            where = _where(first, watched, amqp_url, queue, stream)
            raise AssertionError(f"{exc}\n{where}") from None
        settled = [list(w.messages) for w in watched]
    finally:
        stop.set()
        for runtime in (first, second):
            for thread in runtime.threads:
                thread.join(timeout=10)
    try:
        outcomes = [outcome for part in settled for _, outcome in part]
        assert outcomes.count("applied") == distinct
        assert outcomes.count("duplicate") == len(stream) - distinct
        assert all(part for part in settled), "both consumers took a share"
        assert not [r for r in caplog.records if "deadlock" in r.getMessage().lower()]
        assert snapshot(first) == snapshot(one)
    finally:
        for runtime in (one, first, second):
            runtime.close()
