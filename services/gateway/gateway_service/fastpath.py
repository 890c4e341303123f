"""Forwarded reads the short way: plain WSGI instead of Flask's request machinery.

Most requests through the gateway are ``GET /api/v1/<resource of a service>/...`` with an
API key. For those, Flask's request context, URL routing, hook dispatch and response
finalising cost about as much as the key lookup and the forwarding together (~0.2 ms of
CPU a request). :class:`ForwardedReads` wraps the gateway app's ``wsgi_app`` and serves
such a request itself, with the same steps and the same functions as the Flask path: the
request id (``webapp``), the key lookup (``store.find_key``: a query on every request, or,
with REVISIT_KEY_CACHE, the identity kept until PostgreSQL tells of a change), the role
table, the rate limiter's count, the forwarded headers and answer (``proxy``),
``X-Request-ID`` and the request metrics (``webapp._finish``). The answer is the same, byte
for byte (``tests/unit/gateway/test_fastpath.py``).

Anything else goes to the Flask app unchanged: other methods and paths, public paths,
exports (streamed), a body, odd paths (``//``, ``.`` segments, non-ASCII, a trailing ``/``
or a NUL), a NUL in the query, no key, and every refusal (unknown or revoked key, role)
or failure of the lookup, all decided before anything is counted; the lookup's outcome
goes along (``auth.KEY_LOOKUP``), so the key is looked up once. Once the request is
counted, the answer is made here whatever happens (429, 503, 504, 500), as the Flask path
makes it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping

from flask import Response

from revisit_common import metrics
from revisit_common.identity import Identity
from revisit_common.problems import problem_response
from revisit_common.webapp import API_PREFIX, request_id_of

from . import auth, domain
from .proxy import (
    PROXY_RULE,
    RESOURCE_SERVICES,
    ForwardRequest,
    ForwardResponse,
    ServiceTimeout,
    ServiceUnavailable,
    Transport,
    failure_response,
    forwarded_headers,
    streamed,
    to_flask_response,
    wsgi_answer,
)
from .ratelimit import GatewayLimiter
from .store import Store

log = logging.getLogger(__name__)

PREFIX = API_PREFIX + "/"


class ForwardedReads:
    """WSGI middleware: forwarded GETs served here, every other request by ``fallback``
    (the Flask app's own ``wsgi_app``)."""

    def __init__(
        self,
        fallback: Callable,
        *,
        service: str,
        store: Store,
        transports: Mapping[str, Transport],
        internal_token: str,
        limiter: GatewayLimiter | None,
    ) -> None:
        self.fallback = fallback
        self.store = store
        self.transports = dict(transports)
        self.internal_token = internal_token
        self.limiter = limiter
        self.requests = metrics.HTTP_REQUESTS
        self.service = service
        self.duration = metrics.HTTP_DURATION.labels(service, "GET", PROXY_RULE)
        self._counters: dict[int, object] = {}  # status -> its series of HTTP_REQUESTS

    def __call__(self, environ: dict, start_response):
        started = time.perf_counter()
        target = self.target(environ)
        if target is None:
            return self.fallback(environ, start_response)
        path, service = target
        token = auth.bearer_of(environ)
        if token is None:
            return self.fallback(environ, start_response)
        try:
            identity = self.store.find_key(token)
        except Exception as exc:  # noqa: BLE001 - the Flask path answers it (503...)
            environ[auth.KEY_LOOKUP] = exc
            return self.fallback(environ, start_response)
        if identity is None or not domain.allowed(identity.role, "GET", path):
            environ[auth.KEY_LOOKUP] = auth.LookedUp(identity)
            return self.fallback(environ, start_response)  # 401 or 403, counted there
        request_id = request_id_of(environ)
        try:
            answer = self.forward(environ, path, service, identity, request_id)
            if isinstance(answer, ForwardResponse):
                parts = wsgi_answer(answer, request_id)
                if parts is not None:
                    start_response(parts[0], parts[1])
                    self.observe(answer.status, started)
                    return [parts[2]]
                answer = to_flask_response(answer)
        except Exception:  # noqa: BLE001 - as webapp's handler of unexpected errors
            log.exception("unhandled error", extra={"request_id": request_id})
            answer = problem_response(500, "internal error", request_id=request_id)
        answer.headers["X-Request-ID"] = request_id
        self.observe(answer.status_code, started)
        return answer(environ, start_response)

    def observe(self, status: int, started: float) -> None:
        """The request metrics, as webapp's after-request hook records them."""
        counter = self._counters.get(status)
        if counter is None:
            counter = self._counters[status] = self.requests.labels(
                self.service, "GET", PROXY_RULE, str(status)
            )
        counter.inc()
        self.duration.observe(time.perf_counter() - started)

    def target(self, environ: dict) -> tuple[str, str] | None:
        """(path, service) of a request this class serves, None for any other."""
        if environ.get("REQUEST_METHOD") != "GET" or environ.get("SCRIPT_NAME"):
            return None
        path = environ.get("PATH_INFO", "")
        if (
            not path.startswith(PREFIX)
            or not path.isascii()
            or path.endswith("/")
            or "//" in path
            or "/." in path
            or "\x00" in path
        ):
            return None
        service = RESOURCE_SERVICES.get(path[len(PREFIX) :].split("/", 1)[0])
        if service is None or service not in self.transports:
            return None
        if streamed("GET", path) or auth.is_public("GET", path):
            return None
        if "HTTP_TRANSFER_ENCODING" in environ or environ.get("CONTENT_LENGTH", "0") not in (
            "",
            "0",
        ):
            return None
        query = environ.get("QUERY_STRING", "")
        if "%00" in query or "\x00" in query:
            return None  # a NUL in a parameter: 422 from reject_hostile_input
        return path, service

    def forward(
        self, environ: dict, path: str, service: str, identity: Identity, request_id: str
    ) -> ForwardResponse | Response:
        """Count the request and forward it: the service's answer, or the problem answer
        (429, 503, 504) the Flask path gives (auth, ratelimit and proxy.forward)."""
        if self.limiter is not None:
            refused = self.limiter.count(f"key:{identity.actor}", True, request_id)
            if refused is not None:
                return refused
        outgoing = ForwardRequest(
            method="GET",
            path=path,
            query_string=environ.get("QUERY_STRING", "").encode("latin-1"),
            headers=forwarded_headers(environ, request_id, identity, self.internal_token),
        )
        try:
            return self.transports[service].send(outgoing)
        except (ServiceTimeout, ServiceUnavailable) as exc:
            return failure_response(service, exc, request_id)
