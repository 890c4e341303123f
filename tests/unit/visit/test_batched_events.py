"""A batch of customer events applied in one transaction (the consumer's path under load)
plans and keeps what the same events applied one at a time do, reading the customer copies
once for the batch."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from tests.support.customers import FakeCustomerService
from tests.support.events import envelope
from tests.support.service import service_runtime
from tests.support.visits import register
from visit_service.bootstrap import SPEC
from visit_service.models import CustomerCopy, Visit

from .test_handlers import graded, purchase


def _events(known: list[str], unknown: str) -> list:
    """Purchases of known customers (first, later, an A customer's), of a customer the
    service has not heard of, and a grading: in one batch."""
    return [
        envelope("PurchaseRecorded", purchase(known[0], pid="p-1")),
        envelope("PurchaseRecorded", purchase(known[1], grade="A", pid="p-2")),
        envelope("PurchaseRecorded", purchase(known[0], first=False, owner="wang.fang")),
        envelope("PurchaseRecorded", purchase(unknown, region="west", pid="p-3")),
        envelope("PurchaseRecorded", purchase(unknown, first=False, pid="p-4")),
        envelope("CustomerGraded", graded(known[2], "A", previous="B")),
    ]


def _state(runtime) -> tuple[list, list]:
    with runtime.db.read() as session:
        visits = session.execute(
            sa.select(Visit.customer_id, Visit.reason, Visit.trigger, Visit.due_date).order_by(
                Visit.customer_id, Visit.reason, Visit.trigger
            )
        ).all()
        copies = session.execute(
            sa.select(
                CustomerCopy.customer_id,
                CustomerCopy.region,
                CustomerCopy.owner,
                CustomerCopy.grade,
            ).order_by(CustomerCopy.customer_id)
        ).all()
    return [tuple(row) for row in visits], [tuple(row) for row in copies]


def _applied(folder, clock, known: list[str], unknown: str, *, batch: bool):
    """A fresh visit service that knows ``known``, after :func:`_events`: its state, and how
    many times it read customer copies while applying them."""
    with service_runtime(
        SPEC, folder, peers={"customer": FakeCustomerService()}, clock=clock
    ) as rt:

        def feed(type_name, data, **kw):
            return rt.consumer.apply(envelope(type_name, data, **kw))

        for customer_id in known:
            register(feed, customer_id)
        events = _events(known, unknown)  # sent after the registrations
        reads: list[str] = []

        def seen(sql):
            if sql.startswith("SELECT") and "FROM customers" in sql:
                reads.append(sql)

        # every statement that reaches SQLite: SQLAlchemy's, and those run on its driver
        # (db.run: a run of purchases that plan nothing reads its copies so)
        sa.event.listen(rt.db.engine, "checkout", lambda dbapi, *_: dbapi.set_trace_callback(seen))
        if batch:
            outcomes = rt.consumer.apply_batch(events)
        else:
            outcomes = [rt.consumer.apply(event) for event in events]
        assert outcomes == ["applied"] * len(events)
        return _state(rt), len(reads)


def test_a_batch_gives_what_one_event_at_a_time_gives_reading_copies_once(tmp_path, clock):
    known, unknown = [str(uuid.uuid4()) for _ in range(3)], str(uuid.uuid4())
    alone, reads_alone = _applied(tmp_path / "alone", clock, known, unknown, batch=False)
    batched, reads_batched = _applied(tmp_path / "batch", clock, known, unknown, batch=True)
    assert batched == alone
    visits, copies = batched
    reasons = sorted(reason for _, reason, _, _ in visits)
    assert reasons == ["key_account"] * 5 + ["new_customer"] * 3 + ["periodic"]
    assert {owner for _, _, owner, _ in copies} == {"li.wei", "wang.fang"}
    # one at a time: a read per event, and one more by the grading's plan. In the batch: the
    # run of purchases reads its customers' copies once, the customer the service had not
    # heard of twice more (not there yet; then the copy its first purchase made); the
    # grading's run once, and its plan once more
    assert (reads_alone, reads_batched) == (7, 5)
