"""The consumer's batches on PostgreSQL: the messages waiting are applied in one transaction,
acked after its commit, with the same effect as one transaction each; a batch that fails is
rolled back and applied one by one (the failing message keeps its number of attempts).
And the KPI store's batch path gives exactly the facts and aggregates of the one-by-one path.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter

import sqlalchemy as sa

from revisit_common.messaging.envelope import CONTENT_TYPE
from tests.support.fake_service import (
    HANDLERS,
    note_counts,
    note_envelope,
    running,
)
from tests.support.polling import wait_until
from tests.support.settled import watch_settled


def _publish(pika_client, settings, texts, *, flagged=(), invalid=()):
    """Note events for ``texts`` (a NoteFlagged for those in ``flagged``, a body that is not
    a CloudEvent for those in ``invalid``); returns their envelopes by text."""
    from tests.support.fake_service import NoteFlagged

    out = {}
    for text in texts:
        if text in invalid:
            key = f"note.written.{settings.queue_prefix}"
            pika_client.publish(key, b'{"not": "a cloudevent"}', content_type=CONTENT_TYPE)
            continue
        cls = NoteFlagged if text in flagged else None
        key, envelope = (
            note_envelope(settings, text, event_cls=cls) if cls else note_envelope(settings, text)
        )
        pika_client.publish(key, envelope.to_json(), content_type=CONTENT_TYPE)
        out[text] = envelope
    return out


def test_waiting_messages_are_applied_in_few_transactions(postgres_settings, runtimes, pika_client):
    settings = postgres_settings
    sessions = Counter()
    lock = threading.Lock()

    def spy(session, envelope, context):
        with lock:
            sessions[id(session)] += 1
        HANDLERS["NoteWritten"](session, envelope, context)

    consumer = runtimes(settings, handlers={"NoteWritten": spy})
    assert consumer.consumer.batching and consumer.consumer.batch == settings.prefetch // 2
    consumer.declare()
    texts = [f"b-{i}" for i in range(60)]
    sent = _publish(pika_client, settings, texts)
    # the same event twice, in the same batch: applied once
    key = f"note.written.{settings.queue_prefix}"
    pika_client.publish(key, sent["b-3"].to_json(), content_type=CONTENT_TYPE)

    settled = watch_settled(consumer)
    with running(consumer):
        assert sorted(settled.wait(61)) == sorted(
            [(e.id, "applied") for e in sent.values()] + [(sent["b-3"].id, "duplicate")]
        )
        wait_until(
            lambda: pika_client.queue_depth(f"{settings.queue_prefix}.test") == 0,
            message="all acked",
        )
    assert note_counts(consumer.db) == {text: 1 for text in texts}
    assert sum(sessions.values()) == 60
    assert len(sessions) < 30, f"{len(sessions)} transactions for 60 events"


def test_a_failing_message_in_a_batch_keeps_its_attempts_and_the_rest_is_applied(
    postgres_settings, runtimes, pika_client
):
    settings = postgres_settings
    calls = []

    def failing(session, envelope, context):
        calls.append(envelope.id)
        HANDLERS["NoteFlagged"](session, envelope, context)

    consumer = runtimes(settings, handlers={**HANDLERS, "NoteFlagged": failing})
    consumer.declare()
    texts = [f"p-{i}" for i in range(8)]
    sent = _publish(pika_client, settings, texts, flagged={"p-3"}, invalid={"p-5"})
    dead_queue = f"{settings.queue_prefix}.test.dead"

    settled = watch_settled(consumer)
    with running(consumer):
        settled.wait(8)
        first = wait_until(lambda: pika_client.get(dead_queue), message="first dead letter")
        second = wait_until(lambda: pika_client.get(dead_queue), message="second dead letter")

    assert sorted(settled.outcomes()) == ["applied"] * 6 + ["dead"] * 2
    assert note_counts(consumer.db) == {t: 1 for t in texts if t not in ("p-3", "p-5")}
    assert calls == [sent["p-3"].id] * (settings.consumer_retries + 1)
    dead = {json.loads(m.body).get("id"): m for m in (first, second)}
    poison = dead[sent["p-3"].id]
    assert poison.properties.headers["x-revisit-attempts"] == settings.consumer_retries + 1
    assert dead[None].properties.headers["x-revisit-attempts"] == 0
    assert pika_client.queue_depth(f"{settings.queue_prefix}.test") == 0


# --------------------------------------------------------------------------- KPI store


def _kpi_snapshot(db) -> dict:
    from kpi_service.models import daily, event_log, facts, totals

    with db.engine.connect() as conn:
        out = {
            t.name: sorted(tuple(r) for r in conn.execute(sa.select(t)).all())
            for t in (daily, totals)
        }
        out["facts"] = sorted(
            (
                r.tenant_id,
                r.kind,
                r.entity_id,
                json.dumps(r.state, sort_keys=True),
                json.dumps(r.applied, sort_keys=True),
            )
            for r in conn.execute(sa.select(facts)).all()
        )
        out["log"] = sorted(conn.execute(sa.select(event_log.c.event_id)).scalars())
    return out


def test_kpi_batches_give_the_same_store_as_one_event_at_a_time(postgres_settings):
    import dataclasses

    from kpi_service.bootstrap import SPEC
    from revisit_common.runtime import ServiceRuntime
    from tests.support.kpi.recompute import generate
    from tests.support.kpi.scenario import republished

    rng = random.Random(20261123)
    tenant = "tenant-batch"
    truth = generate(rng, visits=400)
    events = truth.events(tenant)
    stream = events + rng.sample(events, 60) + [republished(e) for e in rng.sample(events, 60)]
    rng.shuffle(stream)  # the tenant's time zone arrives somewhere in the middle
    # a second time zone change later on
    moved = dataclasses.replace(
        events[0],
        id="tz-2",
        type="TenantSettingsChanged",
        data={**events[0].data, "timezone": "Asia/Tokyo", "settings_version": 2},
    )
    stream.insert(len(stream) * 3 // 4, moved)

    one = ServiceRuntime(
        SPEC,
        dataclasses.replace(
            postgres_settings, db_schema_prefix=postgres_settings.db_schema_prefix + "one_"
        ),
    )
    many = ServiceRuntime(
        SPEC,
        dataclasses.replace(
            postgres_settings, db_schema_prefix=postgres_settings.db_schema_prefix + "many_"
        ),
    )
    try:
        assert many.consumer.batching
        for envelope in stream:
            assert one.consumer.apply(envelope) in ("applied", "duplicate")
        position = 0
        outcomes = Counter()
        while position < len(stream):
            size = rng.choice((1, 7, 50, 100, 250))
            chunk = stream[position : position + size]
            position += size
            outcomes.update(many.consumer.apply_batch(chunk))
        assert outcomes["duplicate"] == 60
        assert _kpi_snapshot(many.db) == _kpi_snapshot(one.db)
    finally:
        one.close()
        many.close()
