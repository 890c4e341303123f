"""Forwarding ``/api/v1/<resource>...`` to the service that owns the resource.

The path goes unchanged (services serve the same ``/api/v1`` paths), with the query string,
body, a few content headers, ``X-Request-ID`` and the identity the gateway vouches for.
Client-sent ``X-Revisit-*`` headers never pass: only the headers listed in
:data:`FORWARDED_REQUEST_HEADERS` are copied. Two transports implement :class:`Transport`:
:class:`InProcessTransport` calls a service's WSGI app directly (standalone mode) and
:class:`HttpTransport` calls it over HTTP (distributed mode).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import quote

import requests
from flask import Flask, Response, current_app, g, request
from flask_smorest import abort
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ReadTimeoutError
from urllib3.util.retry import Retry
from werkzeug.test import EnvironBuilder, run_wsgi_app

from revisit_common.identity import TOKEN_HEADER
from revisit_common.problems import problem_response
from revisit_common.webapp import API_PREFIX

log = logging.getLogger(__name__)

# Which service owns each top-level resource under /api/v1.
RESOURCE_SERVICES: dict[str, str] = {
    "customers": "customer",
    "visits": "visit",
    "issues": "visit",
    "complaints": "complaint",
    "webhooks": "complaint",
    "surveys": "survey",
    "survey-responses": "survey",
    "kpis": "kpi",
}
# Served by the gateway itself (a method its routes lack is 405, not forwarded).
GATEWAY_RESOURCES = frozenset({"tenants", "api-keys", "settings", "audit-log", "openapi.json"})

FORWARDED_REQUEST_HEADERS = (
    "Accept",
    "Accept-Language",
    "Content-Type",
    "If-Match",
    "If-None-Match",
    "If-Modified-Since",
    "Idempotency-Key",
    "User-Agent",
)
PASSED_RESPONSE_HEADERS = (
    "Content-Type",
    "Retry-After",
    "X-Request-ID",
    "Location",
    "ETag",
    "Last-Modified",
    "Cache-Control",
    "Content-Disposition",
    "Link",
)
PROXY_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# What may stay unquoted in a forwarded path (RFC 3986 pchar and "/"); the rest is quoted.
PATH_SAFE = "/:@!$&'()*+,;=-._~"


def resource_of(path: str) -> str:
    """The first segment after ``/api/v1``: ``/api/v1/visits/7/complete`` → ``visits``."""
    rest = path[len(API_PREFIX) :] if path.startswith(API_PREFIX) else path
    return rest.strip("/").split("/", 1)[0]


# --------------------------------------------------------------------------- transports


@dataclass(frozen=True)
class ForwardRequest:
    method: str
    path: str
    query_string: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True)
class ForwardResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)


class ServiceUnavailable(Exception):
    """The service could not be reached (refused, reset, DNS...)."""


class ServiceTimeout(Exception):
    """The service did not answer in time."""


class Transport(Protocol):
    def send(self, req: ForwardRequest) -> ForwardResponse: ...


class InProcessTransport:
    """Standalone mode: call the service's WSGI app in this process."""

    def __init__(self, wsgi_app, *, remote_addr: str = "127.0.0.1"):
        self.wsgi_app = wsgi_app
        self.remote_addr = remote_addr

    def send(self, req: ForwardRequest) -> ForwardResponse:
        builder = EnvironBuilder(
            # quoted, as over HTTP: a decoded path may hold "?" or "#" (werkzeug unquotes it)
            path=quote(req.path, safe=PATH_SAFE),
            method=req.method,
            query_string=req.query_string.decode("latin-1"),
            headers=list(req.headers.items()),
            data=req.body,
            environ_base={"REMOTE_ADDR": self.remote_addr},
        )
        try:
            environ = builder.get_environ()
        finally:
            builder.close()
        app_iter, status, headers = run_wsgi_app(self.wsgi_app, environ, buffered=True)
        try:
            body = b"".join(app_iter)
        finally:
            close = getattr(app_iter, "close", None)
            if close is not None:
                close()
        return ForwardResponse(int(status.split(" ", 1)[0]), list(headers.items()), body)


class HttpTransport:
    """Distributed mode: HTTP to the service, with timeouts; only GET/HEAD are retried."""

    IDEMPOTENT = frozenset({"GET", "HEAD"})

    def __init__(
        self,
        base_url: str,
        *,
        connect_timeout: float = 3.0,
        read_timeout: float = 30.0,
        retries: int = 2,
        backoff: float = 0.1,
    ):
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        self._retrying = self._session(
            Retry(
                total=retries,
                connect=retries,
                read=retries,
                status=retries,
                status_forcelist=(502, 504),
                allowed_methods=self.IDEMPOTENT,
                backoff_factor=backoff,
                raise_on_status=False,
                respect_retry_after_header=False,
            )
        )
        self._once = self._session(Retry(total=0, read=False, raise_on_status=False))

    @staticmethod
    def _session(retry: Retry) -> requests.Session:
        session = requests.Session()
        adapter = HTTPAdapter(max_retries=retry, pool_connections=4, pool_maxsize=32)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.trust_env = False  # no proxies or netrc from the environment inside a cluster
        return session

    def send(self, req: ForwardRequest) -> ForwardResponse:
        url = self.base_url + quote(req.path, safe=PATH_SAFE)
        if req.query_string:
            url += "?" + req.query_string.decode("latin-1")
        session = self._retrying if req.method in self.IDEMPOTENT else self._once
        try:
            resp = session.request(
                req.method,
                url,
                data=req.body or None,
                headers=dict(req.headers),
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.ConnectTimeout as exc:
            raise ServiceUnavailable(f"connect to {self.base_url} timed out") from exc
        except requests.ReadTimeout as exc:
            raise ServiceTimeout(f"{self.base_url} did not answer in time") from exc
        except requests.ConnectionError as exc:
            reason = getattr(exc.args[0], "reason", None) if exc.args else None
            if isinstance(reason, ReadTimeoutError):
                raise ServiceTimeout(f"{self.base_url} did not answer in time") from exc
            raise ServiceUnavailable(f"{self.base_url} unreachable: {exc}") from exc
        except requests.RequestException as exc:
            raise ServiceUnavailable(f"{self.base_url} failed: {exc}") from exc
        # requests has already undone any Content-Encoding, so that header must not pass.
        return ForwardResponse(resp.status_code, list(resp.headers.items()), resp.content)

    def close(self) -> None:
        self._retrying.close()
        self._once.close()


# --------------------------------------------------------------------------- forwarding


def outgoing_headers(internal_token: str) -> dict[str, str]:
    """The headers a forwarded request carries: allowed client headers, the request id,
    and the identity (for public paths only the internal token, which says "via gateway")."""
    headers = {
        name: request.headers[name] for name in FORWARDED_REQUEST_HEADERS if name in request.headers
    }
    headers["X-Request-ID"] = g.get("request_id") or ""
    identity = g.get("identity")
    if identity is not None:
        headers.update(identity.headers(internal_token))
    else:
        headers[TOKEN_HEADER] = internal_token
    return headers


def to_flask_response(resp: ForwardResponse) -> Response:
    out = Response(resp.body, status=resp.status)
    out.headers.pop("Content-Type", None)
    for name in PASSED_RESPONSE_HEADERS:
        value = resp.header(name)
        if value is not None:
            out.headers[name] = value
    return out


def buffer_chunked_body():
    """``before_request`` hook: read a body sent without Content-Length (chunked) up to one
    byte past MAX_CONTENT_LENGTH, answering 413 when it is over, and hand it on with a
    length. (werkzeug alone would silently cut such a body at the limit.)"""
    if request.content_length is not None or not request.environ.get("wsgi.input_terminated"):
        return None
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    stream = request.environ["wsgi.input"]
    chunks: list[bytes] = []
    size = 0
    while chunk := stream.read(min(64 * 1024, limit + 1 - size)):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            abort(413, message=f"request body over {limit} bytes")
    request.environ["wsgi.input"] = io.BytesIO(b"".join(chunks))
    request.environ["CONTENT_LENGTH"] = str(size)
    request.environ.pop("wsgi.input_terminated", None)
    request.environ.pop("HTTP_TRANSFER_ENCODING", None)
    return None


def forward(transports: Mapping[str, Transport], internal_token: str) -> Response:
    """Send the current request to the service owning its resource and relay the answer."""
    resource = resource_of(request.path)
    if resource in GATEWAY_RESOURCES:
        abort(405, message=f"{request.method} is not allowed here")
    service = RESOURCE_SERVICES.get(resource)
    transport = transports.get(service) if service else None
    if transport is None:
        abort(404, message=f"no resource /{resource} here")
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is not None and request.content_length > limit:
        abort(413, message=f"request body over {limit} bytes")
    body = request.get_data(cache=False)
    outgoing = ForwardRequest(
        method=request.method,
        path=request.path,
        query_string=request.query_string,
        headers=outgoing_headers(internal_token),
        body=body,
    )
    try:
        resp = transport.send(outgoing)
    except ServiceTimeout as exc:
        log.warning("service %s timed out: %s", service, exc)
        return problem_response(
            504, f"the {service} service did not answer in time", request_id=g.get("request_id")
        )
    except ServiceUnavailable as exc:
        log.warning("service %s unavailable: %s", service, exc)
        return problem_response(
            503,
            f"the {service} service is unavailable, try again shortly",
            headers={"Retry-After": "2"},
            request_id=g.get("request_id"),
        )
    return to_flask_response(resp)


def install(app: Flask, transports: Mapping[str, Transport], internal_token: str) -> None:
    """Add the catch-all route (the gateway's own routes are more specific and win)."""
    attached = dict(transports)
    app.before_request(buffer_chunked_body)

    def proxy(rest: str):
        return forward(attached, internal_token)

    app.add_url_rule(
        f"{API_PREFIX}/<path:rest>", endpoint="proxy", view_func=proxy, methods=PROXY_METHODS
    )
