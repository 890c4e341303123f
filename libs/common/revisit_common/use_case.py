"""How a route runs one use case: in a transaction, as the caller who sent the request.

A route validates its input, then ``run(lambda session: service.something(session, ...))``:
a read runs in a read-only transaction, a write in :func:`.idempotency.transaction` (the
request's idempotent transaction when it has an ``Idempotency-Key``). A use case of the
usual write shape, ``(session, outbox, caller, ...)``, is called with :func:`write` (one
made of Core statements only, with :func:`write_core`); a read
of the caller's tenant, ``(session, tenant_id, ...)``, with :func:`read` (one made of a
single statement, ``(db, tenant_id, ...)``, with :func:`lookup`); one page of the
tenant's rows with :func:`tenant_page`, of a parent's children with :func:`list_of`. Errors
of :mod:`.errors` propagate; :mod:`.webapp` renders them as problem+json.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa
from flask import g
from sqlalchemy.orm import Session

from . import idempotency
from .caller import Caller
from .identity import current
from .paging import listing
from .runtime import runtime

T = TypeVar("T")


def run(fn: Callable[[Session], T], *, read: bool = False) -> T:
    """``fn(session)`` in a transaction of the service's database: read-only with ``read``,
    else a write transaction (committed when ``fn`` returns, rolled back when it raises)."""
    db = runtime().db
    with db.read() if read else idempotency.transaction(db) as session:
        return fn(session)


def write(fn: Callable[..., T], *args) -> T:
    """``fn(session, outbox, caller, *args)`` in a write transaction: the shape of a use case
    that changes state and publishes what it caused, called by the request's caller."""
    rt = runtime()
    who = _caller(rt)  # (before the transaction: a request without identity opens none)
    with idempotency.transaction(rt.db) as session:
        return fn(session, rt.outbox, who, *args)


def write_core(fn: Callable[..., T], *args) -> T:
    """As :func:`write`, for a use case made of Core statements only (no ORM object: every
    statement through :func:`.db.run` or the transaction's connection): outside an
    idempotent request its transaction is a :class:`.CoreTransaction`, not a Session."""
    rt = runtime()
    who = _caller(rt)
    with idempotency.transaction(rt.db, core=True) as session:
        return fn(session, rt.outbox, who, *args)


def read(fn: Callable[..., T], *args) -> T:
    """``fn(session, tenant_id, *args)`` in a read-only transaction, for the caller's tenant:
    the shape of a use case that reads what the tenant owns."""
    tenant = current().tenant_id
    return run(lambda session: fn(session, tenant, *args), read=True)


def lookup(fn: Callable[..., T], *args) -> T:
    """``fn(db, tenant_id, *args)`` for the caller's tenant: the shape of a read made of one
    statement, which needs no transaction (:meth:`.db.Database.fetch`)."""
    return fn(runtime().db, current().tenant_id, *args)


def list_of(get_parent: Callable, parent_id: str, column, args: dict, *where) -> dict:
    """One page (:func:`.paging.listing` of ``args``) of the rows whose ``column`` holds the id
    of the parent ``get_parent(session, tenant_id, parent_id)`` returns (it raises when the
    caller's tenant has no such parent), narrowed by the conditions ``where``; ordered by the
    id of ``column``'s model."""
    model = column.class_

    def page(session):
        parent = get_parent(session, current().tenant_id, parent_id)
        query = sa.select(model).where(column == parent.id, *where)
        return listing(session, query, model.id, args)

    return run(page, read=True)


def tenant_page(model, args: dict, *where) -> dict:
    """One page (:func:`.paging.listing` of ``args``) of the caller's tenant's rows of
    ``model``, narrowed by the conditions ``where``, oldest (lowest id) first."""
    query = sa.select(model).where(model.tenant_id == current().tenant_id, *where)
    return run(lambda session: listing(session, query, model.id, args), read=True)


def caller() -> Caller:
    """The caller of this request: the identity the gateway vouches for (401 without one),
    the request id and the runtime's clock."""
    return _caller(runtime())


def _caller(rt) -> Caller:
    who = current()
    return Caller(
        tenant_id=who.tenant_id,
        correlation_id=g.get("request_id"),
        actor=who.actor,
        role=who.role,
        department=who.department,
        staff=who.staff,
        clock=rt.clock,
    )
