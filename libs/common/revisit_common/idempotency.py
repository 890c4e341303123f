"""``Idempotency-Key`` on every POST and PATCH of a service's own routes (CONTRACT.md §4.1).

The rules are in :mod:`.idempotency_rules`; this module keeps them, in the service that
performs the write:
- :func:`install` wraps the app's POST/PATCH views. A request with the header runs in ONE
  transaction that holds the key, the write, its outbox rows and the stored response: a
  crash between commit and response can never turn a retry into a duplicate. A request
  without the header runs exactly as before.
- Each ``api.py`` opens its use case's transaction with :func:`transaction`, which joins the
  request's idempotent transaction when there is one.
- While a request holds its key, another with the same key gets 409 without waiting: on
  PostgreSQL through a transaction-scoped advisory lock (across processes), on SQLite
  through a set of the keys in flight in this process (a SQLite database has one process
  writing it; its write lock queues anything else).
- Rows expire 24 h after they were written (:func:`purge_expired` deletes them).
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterable, Iterator
from datetime import datetime

import sqlalchemy as sa
from flask import Flask, Response, current_app, g, has_request_context, request
from sqlalchemy.orm import Session

from .core_transaction import CoreTransaction
from .db import Database, UtcDateTime, utcnow
from .idempotency_rules import (
    KEPT_HEADERS,
    KEY_HEADER,
    METHODS,
    REPLAYED_HEADER,
    StoredResponse,
    Verdict,
    expiry,
    fingerprint,
    form_body,
    judge,
    key_problem,
    lock_id,
    recordable,
)
from .problems import problem_response

_meta = sa.MetaData()

idempotency_table = sa.Table(
    "idempotency_keys",
    _meta,
    sa.Column("tenant_id", sa.String(36), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("headers", sa.JSON, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
)

_JOINED = "revisit_idempotent_transaction"  # g attribute: (database, session) of the request


@contextlib.contextmanager
def transaction(db: Database, *, core: bool = False) -> Iterator[Session | CoreTransaction]:
    """The transaction of a write use case: the request's idempotent transaction when it
    has one (committed with the stored response), else a transaction of its own: a
    :class:`.CoreTransaction` with ``core`` (a use case of Core statements only, which works
    in either), else a Session."""
    joined = g.get(_JOINED) if has_request_context() else None
    if joined is not None and joined[0] is db:
        yield joined[1]
        return
    with db.core_transaction() if core else db.transaction() as session:
        yield session


def install(app: Flask, db: Database, blueprints: Iterable) -> None:
    """Make the POST and PATCH routes of ``blueprints`` honour ``Idempotency-Key``."""
    names = {blp.name for blp in blueprints}
    wrapped: set[str] = set()
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.rpartition(".")[0]
        if blueprint not in names or not (rule.methods or set()) & METHODS:
            continue
        if rule.endpoint not in wrapped:
            view = app.view_functions[rule.endpoint]
            app.view_functions[rule.endpoint] = _idempotent(view, db, app.name)
            wrapped.add(rule.endpoint)


PURGE_INTERVAL = 3600.0  # seconds between two purges of expired keys (worker)


def purge_expired(session: Session, now: datetime) -> int:
    """Delete the keys whose 24 hours are over; how many were deleted."""
    table = idempotency_table
    return session.execute(sa.delete(table).where(table.c.expires_at <= now)).rowcount


def purge_job(runtime) -> None:
    """The worker's periodic job (every :data:`PURGE_INTERVAL`): expired keys deleted."""
    with runtime.db.transaction() as session:
        purge_expired(session, utcnow())


def has_table(db: Database) -> bool:
    """Whether the service keeps idempotency keys (every service with writes does)."""
    return sa.inspect(db.engine).has_table(idempotency_table.name)


# --------------------------------------------------------------------------- the wrapper


def _idempotent(view, db: Database, scope: str):
    @functools.wraps(view)
    def idempotent_view(*args, **kwargs):
        if request.method not in METHODS:  # (a GET of the same rule: nothing to keep)
            return view(*args, **kwargs)
        key = request.headers.get(KEY_HEADER)
        if key is None:
            return view(*args, **kwargs)
        problem = key_problem(key)
        if problem is not None:
            return problem_response(400, problem, request_id=g.get("request_id"))
        identity = g.get("identity")
        tenant = identity.tenant_id if identity is not None else ""  # "": the platform
        caller = f"{identity.role}:{identity.actor}" if identity is not None else ""
        request_print = fingerprint(
            request.method, request.path, request.query_string, _body_to_fingerprint(), caller
        )
        with _in_flight(db, (scope, tenant, key)) as free:
            if not free:
                return _in_progress()
            return _run_once(view, args, kwargs, db, (scope, tenant, key), request_print)

    return idempotent_view


def _body_to_fingerprint() -> bytes:
    if request.mimetype != "multipart/form-data":
        return request.get_data(cache=True)
    files = []
    for name, upload in request.files.items(multi=True):
        files.append((name, upload.filename or "", upload.stream.read()))
        upload.stream.seek(0)
    return form_body(list(request.form.items(multi=True)), files)


def _run_once(view, args, kwargs, db: Database, claim: tuple[str, str, str], request_print):
    _, tenant, key = claim
    with db.transaction() as session:
        if db.is_postgres and not _try_lock(session, lock_id(*claim)):
            return _in_progress()
        now = utcnow()
        stored = _load(session, tenant, key)
        verdict = judge(stored, request_print, now)
        if verdict is Verdict.MISMATCH:
            return problem_response(
                422,
                f"this {KEY_HEADER} was used for another request (method, path or body)",
                request_id=g.get("request_id"),
            )
        if verdict is Verdict.REPLAY:
            return _replay(stored)
        if stored is not None:  # expired
            _forget(session, tenant, key)
        setattr(g, _JOINED, (db, session))
        try:
            response = current_app.make_response(view(*args, **kwargs))
        finally:
            g.pop(_JOINED, None)
        if recordable(response.status_code):
            _store(session, tenant, key, request_print, response, now)
        return response


_local_lock = threading.Lock()
_local_in_flight: set[tuple] = set()


@contextlib.contextmanager
def _in_flight(db: Database, claim: tuple[str, str, str]) -> Iterator[bool]:
    """On SQLite: whether this process had no request with the key running (then holds it
    until the transaction is over). On PostgreSQL always True: the advisory lock decides."""
    if db.is_postgres:
        yield True
        return
    entry = (id(db), *claim)
    with _local_lock:
        if entry in _local_in_flight:
            free = False
        else:
            _local_in_flight.add(entry)
            free = True
    try:
        yield free
    finally:
        if free:
            with _local_lock:
                _local_in_flight.discard(entry)


def _try_lock(session: Session, lock: int) -> bool:
    return bool(session.execute(sa.select(sa.func.pg_try_advisory_xact_lock(lock))).scalar())


def _load(session: Session, tenant: str, key: str) -> StoredResponse | None:
    table = idempotency_table
    row = session.execute(
        sa.select(
            table.c.fingerprint, table.c.status, table.c.body, table.c.headers, table.c.expires_at
        ).where(table.c.tenant_id == tenant, table.c.key == key)
    ).one_or_none()
    if row is None:
        return None
    return StoredResponse(row.fingerprint, row.status, bytes(row.body), row.headers, row.expires_at)


def _forget(session: Session, tenant: str, key: str) -> None:
    table = idempotency_table
    session.execute(sa.delete(table).where(table.c.tenant_id == tenant, table.c.key == key))


def _store(session, tenant, key, request_print, response: Response, now: datetime) -> None:
    headers = {name: response.headers[name] for name in KEPT_HEADERS if name in response.headers}
    session.execute(
        sa.insert(idempotency_table).values(
            tenant_id=tenant,
            key=key,
            fingerprint=request_print,
            status=response.status_code,
            body=response.get_data(),
            headers=headers,
            created_at=now,
            expires_at=expiry(now),
        )
    )


def _replay(stored: StoredResponse) -> Response:
    response = Response(stored.body, status=stored.status)
    for name, value in stored.headers.items():
        response.headers[name] = value
    response.headers[REPLAYED_HEADER] = "true"
    return response


def _in_progress() -> Response:
    return problem_response(
        409,
        f"a request with this {KEY_HEADER} is still in progress; retry it shortly",
        headers={"Retry-After": "1"},
        request_id=g.get("request_id"),
    )
