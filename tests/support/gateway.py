"""The gateway's surroundings in its tests: the tokens it is started with, a bearer header,
and backends that echo what the gateway forwarded to them."""

from __future__ import annotations

import json

from flask import Flask, g, jsonify, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from revisit_common import webapp

from .client import ADMIN

PLATFORM_TOKEN = ADMIN
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


def auth(key: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **headers}


class Raising:
    """A transport that fails as a service does (unreachable, slow), or as a bug does."""

    def __init__(self, exc: Exception):
        self.exc = exc
        self.calls = 0

    def send(self, req):
        self.calls += 1
        raise self.exc


def counted_lookups(monkeypatch, store) -> list[str]:
    """The keys ``store`` looks up from now on (its ``find_key`` counted, then called)."""
    lookups: list[str] = []
    find_key = store.find_key

    def counted(key):
        lookups.append(key)
        return find_key(key)

    monkeypatch.setattr(store, "find_key", counted)
    return lookups
