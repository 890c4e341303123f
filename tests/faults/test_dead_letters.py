"""A poison message is dead-lettered with its reason while the rest keeps flowing; after a
fix, `python -m revisit_runner.replay_dead <service>` puts it back and it is applied once.

The fake service's NoteFlagged handler always raises (the poison); ``note_worker --fixed``
stands for the deployed fix.
"""

from __future__ import annotations

import subprocess
import sys
import time

from kombu import Connection, Queue

from revisit_common.config import Settings
from tests.support.fake_service import (
    NoteFlagged,
    inbox_ids,
    make_runtime,
    note_counts,
    record_note,
)

from .harness import NoteWorker, note_env, python_env, queue_counts, report, wait_for


def _replay(env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "revisit_runner.replay_dead", *args],
        env=python_env(env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_poison_message_dead_lettered_with_reason_then_replayed_after_a_fix(
    tmp_path, amqp_url, postgres_url, broker_queues, postgres_schemas
):
    env = note_env(amqp_url, postgres_url, broker_queues, postgres_schemas)
    settings = Settings.from_env(env)
    writer = make_runtime(settings, handlers={}, name="writer")
    consumer = make_runtime(settings, name="test")
    consumer.declare()
    dead_queue = f"{broker_queues}.test.dead"
    worker = NoteWorker(env, tmp_path / "worker.log", "writer", "test")
    fixed = NoteWorker(env, tmp_path / "fixed.log", "writer", "test", fixed=True)
    try:
        worker.start()
        before = [record_note(writer, f"before-{i}").id for i in range(5)]
        poison = record_note(writer, "poison", event_cls=NoteFlagged)
        after = [record_note(writer, f"after-{i}").id for i in range(20)]
        wait_for(
            lambda: set(before + after) <= set(inbox_ids(consumer.db)),
            30,
            "the rest kept flowing",
        )
        wait_for(lambda: queue_counts(amqp_url, dead_queue)[0] == 1, 30, "one dead letter")
        headers = _peek(amqp_url, dead_queue)
        assert poison.id not in inbox_ids(consumer.db)

        # Replaying before the fix: dead-lettered again, still not applied.
        assert "replayed 1 message" in _replay(env, "test")
        wait_for(lambda: queue_counts(amqp_url, dead_queue)[0] == 1, 30, "dead again")
        again = _peek(amqp_url, dead_queue)
        worker.stop()

        fixed.start()  # the fix is deployed
        started = time.monotonic()
        output = _replay(env, "test", "--limit", "10")
        wait_for(lambda: poison.id in inbox_ids(consumer.db), 30, "the poison applied")
        replayed_s = time.monotonic() - started
        left = queue_counts(amqp_url, dead_queue)[0]  # the replay took it; applied, not back
        empty = _replay(env, "test")
    finally:
        worker.stop()
        fixed.stop()
        writer.close()
        consumer.close()
    counts = note_counts(consumer.db)
    report(
        "poison_message_and_replay",
        messages=len(before) + 1 + len(after),
        dead_lettered=1,
        reason=headers["x-revisit-reason"][:60],
        applied_while_poisoned=len(before) + len(after),
        replayed_after_fix=output.strip(),
        dead_left=left,
        lost=len(before) + len(after) + 1 - len(counts),
        duplicated=sum(counts.values()) - len(counts),
        seconds_to_apply_after_replay=replayed_s,
    )
    assert "NoteRejected" in headers["x-revisit-reason"]
    assert headers["x-revisit-service"] == "test"
    assert headers["x-revisit-attempts"] == settings.consumer_retries + 1
    assert headers["x-revisit-routing-key"] == f"note.flagged.{broker_queues}"
    assert "NoteRejected" in again["x-revisit-reason"]
    assert "replayed 1 message" in output
    assert left == 0 and "replayed 0 message" in empty
    expected = {f"before-{i}": 1 for i in range(5)} | {f"after-{i}": 1 for i in range(20)}
    assert counts == {**expected, "poison": 1}


def _peek(amqp_url: str, queue: str) -> dict:
    """The headers of the first message of ``queue``, which stays there."""
    with Connection(amqp_url, connect_timeout=5) as conn:
        message = Queue(queue, no_declare=True)(conn.channel()).get(no_ack=False)
        assert message is not None, f"{queue} is empty"
        headers = dict(message.headers)
        message.requeue()
    return headers
