"""Completing a visit reads its row and writes the columns it changed with Core statements,
not the ORM's load and flush, in a transaction without a Session (the issues found and the
next periodic visit too): what is read back is what the 200 said, the issues found are
written and announced, columns the record does not give stay as they were, a visit done
already is a 409 with nothing written, a retry with the same Idempotency-Key is the first
answer again; on SQLite and PostgreSQL alike."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from revisit_common.messaging.outbox import outbox_table
from tests.support.client import Client
from tests.support.customers import FakeCustomerService
from tests.support.events import envelope
from tests.support.outbox import events_of
from tests.support.pg_locks import lock_waiters
from tests.support.polling import wait_until
from tests.support.service import count_rows, database_settings, service_runtime
from tests.support.visits import ISSUES, configure, plan, register
from visit_service.bootstrap import SPEC
from visit_service.models import Issue, IssueDepartment, RoundRobin, Visit


@pytest.fixture(params=["sqlite", "postgresql"])
def runtime(request, tmp_path):
    values = database_settings(request)
    peers = {"customer": FakeCustomerService()}
    with service_runtime(SPEC, tmp_path, peers=peers, **values) as rt:
        yield rt


@pytest.fixture
def client(runtime):
    return Client(runtime.create_app())


@pytest.fixture
def feed(runtime):
    def apply(type_name: str, data: dict, **kw) -> str:
        return runtime.consumer.apply(envelope(type_name, data, **kw))

    return apply


@pytest.fixture
def customer(feed):
    return register(feed)


def test_what_is_read_back_is_what_the_200_said(runtime, client, customer):
    visit = plan(client, customer)
    body = {"satisfaction": "dissatisfied", "recommend_score": 4, "issues": ISSUES}
    done = client.post(f"/api/v1/visits/{visit['id']}/complete", body)
    assert done.status_code == 200, done.json
    assert done.json["status"] == "completed"
    assert [i["department"] for i in done.json["issues"]] == ["product", "sales"]
    got = client.get(f"/api/v1/visits/{visit['id']}")
    assert got.status_code == 200
    assert got.json == done.json
    with runtime.db.engine.connect() as conn:
        row = conn.execute(sa.select(Visit.__table__).where(Visit.id == visit["id"])).one()
        # never given: still SQL NULL, not a JSON null written over it
        unset = conn.execute(
            sa.select(sa.func.count())
            .select_from(Visit.__table__)
            .where(Visit.id == visit["id"], Visit.ratings.is_(None), Visit.needs.is_(None))
        ).scalar_one()
    assert (row.recommend_score, row.completed_by, unset) == (4, "admin-key", 1)
    assert count_rows(runtime, Issue.__table__) == 2
    kinds = [e["type"] for e in events_of(runtime) if e["type"] != "VisitScheduled"]
    assert kinds == ["IssueRaised", "IssueRaised", "VisitCompleted"]
    completed = events_of(runtime, "VisitCompleted")[0]["data"]
    assert completed["issue_ids"] == [i["id"] for i in done.json["issues"]]


def test_a_visit_done_already_is_409_and_writes_nothing(runtime, client, customer):
    visit = plan(client, customer)
    path = f"/api/v1/visits/{visit['id']}/complete"
    assert client.post(path, {"satisfaction": "satisfied"}).status_code == 200
    before = [count_rows(runtime, table) for table in (outbox_table, Issue.__table__)]
    again = client.post(path, {"satisfaction": "dissatisfied", "issues": ISSUES})
    assert again.status_code == 409
    assert again.headers["Content-Type"] == "application/problem+json"
    assert [count_rows(runtime, table) for table in (outbox_table, Issue.__table__)] == before
    assert client.get(f"/api/v1/visits/{visit['id']}").json["satisfaction"] == "satisfied"
    missing = client.post("/api/v1/visits/nope/complete", {"satisfaction": "satisfied"})
    assert missing.status_code == 404


BODIES = {"complete": {"satisfaction": "neutral"}, "cancel": {"reason": "moved away"}}


@pytest.mark.parametrize("runtime", ["postgresql"], indirect=True)
@pytest.mark.parametrize("action", ["complete", "cancel"])
def test_a_change_made_meanwhile_by_another_is_a_409(runtime, client, customer, action):
    """Another transaction holds the visit's row and completes it while a completion or a
    cancel waits: the request reads the completed visit and is a 409, nothing published
    (without the row lock it read the planned visit and wrote over the first)."""
    visit = plan(client, customer)
    visits = Visit.__table__
    answers = []
    with runtime.db.engine.connect() as holder:
        holder.execute(sa.select(visits.c.id).where(visits.c.id == visit["id"]).with_for_update())
        request = threading.Thread(
            target=lambda: answers.append(
                client.post(f"/api/v1/visits/{visit['id']}/{action}", BODIES[action])
            )
        )
        request.start()
        wait_until(lambda: lock_waiters(runtime.db.engine), message="the request waits")
        holder.execute(visits.update().where(visits.c.id == visit["id"]).values(status="completed"))
        holder.commit()
        request.join(20)
    assert [answer.status_code for answer in answers] == [409]
    assert [e["type"] for e in events_of(runtime) if e["type"] != "VisitScheduled"] == []
    assert client.get(f"/api/v1/visits/{visit['id']}").json["status"] == "completed"


def test_a_visit_completed_without_issues_is_written_with_its_event(runtime, client, customer):
    """The visit's UPDATE carries its VisitCompleted (Outbox.write_with): on PostgreSQL the
    outbox row is not written again at commit through the engine."""
    visit = plan(client, customer)
    outbox_writes: list[str] = []

    def note(_conn, _cursor, sql, *_):
        if "INSERT INTO outbox" in sql:
            outbox_writes.append(sql)

    sa.event.listen(runtime.db.engine, "before_cursor_execute", note)
    try:
        done = client.post(f"/api/v1/visits/{visit['id']}/complete", {"satisfaction": "neutral"})
    finally:
        sa.event.remove(runtime.db.engine, "before_cursor_execute", note)
    assert done.status_code == 200, done.json
    assert (done.json["status"], done.json["satisfaction"], done.json["issues"]) == (
        "completed",
        "neutral",
        [],
    )
    assert client.get(f"/api/v1/visits/{visit['id']}").json == done.json
    completed = events_of(runtime, "VisitCompleted")
    assert len(completed) == 1
    data = completed[0]["data"]
    assert (data["visit_id"], data["satisfaction"], data["issue_ids"]) == (
        visit["id"],
        "neutral",
        [],
    )
    assert data["completed_at"] == done.json["completed_at"]
    # (PostgreSQL: written at commit, the rows would go through the engine; SQLite writes
    # them on the driver's connection either way)
    assert outbox_writes == []


def test_issues_and_the_next_periodic_visit_are_written_without_a_session(runtime, client, feed):
    """A periodic visit done with issues: the issues and their departments are written, the
    next periodic visit planned (the region's next agent in turn), the events in the order
    of the changes, and no Session is opened for any of it."""
    configure(feed, visits={"agents_by_region": {"north": ["ann", "bob"]}})
    nobody = register(feed, region="north", owner=None)
    first = plan(client, nobody, reason="periodic")
    assert first["assignee"] == "ann"
    began: list[Session] = []

    def note(session, _transaction, _connection):
        began.append(session)

    sa.event.listen(Session, "after_begin", note)
    try:
        done = client.post(
            f"/api/v1/visits/{first['id']}/complete",
            {"satisfaction": "satisfied", "issues": ISSUES},
        )
    finally:
        sa.event.remove(Session, "after_begin", note)
    assert done.status_code == 200, done.json
    assert began == []
    assert client.get(f"/api/v1/visits/{first['id']}").json == done.json
    assert [(i["department"], i["reopen_count"]) for i in done.json["issues"]] == [
        ("product", 0),
        ("sales", 0),
    ]
    assert count_rows(runtime, IssueDepartment.__table__) == 3
    kinds = [e["type"] for e in events_of(runtime)]
    assert kinds == [
        "VisitScheduled",
        "IssueRaised",
        "IssueRaised",
        "VisitCompleted",
        "VisitScheduled",
    ]
    following = events_of(runtime, "VisitScheduled")[-1]["data"]
    assert (following["reason"], following["assignee"]) == ("periodic", "bob")
    planned = client.get("/api/v1/visits?reason=periodic&status=planned").json["items"]
    assert [(v["id"], v["assignee"]) for v in planned] == [(following["visit_id"], "bob")]
    with runtime.db.engine.connect() as conn:
        assert conn.execute(sa.select(RoundRobin.counter)).scalars().all() == [2]


def test_a_retry_with_the_same_key_is_the_first_answer(runtime, client, customer):
    """With an Idempotency-Key the completion joins the request's idempotent transaction (a
    Session): its issues are written once, the retry replays the first answer."""
    visit = plan(client, customer)
    path = f"/api/v1/visits/{visit['id']}/complete"
    body = {"satisfaction": "dissatisfied", "issues": ISSUES}
    key = {"Idempotency-Key": "complete-once"}
    first = client.post(path, body, headers=key)
    assert first.status_code == 200, first.json
    again = client.post(path, body, headers=key)
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json
    assert count_rows(runtime, Issue.__table__) == 2
    assert len(events_of(runtime, "VisitCompleted")) == 1
    assert client.get(f"/api/v1/visits/{visit['id']}").json == first.json
