"""Forwarded requests the short way: plain WSGI instead of Flask's request machinery.

Most requests through the gateway are ``GET /api/v1/<resource of a service>/...`` with an
API key, and most writes the same with a JSON body (``POST``, ``PUT``, ``PATCH``,
``DELETE``). For those, Flask's request context, URL routing, hook dispatch and response
finalising cost about as much as the key lookup and the forwarding together (~0.2 ms of
CPU a read, ~0.3 ms a write). :class:`ForwardedReads` wraps the gateway app's ``wsgi_app``
and serves such a request itself, with the same steps and the same functions as the Flask
path: the request id (``webapp``), the key lookup (``store.find_key``: a query on every
request, or, with REVISIT_KEY_CACHE, the identity kept until PostgreSQL tells of a
change), the role table, the rate limiter's count, the forwarded headers and answer
(``proxy``), ``X-Request-ID``, the request metrics (``webapp._finish``) and, for a write,
its audit entry (``audit.record``, before the answer goes out). The answer is the same,
byte for byte (``tests/unit/gateway/test_fastpath.py``, ``test_forwarded_writes.py``).

Anything else goes to the Flask app unchanged: other methods and paths, public paths,
exports (streamed), a read with a body, a write whose body is not JSON (by its
Content-Type, exactly ``application/json``), empty, over the limit, chunked, or that
``webapp.reject_hostile_input`` might refuse (a ``\\u0000`` escape, an unpaired
surrogate, nesting too deep), odd paths (``//``, ``.`` segments, non-ASCII, a trailing
``/`` or a NUL), a NUL in the query, no key, and every refusal (unknown or revoked key,
role) or failure of the lookup, all decided before anything is counted; the lookup's
outcome goes along (``auth.KEY_LOOKUP``), so the key is looked up once, and a body read
here is put back for it. Once the request is counted, the answer is made here whatever
happens (429, 503, 504, 500), as the Flask path makes it.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Mapping

from flask import Response

from revisit_common import metrics, webapp
from revisit_common.identity import Identity
from revisit_common.problems import problem_response
from revisit_common.webapp import API_PREFIX, request_id_of

from . import audit, auth, domain
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
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
NUL_ESCAPE = b"\\u0000"  # how JSON spells NUL: such a body is left to reject_hostile_input


class ForwardedReads:
    """WSGI middleware: forwarded GETs and JSON writes served here, every other request by
    ``fallback`` (the Flask app's own ``wsgi_app``). (Named when it served reads only.)"""

    def __init__(
        self,
        fallback: Callable,
        *,
        service: str,
        store: Store,
        transports: Mapping[str, Transport],
        internal_token: str,
        limiter: GatewayLimiter | None,
        max_body_bytes: int,
    ) -> None:
        self.fallback = fallback
        self.store = store
        self.transports = dict(transports)
        self.internal_token = internal_token
        self.limiter = limiter
        self.max_body_bytes = max_body_bytes
        self.requests = metrics.HTTP_REQUESTS
        self.service = service
        # (method, status) -> its series of HTTP_REQUESTS and HTTP_DURATION
        self._series: dict[tuple[str, int], tuple] = {}

    def __call__(self, environ: dict, start_response):
        started = time.perf_counter()
        method = environ.get("REQUEST_METHOD")
        if method == "GET":
            target = self.target(environ)
            body = b""
        elif method in WRITES:
            target, body = self.write_target(environ)
        else:
            target = None
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
        if identity is None or not domain.allowed(identity.role, method, path):
            environ[auth.KEY_LOOKUP] = auth.LookedUp(identity)
            return self.fallback(environ, start_response)  # 401 or 403, counted there
        request_id = request_id_of(environ)
        status: int | None = None
        try:
            answer = self.forward(environ, method, path, service, identity, request_id, body)
            if isinstance(answer, ForwardResponse):
                parts = wsgi_answer(answer, request_id)
                if parts is not None:
                    status = answer.status
                    self.audit(method, path, status, identity, request_id)
                    start_response(parts[0], parts[1])
                    self.observe(method, status, started)
                    return [parts[2]]
                answer = to_flask_response(answer)
        except Exception:  # noqa: BLE001 - as webapp's handler of unexpected errors
            log.exception("unhandled error", extra={"request_id": request_id})
            answer = problem_response(500, "internal error", request_id=request_id)
        answer.headers["X-Request-ID"] = request_id
        self.audit(method, path, answer.status_code, identity, request_id)
        self.observe(method, answer.status_code, started)
        return answer(environ, start_response)

    def audit(
        self, method: str, path: str, status: int, identity: Identity, request_id: str
    ) -> None:
        """A write's audit entry, as audit.record_write makes it (none for a 429), before
        the answer goes out."""
        if method == "GET" or status == 429:
            return
        actor = identity.staff or identity.actor
        audit.record(
            self.store,
            lambda: audit.entry(
                identity.tenant_id, actor, identity.role, method, path, status, request_id
            ),
            method,
            status,
        )

    def observe(self, method: str, status: int, started: float) -> None:
        """The request metrics, as webapp's after-request hook records them."""
        series = self._series.get((method, status))
        if series is None:
            series = self._series[(method, status)] = (
                self.requests.labels(self.service, method, PROXY_RULE, str(status)),
                metrics.HTTP_DURATION.labels(self.service, method, PROXY_RULE),
            )
        series[0].inc()
        series[1].observe(time.perf_counter() - started)

    def resource_target(self, method: str, environ: dict) -> tuple[str, str] | None:
        """(path, service) when ``environ``'s path is a plain one of a service's resource
        (forwarded by the Flask path's catch-all route), None for any other."""
        if environ.get("SCRIPT_NAME"):
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
        if streamed(method, path) or auth.is_public(method, path):
            return None
        query = environ.get("QUERY_STRING", "")
        if "%00" in query or "\x00" in query:
            return None  # a NUL in a parameter: 422 from reject_hostile_input
        return path, service

    def target(self, environ: dict) -> tuple[str, str] | None:
        """(path, service) of a read this class serves, None for any other."""
        if "HTTP_TRANSFER_ENCODING" in environ or environ.get("CONTENT_LENGTH", "0") not in (
            "",
            "0",
        ):
            return None
        return self.resource_target("GET", environ)

    def write_target(self, environ: dict) -> tuple[tuple[str, str] | None, bytes]:
        """((path, service), body) of a write this class serves: a JSON body of a length
        within the limit, that reject_hostile_input would pass without a doubt (no
        ``\\u0000``, no unpaired surrogate, not nested too deep). (None, b"") for any
        other. The body read here is put back for the Flask path."""
        length = environ.get("CONTENT_LENGTH", "")
        if (
            environ.get("CONTENT_TYPE") != "application/json"
            or "HTTP_TRANSFER_ENCODING" in environ
            or not length.isdigit()
            or not 0 < int(length) <= self.max_body_bytes
        ):
            return None, b""
        target = self.resource_target(environ["REQUEST_METHOD"], environ)
        if target is None:
            return None, b""
        body = environ["wsgi.input"].read(int(length))
        environ["wsgi.input"] = io.BytesIO(body)
        if (
            len(body) != int(length)
            or NUL_ESCAPE in body
            or webapp.json_depth_exceeds(body)
            or webapp.has_unpaired_surrogate(body)
        ):
            return None, b""
        return target, body

    def forward(
        self,
        environ: dict,
        method: str,
        path: str,
        service: str,
        identity: Identity,
        request_id: str,
        body: bytes,
    ) -> ForwardResponse | Response:
        """Count the request and forward it: the service's answer, or the problem answer
        (429, 503, 504) the Flask path gives (auth, ratelimit and proxy.forward)."""
        if self.limiter is not None:
            refused = self.limiter.count(f"key:{identity.actor}", True, request_id)
            if refused is not None:
                return refused
        outgoing = ForwardRequest(
            method=method,
            path=path,
            query_string=environ.get("QUERY_STRING", "").encode("latin-1"),
            headers=forwarded_headers(environ, request_id, identity, self.internal_token),
            body=body,
        )
        try:
            return self.transports[service].send(outgoing)
        except (ServiceTimeout, ServiceUnavailable) as exc:
            return failure_response(service, exc, request_id)
