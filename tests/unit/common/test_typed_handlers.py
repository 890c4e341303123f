"""Handlers that take their event decoded from the catalogue (messaging.registry.reads):
the declared fields as attributes, the rest ignored, a missing required field dead-lettered
with the reason; plain envelope handlers sit beside them in one registry."""

from __future__ import annotations

import dataclasses
import json

import pytest
from kombu import Connection

from revisit_common.events import ComplaintRaised, CustomerGraded, CustomerRegistered
from revisit_common.messaging.envelope import parse
from revisit_common.messaging.registry import MissingField, reads, routing_keys
from tests.support import memory_bus
from tests.support.events import envelope
from tests.support.fake_service import (
    HANDLERS,
    NoteWritten,
    built_runtimes,
    inbox_ids,
    note_counts,
    note_envelope,
    notes_table,
    running,
)
from tests.support.settled import watch_settled

REGISTERED = {
    "customer_id": "c-1",
    "name": "Acme",
    "type": "enterprise",
    "region": "east",
    "owner": None,
    "grade": "B",
    "size_tier": "medium",
    "cooperation_tier": "new",
    "risk_level": "low",
    "registered_at": "2026-11-20T02:00:00+00:00",
    "added_by_a_later_version": 1,
}


def test_declared_fields_are_attributes_and_the_rest_is_ignored():
    got = []

    @reads(CustomerRegistered, fields=["customer_id", "region"], optional=["owner"])
    def handle(session, event, ctx):
        got.append(event)

    sent = envelope("CustomerRegistered", REGISTERED)
    handle(None, sent, None)
    [event] = got
    assert (event.customer_id, event.region, event.owner) == ("c-1", "east", None)
    assert event.envelope is sent  # id, tenant, correlation id and time stay reachable
    assert type(event).__name__ == "CustomerRegistered"
    assert not hasattr(event, "name")  # not declared: not read
    assert not hasattr(event, "added_by_a_later_version")
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.region = "west"


def test_a_missing_optional_field_is_the_catalogue_default_else_none():
    got = []

    @reads(CustomerRegistered, CustomerGraded, fields=["customer_id"], optional=["grade"])
    def handle(session, event, ctx):
        got.append(event)

    handle(None, envelope("CustomerGraded", {"customer_id": "c-1"}), None)
    assert [(type(e).__name__, e.customer_id, e.grade) for e in got] == [
        ("CustomerGraded", "c-1", None)
    ]


def test_a_missing_required_field_names_the_event_and_the_field():
    @reads(ComplaintRaised, fields=["customer_id", "received_at"])
    def handle(session, event, ctx):
        raise AssertionError("not called")

    sent = envelope("ComplaintRaised", {"customer_id": "c-1"})
    with pytest.raises(MissingField) as raised:
        handle(None, sent, None)
    assert str(raised.value) == (
        f"ComplaintRaised event {sent.id} lacks required field(s): received_at"
    )


def test_an_event_type_the_handler_does_not_read_is_refused():
    @reads(CustomerGraded, fields=["customer_id"])
    def handle(session, event, ctx):
        raise AssertionError("not called")

    with pytest.raises(MissingField):
        handle(None, envelope("CustomerRegistered", REGISTERED), None)


def test_declaring_a_field_the_event_does_not_have_fails_at_import():
    with pytest.raises(ValueError, match=r"CustomerGraded has no field\(s\) \['name'\]"):
        reads(CustomerRegistered, CustomerGraded, fields=["customer_id", "name"])


def test_the_registry_derives_routing_keys_from_both_kinds_of_handler():
    @reads(CustomerGraded, fields=["customer_id"])
    def graded(session, event, ctx):
        pass

    def plain(session, envelope, ctx):
        pass

    assert routing_keys({"CustomerGraded": graded, "ComplaintRaised": plain}) == (
        "complaint.raised.*",
        "customer.graded",
    )
    with pytest.raises(ValueError, match="do not read"):
        routing_keys({"CustomerRegistered": graded})


# ---------------------------------------------------------------- through a consumer


@pytest.fixture
def settings(tmp_path):
    yield from memory_bus.own_queues(tmp_path, consumer_retries=1, consumer_backoff=0.01)


@reads(NoteWritten, fields=["text"])
def note_written(session, event, ctx):
    session.execute(notes_table.insert().values(tenant_id=event.envelope.tenantid, text=event.text))


def test_consumer_applies_typed_handlers_and_dead_letters_a_missing_field(settings):
    with built_runtimes() as build:
        consumer = build(settings, handlers={**HANDLERS, "NoteWritten": note_written})
        consumer.declare()
        key, good = note_envelope(settings, "hello")
        _, bad = note_envelope(settings, "lost")
        doc = json.loads(bad.to_json())
        del doc["data"]["text"]
        memory_bus.publish(key, json.dumps(doc), good.to_json())

        settled = watch_settled(consumer)
        with running(consumer):
            assert settled.wait(2) == [(bad.id, "dead"), (good.id, "applied")]
        assert note_counts(consumer.db) == {"hello": 1}
        assert inbox_ids(consumer.db) == [good.id]
        with Connection("memory://") as conn:
            dead = consumer.consumer.dead_queue(conn.channel())
            poison = dead.get(no_ack=True)
            assert dead.get(no_ack=True) is None
        assert parse(poison.body).id == bad.id
        reason = poison.headers["x-revisit-reason"]
        assert reason == (
            f"revisit_common.messaging.registry.MissingField: NoteWritten event {bad.id} "
            "lacks required field(s): text"
        )
