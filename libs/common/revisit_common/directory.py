"""Synchronous reads from the service that owns an entity: read your writes at the edge.

A service keeps copies of other services' entities (customers, tenant settings), fed by
events. When a request names an entity the copy has not heard of yet (its event is still on
the way), the owning service answers a synchronous read instead: a user is waiting. Only
reads go this way; writes never wait on another service's write.

A :class:`Peer` reaches one service: :class:`WsgiPeer` calls its app in this process
(standalone mode), :class:`HttpPeer` calls it over HTTP at ``REVISIT_<SERVICE>_URL``
(distributed mode). :class:`Directory` asks the right peer with the tenant's identity and
the internal token, as the gateway does.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote, urlsplit

from werkzeug.test import Client

from .identity import Identity

SETTINGS_PATH = "/internal/settings"  # served by the gateway, for services only


class Unavailable(Exception):
    """The owning service could not be asked, or gave no usable answer."""


class Peer(Protocol):
    def get(self, path: str, headers: Mapping[str, str]) -> tuple[int, bytes]: ...


class WsgiPeer:
    """Standalone mode: the service's WSGI app in this process."""

    def __init__(self, app):
        self.app = app

    def get(self, path: str, headers: Mapping[str, str]) -> tuple[int, bytes]:
        response = Client(self.app).get(path, headers=dict(headers))
        try:
            return response.status_code, response.get_data()
        finally:
            response.close()


class HttpPeer:
    """Distributed mode: one HTTP/1.1 GET per call, with timeouts (lookups are rare: only
    for entities the local copy has not heard of yet)."""

    def __init__(self, base_url: str, *, timeout: float = 5.0):
        parts = urlsplit(base_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self._parts = parts
        self.timeout = timeout

    def get(self, path: str, headers: Mapping[str, str]) -> tuple[int, bytes]:
        https = self._parts.scheme == "https"
        kind = http.client.HTTPSConnection if https else http.client.HTTPConnection
        conn = kind(self._parts.hostname, self._parts.port, timeout=self.timeout)
        try:
            conn.request("GET", self._parts.path + path, headers=dict(headers))
            response = conn.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise Unavailable(f"{self.base_url} failed: {exc!r}") from exc
        finally:
            conn.close()


@dataclass(frozen=True)
class SettingsCopy:
    """The gateway's current settings document of a tenant."""

    version: int
    timezone: str
    document: dict


class CustomerLookup(Protocol):
    def customer(self, tenant_id: str, customer_id: str) -> dict | None: ...


class Directory:
    """Reads from the owning services, as ``service`` (the caller), for one tenant."""

    def __init__(self, peers: Mapping[str, Peer], internal_token: str, *, service: str):
        self.peers = peers
        self.internal_token = internal_token
        self.service = service

    def customer(self, tenant_id: str, customer_id: str) -> dict | None:
        """The customer as the customer service has it; None when it is not the tenant's
        (unknown, or another tenant's)."""
        path = "/api/v1/customers/" + quote(customer_id, safe="")
        status, body = self._get("customer", path, tenant_id)
        if status == 200:
            return _json(body, "customer")
        if status in (400, 404, 422):  # not an id of this tenant's customers
            return None
        raise Unavailable(f"the customer service answered {status}")

    def settings(self, tenant_id: str) -> SettingsCopy:
        """The tenant's current settings, from the gateway that owns them."""
        status, body = self._get("gateway", SETTINGS_PATH, tenant_id)
        if status != 200:
            raise Unavailable(f"the gateway answered {status} for the settings")
        data = _json(body, "settings")
        return SettingsCopy(int(data["version"]), str(data["timezone"]), dict(data["settings"]))

    def _get(self, owner: str, path: str, tenant_id: str) -> tuple[int, bytes]:
        peer = self.peers.get(owner)
        if peer is None:
            raise Unavailable(f"no way to reach the {owner} service (REVISIT_{owner.upper()}_URL)")
        identity = Identity(tenant_id=tenant_id, role="viewer", actor=f"service:{self.service}")
        headers = {**identity.headers(self.internal_token), "Accept": "application/json"}
        return peer.get(path, headers)


def _json(body: bytes, what: str) -> dict:
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise Unavailable(f"unreadable {what} answer") from exc
    if not isinstance(data, dict):
        raise Unavailable(f"unexpected {what} answer")
    return data


def peers_from(service_urls: Mapping[str, str]) -> dict[str, Peer]:
    """One :class:`HttpPeer` per configured ``REVISIT_<SERVICE>_URL``."""
    return {name: HttpPeer(url) for name, url in service_urls.items()}
