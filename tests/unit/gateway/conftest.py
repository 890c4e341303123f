"""A fresh gateway per test: SQLite under tmp_path, fake backends attached in process."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask, g, jsonify, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from gateway_service.bootstrap import SPEC, InProcessTransport, create_gateway_app
from revisit_common import webapp
from revisit_common.config import Settings
from revisit_common.outbox import outbox_table
from revisit_common.runtime import ServiceRuntime

PLATFORM_TOKEN = "platform-token-for-tests"
INTERNAL_TOKEN = "internal-token-for-tests"


def _echo() -> dict:
    identity = g.get("identity")
    return {
        "method": request.method,
        "path": request.path,
        "query": request.query_string.decode("latin-1"),
        "args": request.args.to_dict(flat=False),
        "body": request.get_data(as_text=True),
        "content_type": request.content_type,
        "headers": {k.lower(): v for k, v in request.headers.items()},
        "identity": None if identity is None else identity.__dict__,
    }


class CustomerIn(Schema):
    name = fields.String(required=True)


def customer_service_app() -> Flask:
    """A backend built on the real service plumbing (webapp.create_app, not public): it only
    answers /api/v1 calls that carry the internal token and an identity."""
    blp = Blueprint("fake_customers", __name__, url_prefix="/api/v1/customers")

    @blp.route("")
    class Customers(MethodView):
        @blp.response(200)
        def get(self):
            return _echo()

        @blp.arguments(CustomerIn)
        @blp.response(201)
        def post(self, data):
            return {"created": data, **_echo()}

    app = webapp.create_app(
        service="customer",
        title="fake customer",
        blueprints=[blp],
        internal_token=INTERNAL_TOKEN,
        max_body_bytes=10 * 1024 * 1024,
    )

    @app.route("/api/v1/customers/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def echo(rest):
        if rest == "limited":
            body = json.dumps({"type": "about:blank", "title": "Too Many Requests", "status": 429})
            return body, 429, {"Content-Type": "application/problem+json", "Retry-After": "7"}
        if rest == "empty":
            return "", 204
        return jsonify(_echo())

    return app


def echo_app(name: str) -> Flask:
    """A bare backend that echoes what it received (headers included)."""
    app = Flask(name)

    @app.route("/api/v1/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def echo(rest):
        return jsonify(_echo())

    return app


class Gateway:
    """The app under test and helpers to make tenants and keys through the API."""

    def __init__(self, app: Flask, runtime: ServiceRuntime):
        self.app = app
        self.runtime = runtime
        self.client = app.test_client()

    def create_tenant(self, name: str = "Acme", **extra) -> dict:
        resp = self.client.post(
            "/api/v1/tenants",
            json={"name": name, **extra},
            headers={"Authorization": f"Bearer {PLATFORM_TOKEN}"},
        )
        assert resp.status_code == 201, resp.get_json()
        return resp.get_json()

    def create_key(self, admin_key: str, role: str, department: str | None = None) -> dict:
        body = {"name": f"{role} key", "role": role}
        if department:
            body["department"] = department
        resp = self.client.post("/api/v1/api-keys", json=body, headers=auth(admin_key))
        assert resp.status_code == 201, resp.get_json()
        return resp.get_json()

    def outbox(self) -> list[dict]:
        with self.runtime.db.engine.connect() as conn:
            rows = conn.execute(sa.select(outbox_table).order_by(outbox_table.c.id)).all()
        return [{"routing_key": r.routing_key, **json.loads(r.body)} for r in rows]


def auth(key: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **headers}


@pytest.fixture
def make_gateway(tmp_path) -> Callable[..., Gateway]:
    runtimes: list[ServiceRuntime] = []

    def make(transports: dict | None = None, **settings) -> Gateway:
        values = {
            "data_dir": tmp_path / f"gw{len(runtimes)}",
            "admin_token": PLATFORM_TOKEN,
            "internal_token": INTERNAL_TOKEN,
            **settings,
        }
        runtime = ServiceRuntime(SPEC, Settings(**values))
        runtimes.append(runtime)
        if transports is None:
            transports = {
                "customer": InProcessTransport(customer_service_app()),
                "complaint": InProcessTransport(echo_app("complaint")),
                "survey": InProcessTransport(echo_app("survey")),
            }
        return Gateway(create_gateway_app(runtime, transports), runtime)

    yield make
    for runtime in runtimes:
        runtime.close()


@pytest.fixture
def gateway(make_gateway) -> Gateway:
    return make_gateway()


@pytest.fixture
def tenant(gateway) -> dict:
    return gateway.create_tenant()


@pytest.fixture
def admin(tenant) -> str:
    return tenant["admin_key"]
