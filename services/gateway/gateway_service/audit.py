"""The audit log: every write through the gateway, recorded once its answer is known.

A write is a POST, PUT, PATCH or DELETE under ``/api/v1``, served by the gateway or forwarded
to a service, allowed or refused. Each is recorded with the tenant, the API key (``actor``,
its id, or the staff id of the person the key acts as) and its role, the method and path,
the answer's status, the request id and the time.
Never a request body, a query string or a key. Writes nobody can be held to are not recorded:
those without a valid key (401; survey answers through their link, which the survey service
keeps) and those refused by the rate limiter (429, so a flood cannot grow the log faster
than the limit). Tenant registration is recorded for the new tenant, by ``platform``.

Recording never fails a request: an error is logged and the answer goes out unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from flask import Flask, Response, current_app, g, request
from sqlalchemy.orm import Session

from revisit_common.db import utcnow
from revisit_common.paging import page
from revisit_common.webapp import API_PREFIX

from .auth import TENANTS_PATH
from .models import AuditEntry
from .store import Store

log = logging.getLogger(__name__)

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PLATFORM = "platform"
MAX_PATH = 500


def entry_for(response: Response) -> dict | None:
    """The entry the current request makes (AuditEntry's columns), or None when it is not
    recorded."""
    if request.method not in WRITES or not request.path.startswith(API_PREFIX + "/"):
        return None
    if response.status_code == 429:
        return None
    caller = g.get("caller")
    if caller is not None:
        tenant_id, actor, role = caller.tenant_id, caller.staff or caller.actor, caller.role
    elif request.path == TENANTS_PATH and response.status_code == 201:
        body = response.get_json(silent=True) or {}
        tenant_id, actor, role = body.get("id"), PLATFORM, PLATFORM
        if not isinstance(tenant_id, str):
            return None
    else:
        return None
    return entry(
        tenant_id,
        actor,
        role,
        request.method,
        request.path,
        response.status_code,
        g.get("request_id"),
    )


def entry(
    tenant_id: str,
    actor: str,
    role: str,
    method: str,
    path: str,
    status: int,
    request_id: str | None,
) -> dict:
    """An entry's columns (AuditEntry's), stamped now."""
    return {
        "tenant_id": tenant_id,
        "at": utcnow(),
        "actor": actor,
        "role": role,
        "method": method,
        # PostgreSQL text cannot hold NUL: a hostile path is kept as it was sent on the wire.
        "path": path.replace("\x00", "%00")[:MAX_PATH],
        "status": status,
        "request_id": request_id,
    }


def record(store: Store, make: Callable[[], dict | None], method: str, status: int) -> None:
    """Add the entry ``make`` gives (None: none) in a transaction of its own (one
    statement, see ``store.py``); an error is logged, never raised."""
    try:
        made = make()
        if made is not None:
            store.add_entry(made)
    except Exception:  # noqa: BLE001 - reported; the answer must go out regardless
        log.exception("audit entry not recorded", extra={"method": method, "status": status})


def record_write(response: Response) -> Response:
    """``after_request`` hook: add the request's entry (:func:`record`)."""
    store = current_app.extensions["gateway_store"]
    record(store, lambda: entry_for(response), request.method, response.status_code)
    return response


def install(app: Flask) -> None:
    app.after_request(record_write)


def list_entries(
    session: Session,
    tenant_id: str,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    actor: str | None = None,
    method: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
):
    """The tenant's entries, oldest first, filtered; returns (entries, next_cursor)."""
    query = sa.select(AuditEntry).where(AuditEntry.tenant_id == tenant_id)
    if start is not None:
        query = query.where(AuditEntry.at >= start)
    if end is not None:
        query = query.where(AuditEntry.at <= end)
    if actor is not None:
        query = query.where(AuditEntry.actor == actor)
    if method is not None:
        query = query.where(AuditEntry.method == method)
    return page(session, query, AuditEntry.id, limit, cursor)
