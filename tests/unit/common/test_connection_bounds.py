"""PostgreSQL connections are bounded per process by the settings, the native stack's
worst case is the sum over its processes (README "Connections per process"), and a
consumer that waited too long for a pooled connection puts its events back."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from revisit_common.config import Settings
from revisit_runner import stack
from revisit_runner.stack import connections, roles
from tests.support import fake_service as fake
from tests.support import memory_bus
from tests.support.fake_service import HANDLERS
from tests.support.settled import watch_settled


def test_the_pool_bounds_come_from_the_environment():
    settings = Settings.from_env(
        {
            "REVISIT_DB_POOL_SIZE": "2",
            "REVISIT_DB_MAX_OVERFLOW": "0",
            "REVISIT_DB_POOL_TIMEOUT": "0.5",
        }
    )
    assert settings.pool() == {"pool_size": 2, "max_overflow": 0, "pool_timeout": 0.5}
    assert Settings.from_env({}).pool() == {"pool_size": 5, "max_overflow": 5, "pool_timeout": 5.0}


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_a_pool_timeout_must_be_a_positive_number(value):
    with pytest.raises(ValueError, match="REVISIT_DB_POOL_TIMEOUT"):
        Settings.from_env({"REVISIT_DB_POOL_TIMEOUT": value})


def test_the_stack_by_default_holds_at_most_43():
    # 6 backends x 1 gunicorn worker x (1 + 1), the gateway (1 + 1) + 8 threads' own,
    # 7 workers x (1 + 1 + the outbox LISTEN)
    assert connections({}) == 12 + 10 + 21
    assert connections({"REVISIT_DB_POOL_SIZE": "", "WEB_CONCURRENCY": ""}) == 43


def test_the_stack_counts_what_the_environment_sets():
    env = {
        "REVISIT_DB_POOL_SIZE": "1",
        "REVISIT_DB_MAX_OVERFLOW": "3",
        "WEB_CONCURRENCY": "2",
        "REVISIT_WEB_THREADS": "4",
    }
    assert connections(env) == 6 * 2 * 4 + (4 + 4) + 7 * 5


def test_the_stack_refuses_to_start_over_its_limit(monkeypatch, capsys):
    monkeypatch.setenv("REVISIT_AMQP_URL", "amqp://nobody@127.0.0.1:1//")
    monkeypatch.setenv("REVISIT_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("REVISIT_ADMIN_TOKEN", "rva_test")
    monkeypatch.setenv("REVISIT_DB_POOL_SIZE", "1")
    monkeypatch.setenv("REVISIT_DB_MAX_OVERFLOW", "1")
    monkeypatch.setenv("WEB_CONCURRENCY", "1")
    monkeypatch.setenv("REVISIT_STACK_MAX_DB_CONNECTIONS", "42")
    assert stack.main() == 2  # before migrating or starting anything
    err = capsys.readouterr().err
    assert "at most 43 PostgreSQL connections (of 42)" in err
    assert "over REVISIT_STACK_MAX_DB_CONNECTIONS" in err


def test_every_role_of_the_stack_gets_the_bounds_it_was_counted_with():
    for role in roles({"REVISIT_DB_MAX_OVERFLOW": "2"}):
        assert role.env["REVISIT_DB_POOL_SIZE"] == "2", role.name
        assert role.env["REVISIT_DB_MAX_OVERFLOW"] == "2", role.name
        assert role.env["WEB_CONCURRENCY"] == "1", role.name


@pytest.fixture
def bus(tmp_path):
    yield from memory_bus.own_queues(
        tmp_path, relay_interval=0.02, consumer_retries=2, consumer_backoff=0.01
    )


def test_a_consumer_finding_its_pool_busy_puts_the_event_back_never_dead_letters_it(bus):
    """More pool timeouts in a row than the consumer's retries: the event waits on the
    queue (a busy pool is not the event's fault) and is applied once a connection frees."""
    busy = [True] * (bus.consumer_retries + 2)

    def busy_then_free(session, envelope, context):
        if busy:
            busy.pop()
            raise sa.exc.TimeoutError("QueuePool limit of size 1 overflow 0 reached")
        HANDLERS["NoteWritten"](session, envelope, context)

    with fake.built_runtimes() as build:
        consumer = build(bus, handlers={"NoteWritten": busy_then_free})
        writer = build(bus, name="writer", handlers={})
        consumer.declare()
        note = fake.record_note(writer, "waits")
        settled = watch_settled(consumer)
        with fake.running(consumer), fake.running(writer):
            assert settled.wait(1) == [(note.id, "applied")]
        assert busy == []
        assert fake.note_counts(consumer.db) == {"waits": 1}
