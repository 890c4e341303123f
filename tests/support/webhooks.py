"""The notify service as its tests drive it: runtimes per database, webhooks registered
through its API, a scriptable webhook receiver on 127.0.0.1, and sample events of every
catalogue type."""

from __future__ import annotations

import dataclasses
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from notify_service.bootstrap import SPEC
from revisit_common.events import CATALOGUE
from revisit_common.messaging.envelope import Envelope, wrap
from revisit_common.runtime import ServiceRuntime
from tests.support.settings import make_settings

from . import pg_templates, sqlite_templates
from .client import TOKEN, Client
from .servers import drop_schemas

SECRET = "s3cret-for-the-product-dept"
DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.services)]


def seed(settings) -> None:
    """The notify database of ``settings`` as a copy of the migrated one, where none is yet."""
    sqlite_templates.seed(settings, [SPEC])
    pg_templates.seed(settings, [SPEC])


def runtime_factory(request, tmp_path):
    """For a fixture parametrised on DATABASES: start notify runtimes (SQLite, or PostgreSQL
    in a schema of its own) with some settings changed, each returned with an admin client;
    closed after the test."""
    database = {}
    if request.param == "postgres":
        database = {
            "database_url": request.getfixturevalue("postgres_url"),
            "db_schema_prefix": request.getfixturevalue("postgres_schemas"),
        }
    started = []

    def make(**overrides):
        settings = make_settings(data_dir=tmp_path, internal_token=TOKEN, **database, **overrides)
        seed(settings)
        runtime = ServiceRuntime(SPEC, settings)
        started.append(runtime)
        return runtime, Client(runtime.create_app())

    yield make
    for runtime in started:
        runtime.close()


def module_runtime(request, tmp_path_factory):
    """For a module-scoped fixture parametrised on DATABASES: one notify runtime with
    default settings, which tests share, each with a tenant of its own (``tenant_admin``)."""
    database = {}
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        prefix = f"t{secrets.token_hex(4)}_"
        database = {"database_url": url, "db_schema_prefix": prefix}
        request.addfinalizer(lambda: drop_schemas(url, prefix))
    data_dir = tmp_path_factory.mktemp("webhooks")
    settings = make_settings(data_dir=data_dir, internal_token=TOKEN, **database)
    seed(settings)
    runtime = ServiceRuntime(SPEC, settings)
    yield runtime
    runtime.close()


def tenant_admin(runtime) -> Client:
    """An admin of a new tenant, on an app of its own."""
    return Client(runtime.create_app(), tenant=f"tenant-{secrets.token_hex(4)}")


def register(client, url, events=("complaint.*",), status=201, **extra):
    body = {"url": url, "events": list(events), **extra}
    if "secret" not in extra:
        body["secret"] = SECRET
    elif extra["secret"] is None:
        del body["secret"]
    r = client.post("/api/v1/webhooks", body)
    assert r.status_code == status, r.json
    return r.json


def deliveries(client, hook_id, **query):
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    r = client.get(f"/api/v1/webhooks/{hook_id}/deliveries?{qs}")
    assert r.status_code == 200, r.json
    return r.json["items"]


class Answer:
    def __init__(self, status=200, headers=None, body=b"ok"):
        self.status, self.headers, self.body = status, headers or {}, body


class Receiver:
    """A webhook receiver on 127.0.0.1: gives the scripted answers, then 200."""

    def __init__(self, *answers: Answer):
        self.answers = list(answers)
        self.requests: list[tuple[str, dict, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((self.path, dict(self.headers), body))
                answer = receiver.answers.pop(0) if receiver.answers else Answer()
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks/in"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def sample_envelope(type_name: str, tenant: str, department: str = "product") -> Envelope:
    """An event of ``type_name`` with placeholder values, as its publisher would wrap it."""
    cls = CATALOGUE[type_name]
    values = {}
    for field in dataclasses.fields(cls):
        kind = str(field.type)
        if field.name == "department":
            values[field.name] = department
        elif field.name == "timezone":
            values[field.name] = "UTC"
        elif kind.endswith("| None"):
            values[field.name] = None
        else:
            placeholder = {"int": 1, "float": 1.0, "bool": True, "dict": {}, "list": []}
            values[field.name] = placeholder.get(kind, f"{field.name}-1")
    return wrap(cls(**values), tenant_id=tenant, region="test")
