"""The Flask app class every service runs: Flask, minus work it did for every request.

- Flask passes each request hook and view through :meth:`~flask.Flask.ensure_sync` before
  calling it, which asks :func:`inspect.iscoroutinefunction` every time (about 1 µs, a few
  times a request). A plain function defined with ``def`` (every hook and view of ours) is
  answered from its code flags here; anything else goes to Flask as before.
- No service keeps a cookie session (none has a secret key), yet Flask's cookie session
  interface looked for a key and made an empty session object for every request.
  :class:`NoSessions` hands every request the same empty session, which refuses writes
  with Flask's own error, as the one made per request did.
- Responses are dumped by :class:`~.json_provider.FastJSONProvider` (the same bytes).
"""

from __future__ import annotations

from collections.abc import Callable
from inspect import CO_COROUTINE
from types import FunctionType
from typing import Any

from flask import Flask
from flask.sessions import NullSession, SessionInterface

from .json_provider import FastJSONProvider


class NoSessions(SessionInterface):
    """Flask's sessions without a secret key, the empty session made once."""

    _none = NullSession()  # (empty, and any write raises: one serves every request)

    def open_session(self, app, request) -> NullSession:
        return self._none

    def save_session(self, app, session, response) -> None:
        return None  # (never called: Flask saves no null session)


class ServiceFlask(Flask):
    json_provider_class = FastJSONProvider
    session_interface = NoSessions()

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        if type(func) is FunctionType and not func.__code__.co_flags & CO_COROUTINE:
            return func
        return super().ensure_sync(func)
