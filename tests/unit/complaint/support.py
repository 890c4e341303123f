"""Helpers shared by the complaint tests (unit and integration)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import sqlalchemy as sa

from revisit_common.envelope import Envelope, parse
from revisit_common.outbox import outbox_table

TOKEN = "internal-test-token"
TENANT = "tenant-a"

COMPLAINT = {
    "customer_id": "cust-1",
    "channel": "phone",
    "severity": "general",
    "category": "product_quality",
    "department": "product",
    "description": "The pump stopped after two days.",
    "complainant": "Zhang San",
}


class Client:
    """The complaint service's HTTP API as the gateway calls it, for one tenant and role."""

    def __init__(self, app, tenant: str = TENANT, role: str = "admin", department=None):
        self.http = app.test_client()
        self.tenant = tenant
        self.role = role
        self.department = department

    def headers(self, **extra):
        headers = {
            "X-Revisit-Internal-Token": TOKEN,
            "X-Revisit-Tenant": self.tenant,
            "X-Revisit-Role": self.role,
            "X-Revisit-Actor": f"key-{self.role}",
            **extra,
        }
        if self.department:
            headers["X-Revisit-Department"] = self.department
        return headers

    def get(self, path, **kw):
        return self.http.get(path, headers=self.headers(), **kw)

    def post(self, path, json=None, **kw):
        return self.http.post(path, json=json, headers=self.headers(), **kw)

    def delete(self, path, **kw):
        return self.http.delete(path, headers=self.headers(), **kw)

    def create(self, **fields):
        r = self.post("/api/v1/complaints", {**COMPLAINT, **fields})
        assert r.status_code == 201, r.json
        return r.json

    def act(self, complaint_id, action, **fields):
        return self.post(
            f"/api/v1/complaints/{complaint_id}/transitions", {"action": action, **fields}
        )


def envelopes(runtime, type_name=None) -> list[Envelope]:
    """The events written to the outbox, oldest first (as the bus would carry them)."""
    with runtime.db.engine.connect() as conn:
        rows = conn.execute(sa.select(outbox_table).order_by(outbox_table.c.id)).all()
    found = [parse(r.body) for r in rows]
    return [e for e in found if type_name is None or e.type == type_name]


def routing_keys(runtime, type_name=None) -> list[str]:
    with runtime.db.engine.connect() as conn:
        rows = conn.execute(sa.select(outbox_table).order_by(outbox_table.c.id)).all()
    return [
        r.routing_key for r in rows if type_name is None or json.loads(r.body)["type"] == type_name
    ]


class Receiver:
    """A webhook receiver on localhost: answers with the scripted statuses, then 200."""

    def __init__(self, statuses=()):
        self.statuses = list(statuses)
        self.requests: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"nope" if status >= 300 else b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/complaints"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
