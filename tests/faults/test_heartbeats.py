"""An idle publisher and consumer, and a link that silently dies: heartbeats notice it.

A fake-service worker process (relay of ``writer`` and consumer ``test``) reaches RabbitMQ
through a :class:`TcpProxy` with REVISIT_AMQP_HEARTBEAT=4. First both sit idle for more than
twice the interval on a healthy link: the connections are kept, nothing is lost. Then the
proxy freezes every open connection (no bytes either way, no FIN, no RST: what a dropped NAT
entry or a dead peer looks like): only heartbeats can tell, and both must reconnect, with
the consumer's prefetch applied again, and deliver what was written meanwhile.
"""

from __future__ import annotations

import time
from urllib.parse import urlparse

from revisit_common.config import Settings
from tests.support.fake_service import (
    NoteFlagged,
    inbox_ids,
    make_runtime,
    note_counts,
    record_note,
)

from .harness import (
    NoteWorker,
    TcpProxy,
    consumer_prefetch,
    metric_sum,
    note_env,
    queue_counts,
    report,
    wait_for,
)

HEARTBEAT = 4  # the consumer checks once a second: below ~4 s server beats starve that
PREFETCH = 7  # not the default: seen again on the new channel only if re-applied


def test_idle_and_silently_dead_connections_reconnect_with_prefetch_and_lose_nothing(
    tmp_path, amqp_url, postgres_url, broker_queues, postgres_schemas
):
    port = urlparse(amqp_url).port
    proxy = TcpProxy("127.0.0.1", port)
    proxied = amqp_url.replace(f"127.0.0.1:{port}", f"127.0.0.1:{proxy.port}")
    assert proxied != amqp_url, amqp_url
    env = note_env(
        proxied,
        postgres_url,
        broker_queues,
        postgres_schemas,
        REVISIT_AMQP_HEARTBEAT=HEARTBEAT,
        REVISIT_PREFETCH=PREFETCH,
    )
    local = Settings.from_env({**env, "REVISIT_AMQP_URL": amqp_url})
    writer = make_runtime(local, handlers={}, name="writer")  # writes notes, relays nothing
    consumer = make_runtime(local, name="test")  # reads the consumer's tables
    consumer.declare()
    worker = NoteWorker(env, tmp_path / "worker.log", "writer", "test")
    queue = f"{broker_queues}.test"
    dead = f"{queue}.dead"
    try:
        worker.start()
        written = [record_note(writer, f"warm-{i}").id for i in range(5)]
        record_note(writer, "poison-1", event_cls=NoteFlagged)  # opens the dead-letter link
        wait_for(lambda: set(written) <= set(inbox_ids(consumer.db)), 20, "warm-up applied")
        wait_for(lambda: queue_counts(amqp_url, dead) == (1, 0), 20, "first dead letter")
        assert consumer_prefetch(amqp_url, queue) == [PREFETCH]
        connections = proxy.accepted

        # 1. Idle for more than twice the heartbeat on a healthy link: connections kept.
        time.sleep(2 * HEARTBEAT + 2)
        idle = [record_note(writer, f"idle-{i}").id for i in range(5)]
        wait_for(lambda: set(idle) <= set(inbox_ids(consumer.db)), 20, "applied after idling")
        kept = proxy.accepted == connections

        # 2. The link dies silently: heartbeats must notice, both sides reconnect.
        failures = metric_sum(worker.metrics(), "revisit_publish_failures_total")
        proxy.freeze()
        frozen_at = time.monotonic()
        during = [record_note(writer, f"dead-link-{i}").id for i in range(5)]
        wait_for(
            lambda: set(during) <= set(inbox_ids(consumer.db)),
            8 * HEARTBEAT + 15,
            lambda: f"applied after the link died\n{worker.dump()}",
        )
        recovered = time.monotonic() - frozen_at
        prefetch = wait_for(lambda: consumer_prefetch(amqp_url, queue), 15, "a consumer")
        reconnections = proxy.accepted - connections
        # A poison message now: its dead-letter connection died with the link as well.
        record_note(writer, "poison-2", event_cls=NoteFlagged)
        after = [record_note(writer, f"after-{i}").id for i in range(5)]
        wait_for(
            lambda: set(after) <= set(inbox_ids(consumer.db)),
            30,
            lambda: f"applied afterwards\n{worker.dump()}",
        )
        dead_letters = wait_for(
            lambda: queue_counts(amqp_url, dead)[0] == 2 and 2, 20, "second dead letter"
        )
        samples = worker.metrics()
    finally:
        worker.stop()
        proxy.close()
        writer.close()
        consumer.close()
    counts = note_counts(consumer.db)
    stages = ("warm", "idle", "dead-link", "after")
    expected = {f"{stage}-{i}": 1 for stage in stages for i in range(5)}
    report(
        "heartbeats_idle_and_dead_link",
        heartbeat_s=HEARTBEAT,
        idle_connections_kept=kept,
        reconnections=reconnections,
        prefetch_after=prefetch,
        publish_failures=int(metric_sum(samples, "revisit_publish_failures_total") - failures),
        written=len(expected) + 2,
        dead_lettered=dead_letters,
        lost=len(expected) - len(counts),
        duplicated=sum(counts.values()) - len(counts),
        seconds_to_recover=recovered,
    )
    assert kept, "an idle connection was dropped on a healthy link (heartbeats not sent)"
    assert reconnections >= 2, "the relay and the consumer should both have reconnected"
    assert prefetch == [PREFETCH]
    assert counts == expected
