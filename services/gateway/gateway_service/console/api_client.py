"""The console calls the same API as every client, as the signed-in person.

Each call is a request to the gateway's own WSGI app (``/api/v1/...``), made in this process
with werkzeug's ``EnvironBuilder``: the role table, the rate limiter, hostile-input checks,
the forwarding to the owning service and the audit log all apply to it as to a call with an
API key. Instead of a key it carries the person's :class:`Identity` in the WSGI environ
(``auth.CONSOLE_IDENTITY``, a key no HTTP client can set). The call runs in a
``contextvars.Context`` of its own, so its Flask contexts (``g``, the request) are not the
page's.
"""

from __future__ import annotations

import contextvars
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from werkzeug.test import EnvironBuilder, run_wsgi_app

from revisit_common.identity import Identity
from revisit_common.webapp import API_PREFIX

from .. import auth


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any  # the parsed JSON document (None when the answer is not JSON)
    headers: Mapping[str, str]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def problem(self) -> str:
        """The problem's detail, for the page (empty for a success)."""
        if self.ok:
            return ""
        if isinstance(self.body, dict):
            return str(self.body.get("detail") or self.body.get("title") or self.status)
        return str(self.status)

    def field_errors(self) -> dict[str, list[str]]:
        """A 422's messages by field, nested fields by dotted path
        (``{"ratings": {"price": [...]}}`` → ``ratings.price``: the form's input names)."""
        errors = self.body.get("errors") if isinstance(self.body, dict) else None
        return flat_errors(errors) if isinstance(errors, dict) else {}


def flat_errors(errors: Mapping, prefix: str = "") -> dict[str, list[str]]:
    """Nested field errors by dotted path; a message list stays a list of strings."""
    flat: dict[str, list[str]] = {}
    for key, value in errors.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            flat.update(flat_errors(value, name))
        else:
            flat[name] = [str(m) for m in value] if isinstance(value, list) else [str(value)]
    return flat


@dataclass(frozen=True)
class Stream:
    status: int
    headers: Mapping[str, str]
    chunks: Iterator[bytes]


class ApiClient:
    """Calls ``/api/v1`` of ``wsgi_app`` (the gateway's) as a person."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def _environ(
        self, identity, method, path, query, body, files, request_id, remote_addr, extra=None
    ):
        headers = {"Accept": "application/json", **(extra or {})}
        if request_id:
            headers["X-Request-ID"] = request_id
        data: Any = None
        if files is not None:
            data = dict(files)
        elif body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        builder = EnvironBuilder(
            path=API_PREFIX + path,
            method=method,
            query_string=dict(query or {}),
            headers=headers,
            data=data,
            environ_base={"REMOTE_ADDR": remote_addr, auth.CONSOLE_IDENTITY: identity},
        )
        try:
            return builder.get_environ()
        finally:
            builder.close()

    def call(
        self,
        identity: Identity,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Any = None,
        files: Mapping[str, Any] | None = None,
        request_id: str | None = None,
        remote_addr: str = "127.0.0.1",
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        """``method /api/v1<path>`` as ``identity``, the answer read whole; ``headers``: more
        request headers (e.g. ``Idempotency-Key``)."""
        environ = self._environ(
            identity, method, path, query, body, files, request_id, remote_addr, headers
        )
        app_iter, status, answer_headers = contextvars.Context().run(
            run_wsgi_app, self.wsgi_app, environ, True
        )
        raw = b"".join(app_iter)
        code = int(status.split(" ", 1)[0])
        parsed = None
        if "json" in (answer_headers.get("Content-Type") or ""):
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = None
        return Answer(code, parsed, dict(answer_headers.items()))

    def stream(
        self,
        identity: Identity,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        request_id: str | None = None,
        remote_addr: str = "127.0.0.1",
    ) -> Stream:
        """``GET /api/v1<path>`` as ``identity``, the body as it comes (exports)."""
        environ = self._environ(identity, "GET", path, query, None, None, request_id, remote_addr)
        context = contextvars.Context()
        app_iter, status, headers = context.run(run_wsgi_app, self.wsgi_app, environ)

        def chunks() -> Iterator[bytes]:
            iterator = iter(app_iter)
            try:
                while True:
                    chunk = context.run(next, iterator, None)
                    if chunk is None:
                        return
                    yield chunk
            finally:
                close = getattr(app_iter, "close", None)
                if close is not None:
                    context.run(close)

        return Stream(int(status.split(" ", 1)[0]), dict(headers.items()), chunks())
