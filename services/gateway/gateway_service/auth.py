"""Who is calling: API keys on every ``/api/v1`` request, then the role table.

Every request under ``/api/v1`` needs ``Authorization: Bearer <api-key>``, except the
OpenAPI document, tenant registration (the platform operator's token, checked by the route)
and survey answers (a single-use token in the URL). The key is looked up by its hash in the
gateway's database on every request (``store.py``: one indexed query), so a revoked key
fails at once; with REVISIT_KEY_CACHE (PostgreSQL) the identity is kept until PostgreSQL
tells of a change (``key_cache.py``), and :func:`forget_changed_keys` drops it in this
process before a change's answer goes out. Keys are never logged.

Steps of one ``before_request`` hook (:func:`install`) with the rate limiter
(``ratelimit.py``) between them: :func:`identify_request` finds the caller and decides,
:func:`refuse_unidentified` answers 401/403 when it refused, so refused calls are counted
too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import NamedTuple

from flask import Flask, current_app, g, request
from flask_smorest import abort

from revisit_common.identity import Identity
from revisit_common.problems import problem_response
from revisit_common.runtime import runtime
from revisit_common.webapp import API_PREFIX

from . import domain
from .store import Store

log = logging.getLogger(__name__)

OPENAPI_PATH = f"{API_PREFIX}/openapi.json"
TENANTS_PATH = f"{API_PREFIX}/tenants"
# Paths under these prefixes carry their own credential (a token in the URL).
PUBLIC_PREFIXES = (f"{API_PREFIX}/survey-responses/",)
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="revisit"'}
# Where fastpath.py leaves its key lookup for this hook when it hands a request on (a
# LookedUp, or the exception the lookup raised), so the key is not looked up twice.
# (A WSGI server puts request headers under HTTP_*: a client cannot set this.)
KEY_LOOKUP = "revisit.gateway.key_lookup"
# The identity of the person the console calls the API for (console/api_client.py), in
# place of an API key: the role table and everything after it apply as to a key's.
CONSOLE_IDENTITY = "revisit.gateway.console_identity"


class LookedUp(NamedTuple):
    identity: Identity | None  # None: unknown, revoked, or acting for a person who left


def bearer_token() -> str | None:
    """The bearer credential of the request, or None."""
    return bearer_of(request.environ)


def bearer_of(environ: dict) -> str | None:
    """:func:`bearer_token` of the request whose WSGI environ is ``environ``."""
    header = environ.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def is_public(method: str, path: str) -> bool:
    """Requests that need no API key (they may need another credential)."""
    if path == OPENAPI_PATH:
        return True
    if path == TENANTS_PATH and method == "POST":
        return True  # the platform operator's token instead
    return path.startswith(PUBLIC_PREFIXES)


def store() -> Store:
    """The app's :class:`Store` (the key lookup and the audit insert)."""
    return current_app.extensions["gateway_store"]


def require_platform_token() -> None:
    """Abort with 401 unless the bearer is the platform operator's token."""
    if not domain.token_matches(bearer_token(), runtime().settings.admin_token):
        abort(401, message="the platform operator's token is required", headers=CHALLENGE)


def identify_request():
    """First ``before_request`` hook: who is calling, and may they call this?

    Sets ``g.caller`` (the identity of an active API key, whatever the role table says, for
    the rate limiter and the audit log), ``g.platform_operator`` (the platform token was
    shown, for the rate limiter) and ``g.identity`` (the key's identity, once the role table
    allows the call). A refusal (401/403/404) is kept in ``g.refusal`` and answered by
    :func:`refuse_unidentified`, so the rate limiter, which runs in between, counts it.
    """
    g.caller = None
    g.platform_operator = False
    g.refusal = None
    path, method = request.path, request.method
    if not path.startswith(API_PREFIX + "/"):
        return
    if any(segment in (".", "..") for segment in path.split("/")):
        g.refusal = (404, "not found", None)
        return
    if path == TENANTS_PATH and method == "POST":
        # the platform operator's token, checked before the body is even read
        if domain.token_matches(bearer_token(), runtime().settings.admin_token):
            g.platform_operator = True
        else:
            g.refusal = (401, "the platform operator's token is required", CHALLENGE)
        return
    if is_public(method, path):
        return
    token = bearer_token()
    looked_up = request.environ.pop(KEY_LOOKUP, None)
    if token is None:
        looked_up = request.environ.get(CONSOLE_IDENTITY)
        if not isinstance(looked_up, Identity):
            g.refusal = (401, "missing API key (Authorization: Bearer <key>)", CHALLENGE)
            return
        identity = looked_up
    elif looked_up is None:
        identity = store().find_key(token)
    elif isinstance(looked_up, Exception):
        raise looked_up  # answered as a failed lookup is (503 when unreachable)
    else:
        identity = looked_up.identity
    if identity is None:
        g.refusal = (401, "invalid or revoked API key", CHALLENGE)
        return
    g.caller = identity
    if not domain.allowed(identity.role, method, path):
        log.info("role refused", extra={"role": identity.role, "method": method, "path": path})
        g.refusal = (403, f"role {identity.role!r} may not {method} this resource", None)
        return
    g.identity = identity


def refuse_unidentified():
    """Last auth ``before_request`` hook: answer the refusal :func:`identify_request` found."""
    refusal = g.get("refusal")
    if refusal is None:
        return None
    status, detail, headers = refusal
    return _problem(status, detail, headers)


def _problem(status: int, detail: str, headers: dict | None = None):
    return problem_response(status, detail, headers=headers, request_id=g.get("request_id"))


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def forget_changed_keys(_error: BaseException | None = None) -> None:
    """``teardown_request`` hook: a write to the gateway's own resources (keys, people,
    settings, tenants) may change what a key stands for: the identities this process keeps
    (``key_cache.py``) are dropped before the client has the answer. Forwarded writes
    change none of it."""
    if request.method not in SAFE_METHODS and request.endpoint != "proxy":
        store().keys_changed()


def install(
    app: Flask,
    count: Callable[[], object] | None = None,
    then: tuple[Callable[[], object], ...] = (),
) -> None:
    """One ``before_request`` hook: identify the caller, ``count`` the request (the rate
    limiter's check, which may answer 429), refuse what was refused, then the ``then``
    steps in order (reading a chunked body, refusing hostile input). The first step with an
    answer ends the request, as separate hooks would; one hook costs Flask less per request
    than five."""
    steps = (identify_request, *((count,) if count is not None else ()), refuse_unidentified)
    steps += tuple(then)

    def gateway_request():
        for step in steps:
            answer = step()
            if answer is not None:
                return answer
        return None

    app.before_request(gateway_request)
