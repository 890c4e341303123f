"""Forwarding ``/api/v1/<resource>...`` to the service that owns the resource.

The path goes unchanged (services serve the same ``/api/v1`` paths), with the query string,
body, a few content headers, ``X-Request-ID`` and the identity the gateway vouches for.
Client-sent ``X-Revisit-*`` headers never pass: only the headers listed in
:data:`FORWARDED_REQUEST_HEADERS` are copied. Two transports implement :class:`Transport`:
:class:`InProcessTransport` calls a service's WSGI app directly (standalone mode) and
:class:`HttpTransport` calls it over HTTP (distributed mode).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import logging
import re
import select
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import quote, quote_from_bytes, urlsplit

from flask import Flask, Response, g, request
from flask_smorest import abort
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.test import EnvironBuilder, run_wsgi_app

from revisit_common.identity import TOKEN_HEADER, Identity
from revisit_common.problems import problem_response
from revisit_common.webapp import API_PREFIX

log = logging.getLogger(__name__)

# Which service owns each top-level resource under /api/v1.
RESOURCE_SERVICES: dict[str, str] = {
    "customers": "customer",
    "marketing-events": "customer",
    "visits": "visit",
    "issues": "visit",
    "cases": "visit",
    "complaints": "complaint",
    "webhooks": "notify",
    "notifications": "notify",
    "surveys": "survey",
    "survey-responses": "survey",
    "kpis": "kpi",
    "reports": "kpi",
}
# Served by the gateway itself (a method its routes lack is 405, not forwarded).
GATEWAY_RESOURCES = frozenset(
    {"tenants", "api-keys", "settings", "audit-log", "openapi.json", "staff", "me"}
)

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
    "Idempotent-Replayed",
)
PROXY_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
PROXY_RULE = f"{API_PREFIX}/<path:rest>"  # the catch-all route (and its metrics label)
# What may stay unquoted in a forwarded path (RFC 3986 pchar and "/"); the rest is quoted.
PATH_SAFE = "/:@!$&'()*+,;=-._~"
# What may stay unquoted in a forwarded query string (RFC 3986 query characters, and "%"
# so that the client's escapes pass unchanged).
QUERY_SAFE = "/?:@!$&'()*+,;=-._~%[]"


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
    # Transport.open: the body as the client takes it (``body`` is then empty).
    stream: Iterator[bytes] | None = None

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)


class ServiceUnavailable(Exception):
    """The service could not be reached (refused, reset, DNS...)."""


class ServiceTimeout(Exception):
    """The service did not answer in time."""


class Transport(Protocol):
    def send(self, req: ForwardRequest) -> ForwardResponse: ...

    def open(self, req: ForwardRequest) -> ForwardResponse:
        """As ``send``, with the body streamed (``stream``) instead of read whole: exports."""
        ...


class InProcessTransport:
    """Standalone mode: call the service's WSGI app in this process."""

    def __init__(self, wsgi_app, *, remote_addr: str = "127.0.0.1"):
        self.wsgi_app = wsgi_app
        self.remote_addr = remote_addr

    def send(self, req: ForwardRequest) -> ForwardResponse:
        environ = self._environ(req)
        app_iter, status, headers = run_wsgi_app(self.wsgi_app, environ, buffered=True)
        try:
            body = b"".join(app_iter)
        finally:
            _close(app_iter)
        return ForwardResponse(int(status.split(" ", 1)[0]), list(headers.items()), body)

    def _environ(self, req: ForwardRequest) -> dict:
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
            return builder.get_environ()
        finally:
            builder.close()

    def open(self, req: ForwardRequest) -> ForwardResponse:
        app_iter, status, headers = run_wsgi_app(self.wsgi_app, self._environ(req))

        def chunks() -> Iterator[bytes]:
            try:
                yield from app_iter
            finally:
                _close(app_iter)

        code = int(status.split(" ", 1)[0])
        return ForwardResponse(code, list(headers.items()), b"", stream=chunks())


def _close(app_iter) -> None:
    close = getattr(app_iter, "close", None)
    if close is not None:
        close()


class HttpTransport:
    """Distributed mode: HTTP/1.1 to the service with timeouts; only GET/HEAD are retried
    (on a connection failure, a timeout, or a 502/504 answer).

    Connections are kept alive in a small pool per transport (one connection per request in
    flight), so a forwarded request costs one round trip on an open connection. A
    connection idle longer than :attr:`IDLE_SECONDS` (well below the services' keep-alive
    timeout, REVISIT_KEEPALIVE_SECONDS, 75 s) or closed by the service is not reused. The
    HTTP/1.1 client is a small one of our own (:class:`_Connection`): ``requests`` and
    ``http.client`` cost several times more CPU per request, mostly parsing headers with the
    ``email`` package.
    """

    IDEMPOTENT = frozenset({"GET", "HEAD"})
    RETRY_STATUSES = frozenset({502, 504})
    IDLE_SECONDS = 30.0

    def __init__(
        self,
        base_url: str,
        *,
        connect_timeout: float = 3.0,
        read_timeout: float = 30.0,
        retries: int = 2,
        backoff: float = 0.1,
        pool_size: int = 32,
    ):
        self.base_url = base_url.rstrip("/")
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        default_port = self._port == (443 if self._https else 80)
        host = f"[{self._host}]" if ":" in self._host else self._host
        self._host_header = host if default_port else f"{host}:{self._port}"
        self._prefix = parts.path
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.retries = retries
        self.backoff = backoff
        self.pool_size = pool_size
        self._idle: list[tuple[_Connection, float]] = []  # newest last
        self._lock = threading.Lock()

    def send(self, req: ForwardRequest) -> ForwardResponse:
        target = self._target(req)
        head = _request_head(req.method, target, self._host_header, req.headers, req.body)
        attempts = 1 + max(0, self.retries) if req.method in self.IDEMPOTENT else 1
        error: Exception | None = None
        for attempt in range(attempts):
            if attempt > 1 and self.backoff > 0:  # as urllib3: the first retry at once
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                resp = self._exchange(req.method, head, req.body)
            except (ServiceUnavailable, ServiceTimeout) as exc:
                error = exc
                continue
            if resp.status in self.RETRY_STATUSES and attempt + 1 < attempts:
                continue
            return resp
        assert error is not None
        raise error

    def open(self, req: ForwardRequest) -> ForwardResponse:
        """GET with the body read as the client takes it; the connection goes back to the
        pool once the body was read whole, and is closed when the client stops early. A
        failure before the answer's head is retried as in :meth:`send`."""
        if req.method not in self.IDEMPOTENT:
            raise ValueError("only GET and HEAD are streamed")
        target = self._target(req)
        head = _request_head(req.method, target, self._host_header, req.headers, b"")
        error: Exception | None = None
        for attempt in range(1 + max(0, self.retries)):
            if attempt > 1 and self.backoff > 0:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            conn = self._checkout()
            try:
                status, headers, values, reusable = conn.start(req.method, head, b"")
            except TimeoutError as exc:
                conn.close()
                error = ServiceTimeout(f"{self.base_url} did not answer in time")
                error.__cause__ = exc
                continue
            except (OSError, ValueError) as exc:
                conn.close()
                error = ServiceUnavailable(f"{self.base_url} failed: {exc!r}")
                error.__cause__ = exc
                continue
            except BaseException:
                conn.close()
                raise
            return ForwardResponse(
                status, headers, b"", stream=self._body(conn, req.method, status, values, reusable)
            )
        assert error is not None
        raise error

    def _body(self, conn, method: str, status: int, values: dict, reusable: bool):
        done = False
        try:
            yield from conn.body_chunks(method, status, values)
            done = True
        finally:
            if done and reusable:
                self._checkin(conn)
            else:
                conn.close()

    def _target(self, req: ForwardRequest) -> str:
        target = self._prefix + quote(req.path, safe=PATH_SAFE)
        if req.query_string:
            # escapes stay as they are; spaces, control and non-ASCII bytes, "#"... get one
            target += "?" + quote_from_bytes(req.query_string, safe=QUERY_SAFE)
        return target

    def _exchange(self, method: str, head: bytes, body: bytes) -> ForwardResponse:
        conn = self._checkout()
        try:
            status, headers, data, reusable = conn.exchange(method, head, body)
        except TimeoutError as exc:
            conn.close()
            raise ServiceTimeout(f"{self.base_url} did not answer in time") from exc
        except (OSError, ValueError) as exc:
            conn.close()
            raise ServiceUnavailable(f"{self.base_url} failed: {exc!r}") from exc
        except BaseException:
            conn.close()
            raise
        if reusable:
            self._checkin(conn)
        else:
            conn.close()
        encoding = next((v for k, v in headers if k.lower() == "content-encoding"), "")
        encoding = encoding.strip().lower()
        if encoding in ("gzip", "x-gzip", "deflate") and data:
            # (Content-Encoding is not passed on, so the body must go out decoded)
            try:
                data = zlib.decompress(data, 16 + zlib.MAX_WBITS if "gzip" in encoding else 0)
            except zlib.error as exc:
                raise ServiceUnavailable(f"{self.base_url} sent a bad {encoding} body") from exc
        return ForwardResponse(status, headers, data)

    # ---- the pool

    def _checkout(self) -> _Connection:
        now = time.monotonic()
        stale: list[_Connection] = []
        conn = None
        with self._lock:
            while self._idle:
                candidate, since = self._idle.pop()
                if now - since > self.IDLE_SECONDS:  # and every older one below it
                    stale.append(candidate)
                    stale.extend(c for c, _ in self._idle)
                    self._idle.clear()
                    break
                if candidate.dropped():
                    stale.append(candidate)
                    continue
                conn = candidate
                break
        for each in stale:
            each.close()
        return conn if conn is not None else self._connect()

    def _checkin(self, conn: _Connection) -> None:
        with self._lock:
            if len(self._idle) < self.pool_size:
                self._idle.append((conn, time.monotonic()))
                return
        conn.close()

    def _connect(self) -> _Connection:
        try:
            sock = socket.create_connection((self._host, self._port), self.connect_timeout)
        except TimeoutError as exc:
            raise ServiceUnavailable(f"connect to {self.base_url} timed out") from exc
        except OSError as exc:
            raise ServiceUnavailable(f"{self.base_url} unreachable: {exc!r}") from exc
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._https:
                sock = _tls_context().wrap_socket(sock, server_hostname=self._host)
            sock.settimeout(self.read_timeout)
        except OSError as exc:
            sock.close()
            raise ServiceUnavailable(f"{self.base_url} unreachable: {exc!r}") from exc
        return _Connection(sock)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn, _ in idle:
            conn.close()


# ---- a small HTTP/1.1 client (we talk to our own services: gunicorn, werkzeug)

MAX_LINE = 65536
MAX_HEADERS = 200
BODYLESS_METHODS = frozenset({"GET", "HEAD", "DELETE", "OPTIONS", "TRACE"})


def _request_head(
    method: str, target: str, host: str, headers: Mapping[str, str], body: bytes
) -> bytes:
    """The request line and headers, as http.client would send them (latin-1)."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", "Accept-Encoding: identity"]
    for name, value in headers.items():
        value = str(value)
        if _UNSAFE_HEADER.search(name) or "\r" in value or "\n" in value:
            raise ValueError(f"invalid header {name!r}")
        lines.append(f"{name}: {value}")
    if body or method not in BODYLESS_METHODS:
        lines.append(f"Content-Length: {len(body)}")
    lines.append("\r\n")
    return "\r\n".join(lines).encode("latin-1")


_UNSAFE_HEADER = re.compile(r"[^!#$%&'*+\-.^_`|~0-9A-Za-z]")


class _Connection:
    """One keep-alive connection: send a request, read its whole answer."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.rfile = sock.makefile("rb")

    def exchange(
        self, method: str, head: bytes, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes, bool]:
        """(status, headers, body, whether the connection may be reused)."""
        status, headers, values, reusable = self.start(method, head, body)
        if not _has_body(method, status):
            return status, headers, b"", reusable
        if "chunked" in values.get("transfer-encoding", "").lower():
            return status, headers, self._chunked(), reusable
        length = _length(values)
        if length is not None:
            return status, headers, self._exactly(length), reusable
        return status, headers, self.rfile.read(), False  # until the service closes

    def body_chunks(self, method: str, status: int, values: dict) -> Iterator[bytes]:
        """The body of the answer :meth:`start` read the head of, piece by piece."""
        if not _has_body(method, status):
            return
        if "chunked" in values.get("transfer-encoding", "").lower():
            while size := self._chunk_size():
                yield self._exactly(size)
                self._line()  # the CRLF after the chunk
            return
        length = _length(values)
        while length is None or length > 0:
            data = self.rfile.read1(65536 if length is None else min(65536, length))
            if not data:
                if length is None:
                    return
                raise ConnectionResetError("body cut short")
            if length is not None:
                length -= len(data)
            yield data

    def start(
        self, method: str, head: bytes, body: bytes
    ) -> tuple[int, list[tuple[str, str]], dict[str, str], bool]:
        """Send a request and read its answer's head: (status, headers, the first value of
        each header by lower-case name, whether the connection may be reused)."""
        self.sock.sendall(head + body if len(body) < 65536 else head)
        if len(body) >= 65536:
            self.sock.sendall(body)
        while True:
            version, status, headers = self._head()
            if not 100 <= status < 200 or status == 101:
                break  # (an interim 1xx answer is followed by the real one)
        values = {}
        for name, value in headers:
            values.setdefault(name.lower(), value)
        connection = values.get("connection", "").lower()
        reusable = "close" not in connection and (
            version == "HTTP/1.1" or "keep-alive" in connection
        )
        framed = "transfer-encoding" in values or "content-length" in values
        if _has_body(method, status) and not framed:
            reusable = False  # the body ends when the service closes
        return status, headers, values, reusable

    def _line(self) -> bytes:
        line = self.rfile.readline(MAX_LINE + 1)
        if not line:
            raise ConnectionResetError("the service closed the connection")
        if len(line) > MAX_LINE:
            raise ValueError("line too long")
        return line

    def _head(self) -> tuple[str, int, list[tuple[str, str]]]:
        """An answer's status line and headers. A head already received whole, with CRLF
        line ends only (what our services send), is split at once; any other is read
        line by line, with the same result."""
        received = self.rfile.peek(MAX_LINE)
        end = received.find(b"\r\n\r\n")
        if end < 0 or received.count(b"\n", 0, end) != received.count(b"\r\n", 0, end):
            version, status = self._status_line()
            return version, status, self._headers()
        lines = self.rfile.read(end + 4)[:end].decode("latin-1").split("\r\n")
        version, status = self._status(lines[0])
        if len(lines) > MAX_HEADERS + 1:
            raise ValueError("too many headers")
        headers = []
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                raise ValueError(f"bad header line {line[:100]!r}")
            headers.append((name.strip(), value.strip()))
        return version, status, headers

    def _status_line(self) -> tuple[str, int]:
        return self._status(self._line().decode("latin-1").rstrip("\r\n"))

    @staticmethod
    def _status(line: str) -> tuple[str, int]:
        parts = line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
            raise ValueError(f"bad status line {parts!r}")
        return parts[0], int(parts[1])

    def _headers(self) -> list[tuple[str, str]]:
        headers = []
        while True:
            line = self._line()
            if line in (b"\r\n", b"\n"):
                return headers
            if len(headers) >= MAX_HEADERS:
                raise ValueError("too many headers")
            name, sep, value = line.decode("latin-1").partition(":")
            if not sep:
                raise ValueError(f"bad header line {line[:100]!r}")
            headers.append((name.strip(), value.strip()))

    def _exactly(self, size: int) -> bytes:
        data = self.rfile.read(size)
        if len(data) != size:
            raise ConnectionResetError(f"body cut short ({len(data)} of {size} bytes)")
        return data

    def _chunked(self) -> bytes:
        chunks = []
        while size := self._chunk_size():
            chunks.append(self._exactly(size))
            self._line()  # the CRLF after the chunk
        return b"".join(chunks)

    def _chunk_size(self) -> int:
        """The next chunk's size; at the last (0), its trailers are read too."""
        size = int(self._line().split(b";", 1)[0].strip(), 16)
        if size == 0:
            while self._line() not in (b"\r\n", b"\n"):  # trailers
                pass
        return size

    def dropped(self) -> bool:
        """Whether the idle connection was closed by the other end (readable: EOF)."""
        try:
            poller = select.poll()
            poller.register(self.sock, select.POLLIN)
            return bool(poller.poll(0))
        except (OSError, ValueError):
            return True

    def close(self) -> None:
        for each in (self.rfile, self.sock):
            with contextlib.suppress(OSError):
                each.close()


def _has_body(method: str, status: int) -> bool:
    return not (method == "HEAD" or status in (204, 304) or 100 <= status < 200)


def _length(values: Mapping[str, str]) -> int | None:
    length = values.get("content-length")
    if length is None:
        return None
    size = int(length)
    if size < 0:
        raise ValueError(f"bad Content-Length {length!r}")
    return size


@functools.cache
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


# --------------------------------------------------------------------------- forwarding


def _environ_key(name: str) -> str:
    key = name.upper().replace("-", "_")
    return key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"


# (WSGI environ key, header name) of FORWARDED_REQUEST_HEADERS: read straight from the environ
_FORWARDED_ENVIRON = tuple((_environ_key(name), name) for name in FORWARDED_REQUEST_HEADERS)
_PASSED_LOWER = {name.lower(): name for name in PASSED_RESPONSE_HEADERS}


def identity_headers(identity: Identity, internal_token: str) -> dict[str, str]:
    """The identity headers the services get: the key's, with the person it acts as as the
    actor (so ledgers name the person, CONTRACT §4.3), the key's id otherwise."""
    if identity.staff:
        identity = dataclasses.replace(identity, actor=identity.staff)
    return identity.headers(internal_token)


def outgoing_headers(internal_token: str) -> dict[str, str]:
    """The headers a forwarded request carries: allowed client headers, the request id,
    and the identity (for public paths only the internal token, which says "via gateway")."""
    return forwarded_headers(
        request.environ, g.get("request_id"), g.get("identity"), internal_token
    )


def forwarded_headers(
    environ: Mapping, request_id: str | None, identity: Identity | None, internal_token: str
) -> dict[str, str]:
    """:func:`outgoing_headers` of the request whose WSGI environ is ``environ``."""
    headers = {name: environ[key] for key, name in _FORWARDED_ENVIRON if key in environ}
    headers["X-Request-ID"] = request_id or ""
    if identity is not None:
        headers.update(identity_headers(identity, internal_token))
    else:
        headers[TOKEN_HEADER] = internal_token
    return headers


def passed_headers(resp: ForwardResponse) -> list[tuple[str, str]]:
    """The service's headers the client gets: the first of each of
    :data:`PASSED_RESPONSE_HEADERS`, in that order, named as there."""
    passed: dict[str, str] = {}
    for name, value in resp.headers:
        canonical = _PASSED_LOWER.get(name.lower())
        if canonical is not None and canonical not in passed:  # the first of each, as before
            passed[canonical] = value
    return [(name, passed[name]) for name in PASSED_RESPONSE_HEADERS if name in passed]


def to_flask_response(resp: ForwardResponse) -> Response:
    out = Response(resp.body if resp.stream is None else resp.stream, status=resp.status)
    out.headers.pop("Content-Type", None)
    # in the same order as before, added at once (none of them is there yet)
    out.headers.extend(passed_headers(resp))
    return out


# What werkzeug rewrites on the way out (Response.get_wsgi_headers), or refuses.
_REWRITTEN = frozenset({"location", "content-location"})


def wsgi_answer(
    resp: ForwardResponse, request_id: str
) -> tuple[str, list[tuple[str, str]], bytes] | None:
    """The WSGI status, headers and body of ``to_flask_response(resp)`` with ``X-Request-ID``
    set to ``request_id`` (as webapp's after-request hook sets it), made without a Response
    object; None when werkzeug would change something on the way out (an answer without
    a body or whose length it leaves out, a location it rewrites, a streamed body, a value
    it refuses): then :func:`to_flask_response` makes it."""
    status = resp.status
    if resp.stream is not None or status < 200 or status in (204, 304):
        return None
    headers = [("Content-Length", str(len(resp.body)))]
    replaced = False  # the service's X-Request-ID is replaced where it is, else added last
    for name, value in passed_headers(resp):
        if name.lower() in _REWRITTEN or "\r" in value or "\n" in value:
            return None
        if name == "X-Request-ID":
            value, replaced = request_id, True
        headers.append((name, value))
    if not replaced:
        headers.append(("X-Request-ID", request_id))
    phrase = HTTP_STATUS_CODES.get(status)
    line = f"{status} {phrase.upper()}" if phrase else f"{status} UNKNOWN"
    return line, headers, resp.body


def buffer_chunked_body():
    """``before_request`` hook: read a body sent without Content-Length (chunked) up to one
    byte past MAX_CONTENT_LENGTH, answering 413 when it is over, and hand it on with a
    length. (werkzeug alone would silently cut such a body at the limit.) A request with
    neither Transfer-Encoding nor Content-Length has no body (RFC 9112 6.3): nothing to do."""
    environ = request.environ
    if "HTTP_TRANSFER_ENCODING" not in environ or not environ.get("wsgi.input_terminated"):
        return None
    if request.content_length is not None:
        return None
    limit = request.max_content_length  # per request: larger for uploads (webapp.py)
    stream = environ["wsgi.input"]
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
    path, method = request.path, request.method
    resource = resource_of(path)
    if resource in GATEWAY_RESOURCES:
        abort(405, message=f"{method} is not allowed here")
    service = RESOURCE_SERVICES.get(resource)
    transport = transports.get(service) if service else None
    if transport is None:
        abort(404, message=f"no resource /{resource} here")
    length = request.content_length
    if length is not None and length > (limit := request.max_content_length):
        abort(413, message=f"request body over {limit} bytes")
    environ = request.environ  # (a chunked body has a length by now: buffer_chunked_body)
    with_body = environ.get("CONTENT_LENGTH") or "HTTP_TRANSFER_ENCODING" in environ
    outgoing = ForwardRequest(
        method=method,
        path=path,
        query_string=request.query_string,
        headers=outgoing_headers(internal_token),
        body=request.get_data(cache=False) if with_body else b"",
    )
    try:
        resp = (transport.open if streamed(method, path) else transport.send)(outgoing)
    except (ServiceTimeout, ServiceUnavailable) as exc:
        return failure_response(service, exc, g.get("request_id"))
    return to_flask_response(resp)


def failure_response(service: str, exc: Exception, request_id: str | None) -> Response:
    """The answer when ``service`` could not be reached (503) or did not answer (504)."""
    if isinstance(exc, ServiceTimeout):
        log.warning("service %s timed out: %s", service, exc, extra={"request_id": request_id})
        return problem_response(
            504, f"the {service} service did not answer in time", request_id=request_id
        )
    log.warning("service %s unavailable: %s", service, exc, extra={"request_id": request_id})
    return problem_response(
        503,
        f"the {service} service is unavailable, try again shortly",
        headers={"Retry-After": "2"},
        request_id=request_id,
    )


def streamed(method: str, path: str) -> bool:
    """Whether an answer is passed on as it comes rather than read whole: the exports,
    every row of a list, which may be large (CONTRACT §4.6)."""
    return method == "GET" and path.rstrip("/").endswith("/export")


def install(
    app: Flask,
    transports: Mapping[str, Transport],
    internal_token: str,
    *,
    buffer_bodies: bool = True,
) -> None:
    """Add the catch-all route (the gateway's own routes are more specific and win), and
    :func:`buffer_chunked_body` as a hook unless ``buffer_bodies`` is false (the caller
    then runs it before any route reads a body)."""
    attached = dict(transports)
    if buffer_bodies:
        app.before_request(buffer_chunked_body)

    def proxy(rest: str):
        return forward(attached, internal_token)

    app.add_url_rule(PROXY_RULE, endpoint="proxy", view_func=proxy, methods=PROXY_METHODS)
