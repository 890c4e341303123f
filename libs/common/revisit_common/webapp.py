"""The HTTP edge every service shares: app factory, problem+json, request ids, metrics.

Routes live in each service's ``api.py`` as flask-smorest blueprints; this module wires
them into an app with the common behaviour:
- ``X-Request-ID`` echoed (or made) on every response and kept in ``g.request_id``;
- errors of every kind rendered as problem+json (validation 422 with per-field errors,
  malformed JSON 400, oversized bodies 413, an unreachable database 503), the use-case
  errors of :mod:`.errors` among them (:func:`use_case_problem`: the one mapping);
- ``/healthz`` and ``/readyz`` without auth; ``/metrics`` only with the metrics or the
  platform token as a bearer credential (401 problem+json without); ``/api/v1/*`` only
  with the identity the gateway vouches for; ``/internal/*`` only with the internal token.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping

from flask import Flask, Request, Response, g, request
from flask_smorest import Api
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from . import errors, identity, metrics, nul_text
from .flask_app import ServiceFlask
from .idempotency_openapi import IdempotencyPlugin
from .openapi_plugin import ContractPlugin
from .problems import ProblemSchema, flatten_validation, problem_response

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
# Routes that take a file: their body limit is max_upload_bytes (REVISIT_MAX_UPLOAD_BYTES),
# every other request's max_body_bytes. The gateway forwards them under the same limit.
UPLOAD_PATHS = frozenset({f"{API_PREFIX}/customers/import"})
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def request_id_of(environ: Mapping) -> str:
    """The request's id: the caller's ``X-Request-ID`` when it is a plain token of at most
    128 characters, else a new one."""
    sent = environ.get("HTTP_X_REQUEST_ID")
    return sent if sent and _REQUEST_ID.match(sent) else new_request_id()


def new_request_id() -> str:
    """``uuid.uuid4().hex``, the same 32 hex digits (version 4, RFC 4122 variant) from 16
    random bytes, without building a UUID object (a quarter of the cost)."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40
    raw[8] = raw[8] & 0x3F | 0x80
    return raw.hex()


OPEN_PATHS = ("/healthz", "/readyz", "/metrics", f"{API_PREFIX}/openapi.json")
INTERNAL_PREFIX = "/internal/"  # service-to-service paths: the internal token only


class ProblemApi(Api):
    """flask-smorest's Api, with every HTTP error rendered as problem+json."""

    # A reference to the Problem schema, registered once by init_app: flask-smorest documents
    # an error response with ERROR_SCHEMA for every HTTP status at each app build, and a
    # schema class there is a schema instance made and converted per status (63 of them):
    # 15 % of an app build. The document is the same.
    ERROR_SCHEMA = {"$ref": "#/components/schemas/Problem"}

    def init_app(self, app: Flask, **kwargs) -> None:
        super().init_app(app, **kwargs)
        self.spec.components.schema("Problem", schema=ProblemSchema)

    def handle_http_exception(self, error: HTTPException):
        data = getattr(error, "data", None) or {}
        errors = data.get("errors")
        if errors is None and "messages" in data:
            errors = flatten_validation(data["messages"])
        detail = data.get("message")
        if detail is None:
            detail = "invalid fields" if errors else error.description
        return problem_response(
            error.code or 500,
            detail,
            errors=errors,
            headers=data.get("headers") or dict(getattr(error, "headers", None) or {}),
            request_id=g.get("request_id"),
        )


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
# A string (skipped whole, escapes and all) or one bracket: what nesting depth is made of.
_STRING_OR_BRACKET = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')
MAX_JSON_DEPTH = 64


def json_depth_exceeds(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a JSON text nests arrays and objects more than ``limit`` deep, found
    without recursing. json.loads recurses once per level: thousands of levels (a few
    KiB) bring it to the interpreter's recursion limit, and anything that runs there (a
    garbage-collector finaliser, a log handler) fails too. Brackets inside strings do
    not count; a body with no more than ``limit`` brackets is passed without a scan."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(body):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif token in (b"]", b"}"):
            depth -= 1
    return False


def has_unpaired_surrogate(body: bytes) -> bool:
    """Whether a JSON text holds a string with an unpaired UTF-16 surrogate (a lone
    ``\\ud800`` escape): json.loads accepts it, but no UTF-8 text (a database, a response)
    can hold it. Malformed JSON is left to the parser."""
    if not _SURROGATE_ESCAPE.search(body):
        return False
    try:
        json.dumps(json.loads(body), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    except (ValueError, RecursionError):
        return False
    return False


def reject_hostile_input():
    """``before_request`` hook: refuse input no parser or database should see, before any
    route does: a NUL character in the path (400), in a query parameter (422) or in a JSON
    string (422; PostgreSQL cannot store it, see :mod:`.nul_text`), and a JSON body nested
    deeper than :data:`MAX_JSON_DEPTH` or holding an unpaired surrogate (400)."""
    return hostile_input_problem(request._get_current_object(), g.get("request_id"))


def hostile_input_problem(req: Request, rid: str | None) -> Response | None:
    """:func:`reject_hostile_input` of the request ``req`` whose id is ``rid``."""
    if nul_text.NUL in req.path:
        return problem_response(400, f"the path {nul_text.MESSAGE}", request_id=rid)
    environ = req.environ
    names = environ.get("QUERY_STRING") and nul_text.nul_names(req.args.items(multi=True))
    if names:
        errors = {name: [nul_text.MESSAGE] for name in names}
        return problem_response(422, "invalid query parameters", errors=errors, request_id=rid)
    content_type = environ.get("CONTENT_TYPE")
    # (the usual JSON body's header decided without parsing it: is_json parses the header)
    if not content_type or (content_type != "application/json" and not req.is_json):
        return None
    body = req.get_data(cache=True)
    if json_depth_exceeds(body):
        detail = f"malformed JSON: nested more than {MAX_JSON_DEPTH} levels deep"
    elif has_unpaired_surrogate(body):
        detail = "malformed JSON: a \\u escape is an unpaired surrogate (not a character)"
    elif _NUL_ESCAPE in body and (places := _nul_places(body)):
        errors = {place: [nul_text.MESSAGE] for place in places}
        return problem_response(422, "invalid fields", errors=errors, request_id=rid)
    else:
        return None
    return problem_response(400, detail, request_id=rid)


_NUL_ESCAPE = b"\\u0000"  # how JSON text spells NUL (a raw NUL byte is not valid JSON)


def _nul_places(body: bytes) -> list[str]:
    """Where a JSON body's strings hold a NUL (malformed JSON is left to the parser)."""
    try:
        return nul_text.nul_fields(json.loads(body))
    except ValueError:
        return []


def use_case_problem(exc: errors.UseCaseError) -> Response:
    """A use case's error as problem+json: NotFound 404 "<thing> not found", Conflict 409,
    Forbidden 403 (the message as detail), Invalid 422 with its ``errors``."""
    rid = g.get("request_id")
    if isinstance(exc, errors.NotFound):
        return problem_response(404, f"{exc} not found", request_id=rid)
    if isinstance(exc, errors.Invalid):
        return problem_response(422, exc.detail, errors=exc.errors, request_id=rid)
    status = 403 if isinstance(exc, errors.Forbidden) else 409
    return problem_response(status, str(exc), request_id=rid)


def create_app(
    *,
    service: str,
    title: str,
    blueprints: Iterable,
    internal_token: str | None,
    max_body_bytes: int,
    max_upload_bytes: int | None = None,
    ready_checks: Iterable[Callable[[], None]] = (),
    extensions: dict | None = None,
    public: bool = False,
    token_only_prefixes: Iterable[str] = (),
    metrics_tokens: Iterable[str] = (),
) -> Flask:
    """Build a service's Flask app.

    ``public`` is for the gateway, which authenticates clients itself; backend services
    accept ``/api/v1`` calls only with the gateway's internal token.
    """
    app = ServiceFlask(service)
    app.config.update(
        API_TITLE=title,
        API_VERSION="v1",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX=API_PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        MAX_CONTENT_LENGTH=max_body_bytes,
        JSON_SORT_KEYS=False,
    )
    app.extensions.update(extensions or {})
    api = ProblemApi(app, spec_kwargs={"extra_plugins": [ContractPlugin(), IdempotencyPlugin()]})
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for blp in blueprints:
        api.register_blueprint(blp)
    app.extensions["revisit_api"] = api
    checks = list(ready_checks)
    token_only = tuple(token_only_prefixes)
    scrape_tokens = tuple(metrics_tokens)

    def refusal(req: Request, rid: str, state) -> Response | None:
        """The answer to a request that may not reach its route (None: it may)."""
        path = req.path
        if max_upload_bytes is not None and path in UPLOAD_PATHS:
            req.max_content_length = max_upload_bytes  # Flask 3.1: per request
        if not public and path.startswith(INTERNAL_PREFIX):
            # What only the gateway asks a service (e.g. to check a settings section).
            if identity.gateway_token_ok(internal_token):
                return None
            return problem_response(401, "missing or invalid credentials", request_id=rid)
        if public or not path.startswith(API_PREFIX) or path in OPEN_PATHS:
            return None
        if token_only and path.startswith(token_only):
            # Reached through the gateway with a credential of its own (e.g. a survey token
            # in the URL): the gateway's token is required, a tenant identity is not.
            if identity.gateway_token_ok(internal_token):
                return None
            return problem_response(401, "missing or invalid credentials", request_id=rid)
        state.identity = who = identity.identity_of(req.environ, internal_token)
        if who is None:
            return problem_response(401, "missing or invalid credentials", request_id=rid)
        return None

    # One hook (each costs Flask a dispatch): the request id, the caller, and (services:
    # the gateway checks it itself once a chunked body is read) hostile input refused.
    # The request and g are looked up once each (_get_current_object: what Flask documents
    # for reaching the object behind a proxy), not at every attribute.
    @app.before_request
    def _start():
        state = g._get_current_object()
        state.started = time.perf_counter()
        req = request._get_current_object()
        state.request_id = rid = request_id_of(req.environ)
        state.identity = None
        refused = refusal(req, rid, state)
        if refused is not None or public:
            return refused
        return hostile_input_problem(req, rid)

    # (method, rule, status) -> its two series: labels() checks and looks up its values at
    # every call; the series it returns stay the same, so each is looked up once here.
    series: dict[tuple[str, str, int], tuple] = {}

    @app.after_request
    def _finish(response: Response):
        state = g._get_current_object()
        rid = getattr(state, "request_id", "")
        response.headers["X-Request-ID"] = rid
        req = request._get_current_object()
        url_rule = req.url_rule
        rule = url_rule.rule if url_rule else "unmatched"
        now = time.perf_counter()
        elapsed = now - getattr(state, "started", now)
        key = (req.method, rule, response.status_code)
        found = series.get(key)
        if found is None:
            method, _, status = key
            found = series[key] = (
                metrics.HTTP_REQUESTS.labels(service, method, rule, str(status)),
                metrics.HTTP_DURATION.labels(service, method, rule),
            )
        found[0].inc()
        found[1].observe(elapsed)
        return response

    app.register_error_handler(errors.UseCaseError, use_case_problem)

    @app.errorhandler(DBAPIError)
    def _database_error(exc: DBAPIError):
        if isinstance(exc, OperationalError) or exc.connection_invalidated:
            log.error("database unavailable: %s", exc.orig)
            return problem_response(
                503,
                "database unavailable, try again shortly",
                headers={"Retry-After": "2"},
                request_id=g.get("request_id"),
            )
        return _unexpected(exc)

    @app.errorhandler(PoolTimeout)
    def _pool_exhausted(exc: PoolTimeout):
        # Every connection of the process's pool stayed in use for REVISIT_DB_POOL_TIMEOUT
        # seconds: busy, not broken. The client tries again shortly.
        log.warning("database connections all in use: %s", exc)
        return problem_response(
            503,
            "all database connections are busy, try again shortly",
            headers={"Retry-After": "1"},
            request_id=g.get("request_id"),
        )

    @app.errorhandler(RecursionError)
    def _too_deep(exc: RecursionError):
        # json.loads recurses once per nesting level: "[[[[...]]]]" a few thousand deep
        # (a few KiB) exhausts the stack while the body is parsed. Bad input, not our fault.
        log.warning("request body nested too deeply: %s", type(exc).__name__)
        return problem_response(
            400, "malformed JSON: nested too deeply", request_id=g.get("request_id")
        )

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return api.handle_http_exception(exc)
        log.exception("unhandled error")
        return problem_response(500, "internal error", request_id=g.get("request_id"))

    @app.get("/healthz")
    def healthz():
        return {"status": "ok", "service": service}

    @app.get("/readyz")
    def readyz():
        failures = {}
        for check in checks:
            try:
                check()
            except Exception as exc:  # noqa: BLE001 - reported in the 503 body
                failures[getattr(check, "__name__", "check")] = str(exc)[:300]
        if failures:
            return problem_response(
                503, "not ready", errors=failures, request_id=g.get("request_id")
            )
        return {"status": "ready", "service": service}

    @app.get("/metrics")
    def metrics_view():
        if not metrics.authorized(request.headers.get("Authorization"), scrape_tokens):
            return problem_response(
                401,
                "/metrics needs Authorization: Bearer <REVISIT_METRICS_TOKEN or platform token>",
                headers={"WWW-Authenticate": "Bearer"},
                request_id=g.get("request_id"),
            )
        body, content_type = metrics.render()
        return Response(body, content_type=content_type)

    return app
