"""The floor of our stack: plain Flask + psycopg doing the database work of five service
requests, nothing else (bench section "floor", :mod:`bench.floor`).

Served by gunicorn with the services' settings (``revisit_runner.gunicorn_conf``):

    FLOOR_DATABASE_URL=postgresql://... FLOOR_INTERNAL_TOKEN=... \\
        gunicorn -c python:revisit_runner.gunicorn_conf bench.floor_app:app

Each request checks the internal token and reads the tenant header (as a service does),
then runs its statements on the thread's own connection (autocommit off: one transaction
per request) and answers JSON:

- ``GET /customers/<id>``: one customer row by id and tenant with its contacts, in one
  statement outside a transaction (autocommit for it), as the customer service reads it;
- ``POST /customers``, ``POST /customers/<id>/purchases``, ``POST /complaints``: one entity
  row plus one outbox row;
- ``POST /visits/<id>/complete``: one visit row updated plus one outbox row.

:func:`create_schema` makes the tables (in schema ``floor``); the bench calls it once.
"""

from __future__ import annotations

import hmac
import json
import os
import threading
import uuid
from datetime import UTC, datetime

import psycopg
from flask import Flask, request

SCHEMA = "floor"
TABLES = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE TABLE IF NOT EXISTS {SCHEMA}.customers (
    id varchar(36) PRIMARY KEY, tenant_id varchar(36) NOT NULL, name varchar(200),
    type varchar(20), region varchar(50), owner varchar(100), annual_amount numeric,
    cooperation_start date, created_at timestamptz, updated_at timestamptz);
CREATE TABLE IF NOT EXISTS {SCHEMA}.contacts (
    id varchar(36) PRIMARY KEY, customer_id varchar(36), position integer,
    name varchar(100), phone varchar(50));
CREATE TABLE IF NOT EXISTS {SCHEMA}.purchases (
    id varchar(36) PRIMARY KEY, tenant_id varchar(36) NOT NULL, customer_id varchar(36),
    amount numeric, product varchar(200), purchased_at timestamptz, created_at timestamptz);
CREATE TABLE IF NOT EXISTS {SCHEMA}.complaints (
    id varchar(36) PRIMARY KEY, tenant_id varchar(36) NOT NULL, customer_id varchar(36),
    channel varchar(20), severity varchar(20), category varchar(100),
    department varchar(100), description text, status varchar(20), received_at timestamptz,
    created_at timestamptz);
CREATE TABLE IF NOT EXISTS {SCHEMA}.visits (
    id varchar(36) PRIMARY KEY, tenant_id varchar(36) NOT NULL, customer_id varchar(36),
    status varchar(20), satisfaction varchar(20), completed_at timestamptz);
CREATE TABLE IF NOT EXISTS {SCHEMA}.outbox (
    id bigserial PRIMARY KEY, event_id varchar(36), routing_key varchar(200), body text,
    created_at timestamptz, sent_at timestamptz, attempts integer, last_error text);
"""


def create_schema(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(TABLES)


def add_visits(url: str, tenant_id: str, customer_id: str, count: int) -> list[str]:
    """``count`` planned visits of one customer (for ``POST /visits/<id>/complete``)."""
    ids = [str(uuid.uuid4()) for _ in range(count)]
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO {SCHEMA}.visits (id, tenant_id, customer_id, status)"
            " VALUES (%s, %s, %s, 'planned')",
            [(each, tenant_id, customer_id) for each in ids],
        )
    return ids


app = Flask("floor")
_local = threading.local()
_TOKEN = os.environ.get("FLOOR_INTERNAL_TOKEN", "")


def _conn() -> psycopg.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        conn = psycopg.connect(os.environ["FLOOR_DATABASE_URL"])
        _local.conn = conn
    return conn


def _tenant() -> str | None:
    sent = request.headers.get("X-Revisit-Internal-Token", "")
    if not sent or not hmac.compare_digest(sent.encode(), _TOKEN.encode()):
        return None
    return request.headers.get("X-Revisit-Tenant") or None


def _outbox(cur, routing_key: str, tenant: str, data: dict) -> None:
    event_id = str(uuid.uuid4())
    body = json.dumps({"id": event_id, "type": routing_key, "tenantid": tenant, "data": data})
    cur.execute(
        f"INSERT INTO {SCHEMA}.outbox (event_id, routing_key, body, created_at, attempts)"
        " VALUES (%s, %s, %s, %s, 0)",
        (event_id, routing_key, body, datetime.now(UTC)),
    )


def _unauthorized():
    return {"title": "missing or invalid credentials"}, 401


@app.get("/customers/<customer_id>")
def get_customer(customer_id: str):
    tenant = _tenant()
    if tenant is None:
        return _unauthorized()
    conn = _conn()
    conn.autocommit = True  # one statement: no transaction around it
    try:
        rows = conn.execute(
            f"SELECT c.id, c.name, c.type, c.region, c.owner, c.annual_amount,"
            f" c.cooperation_start, c.created_at, k.id, k.name, k.phone"
            f" FROM {SCHEMA}.customers c LEFT JOIN {SCHEMA}.contacts k ON k.customer_id = c.id"
            f" WHERE c.id = %s AND c.tenant_id = %s ORDER BY k.position",
            (customer_id, tenant),
        ).fetchall()
    finally:
        conn.autocommit = False
    if not rows:
        return {"title": "customer not found"}, 404
    row = rows[0]
    keys = ("id", "name", "type", "region", "owner", "annual_purchase_amount")
    out = dict(zip(keys, row[:6], strict=True))
    out["annual_purchase_amount"] = float(out["annual_purchase_amount"])
    out["cooperation_start"] = row[6].isoformat()
    out["created_at"] = row[7].isoformat()
    out["contacts"] = [
        {"id": each[8], "name": each[9], "phone": each[10]} for each in rows if each[8]
    ]
    return out


@app.post("/customers")
def post_customer():
    tenant = _tenant()
    if tenant is None:
        return _unauthorized()
    data = request.get_json()
    row = {"id": str(uuid.uuid4()), "tenant_id": tenant, "created_at": datetime.now(UTC)}
    conn = _conn()
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(
            f"INSERT INTO {SCHEMA}.customers (id, tenant_id, name, type, region, owner,"
            " annual_amount, cooperation_start, created_at, updated_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                row["id"],
                tenant,
                data["name"],
                data["type"],
                data["region"],
                data.get("owner"),
                data["annual_purchase_amount"],
                data["cooperation_start"],
                row["created_at"],
                row["created_at"],
            ),
        )
        _outbox(cur, "customer.registered", tenant, {"customer_id": row["id"], **data})
    return {"id": row["id"], **data, "created_at": row["created_at"].isoformat()}, 201


@app.post("/customers/<customer_id>/purchases")
def post_purchase(customer_id: str):
    tenant = _tenant()
    if tenant is None:
        return _unauthorized()
    data = request.get_json()
    purchase_id, now = str(uuid.uuid4()), datetime.now(UTC)
    conn = _conn()
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(
            f"INSERT INTO {SCHEMA}.purchases (id, tenant_id, customer_id, amount, product,"
            " purchased_at, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (
                purchase_id,
                tenant,
                customer_id,
                data["amount"],
                data["product"],
                data["purchased_at"],
                now,
            ),
        )
        _outbox(cur, "purchase.recorded", tenant, {"purchase_id": purchase_id, **data})
    return {"id": purchase_id, "customer_id": customer_id, **data}, 201


@app.post("/complaints")
def post_complaint():
    tenant = _tenant()
    if tenant is None:
        return _unauthorized()
    data = request.get_json()
    complaint_id, now = str(uuid.uuid4()), datetime.now(UTC)
    conn = _conn()
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(
            f"INSERT INTO {SCHEMA}.complaints (id, tenant_id, customer_id, channel, severity,"
            " category, department, description, status, received_at, created_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'received', %s, %s)",
            (
                complaint_id,
                tenant,
                data["customer_id"],
                data["channel"],
                data["severity"],
                data["category"],
                data.get("department"),
                data["description"],
                now,
                now,
            ),
        )
        _outbox(cur, "complaint.received", tenant, {"complaint_id": complaint_id, **data})
    return {"id": complaint_id, "status": "received", **data}, 201


@app.post("/visits/<visit_id>/complete")
def complete_visit(visit_id: str):
    tenant = _tenant()
    if tenant is None:
        return _unauthorized()
    data = request.get_json()
    now = datetime.now(UTC)
    conn = _conn()
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(
            f"UPDATE {SCHEMA}.visits SET status = 'completed', satisfaction = %s,"
            " completed_at = %s WHERE id = %s AND tenant_id = %s AND status = 'planned'"
            " RETURNING customer_id",
            (data["satisfaction"], now, visit_id, tenant),
        )
        row = cur.fetchone()
        if row is None:
            return {"title": "visit not planned"}, 409
        _outbox(cur, "visit.completed", tenant, {"visit_id": visit_id, **data})
    return {"id": visit_id, "customer_id": row[0], "status": "completed", **data}
