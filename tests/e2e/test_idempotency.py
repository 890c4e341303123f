"""Idempotency-Key (CONTRACT.md §4.1) through the gateway, standalone in one process, on
SQLite and on PostgreSQL: replays, mismatches, requests still in progress, concurrency."""

from __future__ import annotations

import contextlib
import secrets
import threading

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from revisit_common.db import Database, utcnow
from revisit_common.idempotency import idempotency_table, purge_expired
from revisit_common.idempotency_rules import TTL
from tests.support.client import ADMIN, Api
from tests.support.polling import wait_until
from tests.support.servers import drop_schemas
from tests.support.settings import make_settings
from tests.support.system import CUSTOMER, start_system

UNLIMITED = "1000000/minute"
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def system(request, tmp_path_factory):
    prefix = f"i{secrets.token_hex(4)}"
    values = {
        "data_dir": tmp_path_factory.mktemp("system"),
        "admin_token": ADMIN,
        "queue_prefix": prefix,
        "environment": {
            "REVISIT_RATE_LIMIT": UNLIMITED,
            "REVISIT_RATE_LIMIT_ANONYMOUS": UNLIMITED,
        },
    }
    postgres_url = None
    if request.param == "postgres":
        postgres_url = request.getfixturevalue("postgres_url")
        values.update(database_url=postgres_url, db_schema_prefix=f"{prefix}_")
    system = start_system(make_settings(**values))
    assert system.runtimes["complaint"].db.is_postgres is (postgres_url is not None)
    yield system
    system.close()
    if postgres_url:
        drop_schemas(postgres_url, f"{prefix}_")


@pytest.fixture
def api(system) -> Api:
    return Api(system).new_tenant(f"Acme {secrets.token_hex(3)}")


def key() -> dict[str, str]:
    return {"Idempotency-Key": secrets.token_hex(16)}


def complaint_body(customer_id: str, description: str = "The pump stopped.") -> dict:
    return {
        "customer_id": customer_id,
        "channel": "phone",
        "severity": "general",
        "category": "product_quality",
        "department": "product",
        "description": description,
    }


def new_customer(api: Api) -> str:
    r = api.post("/customers", CUSTOMER)
    assert r.status_code == 201, r.json
    return r.json["id"]


def complaints_of(api: Api, customer_id: str) -> list[dict]:
    r = api.get(f"/complaints?customer_id={customer_id}")
    assert r.status_code == 200, r.json
    return r.json["items"]


def assert_replay(first, again) -> None:
    assert again.status_code == first.status_code
    assert again.get_data() == first.get_data()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers


# --------------------------------------------------------------------------- each kind of write


def test_post_customer_twice_creates_one(api):
    name = f"Huadong {secrets.token_hex(3)}"
    headers = key()
    first = api.post("/customers", {**CUSTOMER, "name": name}, headers=headers)
    assert first.status_code == 201, first.json
    again = api.post("/customers", {**CUSTOMER, "name": name}, headers=headers)
    assert_replay(first, again)
    assert again.content_type == first.content_type == "application/json"
    names = [c["name"] for c in api.get("/customers?limit=100").json["items"]]
    assert names.count(name) == 1


def test_post_complaint_twice_creates_one(api):
    cid = new_customer(api)
    headers = key()
    first = api.post("/complaints", complaint_body(cid), headers=headers)
    assert first.status_code == 201, first.json
    again = api.post("/complaints", complaint_body(cid), headers=headers)
    assert_replay(first, again)
    assert [c["id"] for c in complaints_of(api, cid)] == [first.json["id"]]


def test_another_caller_with_the_same_key_never_sees_the_first_response(api):
    cid = new_customer(api)
    headers = key()
    first = api.post("/complaints", complaint_body(cid), headers=headers)
    assert first.status_code == 201, first.json
    agent = api.as_key(api.new_key("agent"))
    again = agent.post("/complaints", complaint_body(cid), headers=headers)
    assert again.status_code == 422
    assert again.content_type == PROBLEM
    assert "Idempotent-Replayed" not in again.headers
    assert [c["id"] for c in complaints_of(api, cid)] == [first.json["id"]]


def test_transition_twice_steps_once(api):
    complaint = api.post("/complaints", complaint_body(new_customer(api))).json
    headers = key()
    path = f"/complaints/{complaint['id']}/transitions"
    first = api.post(path, {"action": "acknowledge"}, headers=headers)
    assert first.status_code == 200, first.json
    again = api.post(path, {"action": "acknowledge"}, headers=headers)
    assert_replay(first, again)
    ledger = api.get(f"/complaints/{complaint['id']}").json["ledger"]
    assert len(ledger) == len(first.json["ledger"]) == len(complaint["ledger"]) + 1
    # without the key the same step is a new request, refused from the new status
    assert api.post(path, {"action": "acknowledge"}).status_code == 409


def test_patch_settings_twice_changes_once(api):
    version = api.get("/settings").json["version"]
    headers = key()
    body = {"classification": {"grade_a_min": 83}}
    first = api.patch("/settings", body, headers=headers)
    assert first.status_code == 200, first.json
    assert first.json["version"] == version + 1
    again = api.patch("/settings", body, headers=headers)
    assert_replay(first, again)
    assert api.get("/settings").json["version"] == version + 1


def test_post_tenant_twice_registers_one(system):
    platform = Api(system, ADMIN)
    headers = key()
    name = f"Retried {secrets.token_hex(3)}"
    first = platform.post("/tenants", {"name": name}, headers=headers)
    assert first.status_code == 201, first.json
    again = platform.post("/tenants", {"name": name}, headers=headers)
    assert_replay(first, again)
    tenant = platform.as_key(again.json["admin_key"]).get("/tenants/current")
    assert tenant.status_code == 200
    assert tenant.json["id"] == first.json["id"]


# --------------------------------------------------------------------------- the other rules


def test_same_key_other_body_or_path_is_422(api):
    cid = new_customer(api)
    headers = key()
    assert api.post("/complaints", complaint_body(cid), headers=headers).status_code == 201
    other = api.post("/complaints", complaint_body(cid, "Another story."), headers=headers)
    assert other.status_code == 422
    assert other.content_type == PROBLEM
    assert "Idempotency-Key" in other.json["detail"]
    assert len(complaints_of(api, cid)) == 1


def test_a_refused_request_leaves_the_key_free(api):
    cid = new_customer(api)
    headers = key()
    bad = api.post(
        "/complaints", {**complaint_body(cid), "severity": "apocalyptic"}, headers=headers
    )
    assert bad.status_code == 422
    good = api.post("/complaints", complaint_body(cid), headers=headers)
    assert good.status_code == 201
    assert "Idempotent-Replayed" not in good.headers


def test_keys_are_per_tenant(api, system):
    other = Api(system).new_tenant(f"Other {secrets.token_hex(3)}")
    headers = key()
    mine = api.post("/customers", CUSTOMER, headers=headers)
    theirs = other.post("/customers", CUSTOMER, headers=headers)
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in theirs.headers
    assert mine.json["id"] != theirs.json["id"]


def test_without_a_key_every_request_writes(api):
    cid = new_customer(api)
    assert api.post("/complaints", complaint_body(cid)).status_code == 201
    assert api.post("/complaints", complaint_body(cid)).status_code == 201
    assert len(complaints_of(api, cid)) == 2


@pytest.mark.parametrize("bad", ["x" * 256, " padded", "caf\u00e9"])
def test_unusable_key_is_400(api, bad):
    r = api.post("/customers", CUSTOMER, headers={"Idempotency-Key": bad})
    assert r.status_code == 400
    assert r.content_type == PROBLEM


# --------------------------------------------------------------------------- in progress


def _held_on_postgres(db: Database):
    """The server's own hold: a SHARE lock on the complaints' ledger, which a request's
    INSERT (one statement with the complaint's, sent straight to the driver) waits for and
    reads do not; complaints itself stays free for the consumer's copy updates, which the
    request may wait on in turn."""
    with db.engine.connect() as holder, db.engine.connect() as watcher:
        # (this transaction waits, idle, as long as the test needs: no server timeout)
        holder.execute(sa.text("SET LOCAL idle_in_transaction_session_timeout = 0"))
        holder.execute(sa.text("LOCK TABLE complaint_ledger IN SHARE MODE"))
        # a request's INSERT waiting (not some other writer of complaints, say the consumer)
        waiting = sa.text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND query ILIKE '%INSERT INTO complaints %'"
        )

        def reached() -> bool:
            found = watcher.execute(waiting).scalar_one() > 0
            watcher.rollback()  # (the server's activity figures are a snapshot a transaction)
            return found

        # the rollback releases the lock: the held INSERT goes on
        yield reached, holder.rollback
        holder.rollback()


@contextlib.contextmanager
def complaint_insert_held(system):
    """Hold every INSERT into complaints until released: a request caught in the middle.
    Yields ``(reached, release)``: ``reached()`` is true once a request waits at its insert,
    ``release()`` lets it go on. On PostgreSQL the hold is the server's own
    (:func:`_held_on_postgres`); on SQLite an engine hook."""
    db = system.runtimes["complaint"].db
    if db.is_postgres:
        own = Database(db.url, db.schema)  # not the service's pool: its requests need that
        try:
            yield from _held_on_postgres(own)
        finally:
            own.dispose()
        return
    reached, release = threading.Event(), threading.Event()

    def hold(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO COMPLAINTS "):
            reached.set()
            release.wait(10)

    event.listen(db.engine, "before_cursor_execute", hold)
    try:
        yield reached.is_set, release.set
    finally:
        release.set()
        event.remove(db.engine, "before_cursor_execute", hold)


def test_same_key_while_the_first_runs_is_409(api, system):
    cid = new_customer(api)
    headers = key()
    body = complaint_body(cid)
    results = {}
    with complaint_insert_held(system) as (reached, release):
        first = threading.Thread(
            target=lambda: results.setdefault(
                "first", api.post("/complaints", body, headers=headers)
            )
        )
        first.start()
        wait_until(reached, timeout=10, message="the first request at its insert")
        during = api.post("/complaints", body, headers=headers)
        release()
        first.join(10)
    assert during.status_code == 409
    assert during.content_type == PROBLEM
    assert during.headers["Retry-After"] == "1"
    assert results["first"].status_code == 201
    after = api.post("/complaints", body, headers=headers)
    assert_replay(results["first"], after)
    assert len(complaints_of(api, cid)) == 1


def test_identical_requests_at_once_create_one_complaint(api, system):
    cid = new_customer(api)
    headers = key()
    body = complaint_body(cid)
    threads_count = 8
    start = threading.Barrier(threads_count)
    responses = []
    lock = threading.Lock()

    def send():
        client = Api(system, api.key)
        start.wait(10)
        r = client.post("/complaints", body, headers=headers)
        with lock:
            responses.append(r)

    threads = [threading.Thread(target=send) for _ in range(threads_count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    statuses = [r.status_code for r in responses]
    assert len(statuses) == threads_count
    assert set(statuses) <= {201, 409}
    created = [r for r in responses if r.status_code == 201]
    originals = [r for r in created if "Idempotent-Replayed" not in r.headers]
    assert len(originals) == 1
    assert {r.get_data() for r in created} == {originals[0].get_data()}
    for r in responses:
        if r.status_code == 409:
            assert r.content_type == PROBLEM
    assert [c["id"] for c in complaints_of(api, cid)] == [originals[0].json["id"]]


def test_openapi_declares_the_header_on_every_post_and_patch(system):
    doc = Api(system).get("/openapi.json").json
    writes = reads = 0
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "post", "patch", "put", "delete"):
                continue
            names = [p.get("name") for p in operation.get("parameters", [])]
            if method in ("post", "patch"):
                writes += 1
                assert "Idempotency-Key" in names, (method, path)
            else:
                reads += 1
                assert "Idempotency-Key" not in names, (method, path)
    assert writes >= 15 and reads >= 15
    settings = doc["paths"]["/api/v1/settings"]["patch"]["parameters"]
    header = next(p for p in settings if p["name"] == "Idempotency-Key")
    assert header["in"] == "header" and header["schema"]["maxLength"] == 255


# --------------------------------------------------------------------------- 24 hours


def test_an_expired_key_is_a_new_key(api, system):
    headers = key()
    first = api.post("/customers", CUSTOMER, headers=headers)
    assert first.status_code == 201
    table = idempotency_table
    with system.runtimes["customer"].db.transaction() as session:
        moved = session.execute(
            sa.update(table)
            .where(table.c.key == headers["Idempotency-Key"])
            .values(expires_at=utcnow())
        ).rowcount
    assert moved == 1
    again = api.post("/customers", {**CUSTOMER, "name": "Someone else"}, headers=headers)
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again.headers
    assert again.json["id"] != first.json["id"]


def test_purge_deletes_only_expired_keys(api, system):
    headers = key()
    assert api.post("/customers", CUSTOMER, headers=headers).status_code == 201
    db = system.runtimes["customer"].db
    with db.transaction() as session:
        purge_expired(session, utcnow())
        kept = session.execute(
            sa.select(sa.func.count())
            .select_from(idempotency_table)
            .where(idempotency_table.c.key == headers["Idempotency-Key"])
        ).scalar()
        assert kept == 1
        assert purge_expired(session, utcnow() + TTL + TTL) >= 1
        left = session.execute(sa.select(sa.func.count()).select_from(idempotency_table)).scalar()
        assert left == 0
