"""``/api/v1/openapi.json`` on the gateway: the whole API in one document.

The gateway's own spec merged with each attached service's (fetched through its transport
and cached briefly): paths unioned (each service contributes only the resources it owns),
components merged (a same-named but different component of a service is renamed with the
service's name and its references rewritten), bearer security declared for everything
except the paths that carry their own credential (which answer no 401 or 403). Each
service's spec already keeps CONTRACT §4.1 (operationId, problem+json errors, required
fields: see :mod:`revisit_common.openapi_plugin`); paths are unique, and so their ids.
"""

from __future__ import annotations

import copy
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, g, jsonify

from revisit_common.identity import TOKEN_HEADER
from revisit_common.webapp import API_PREFIX

from .proxy import RESOURCE_SERVICES, ForwardRequest, Transport, resource_of

log = logging.getLogger(__name__)

SPEC_PATH = f"{API_PREFIX}/openapi.json"
BEARER = {"type": "http", "scheme": "bearer", "description": "an API key of the tenant"}
PUBLIC_RESOURCES = ("survey-responses",)
NO_CREDENTIAL_STATUSES = ("401", "403")


def fetch_spec(transport: Transport, internal_token: str, request_id: str = "") -> dict:
    resp = transport.send(
        ForwardRequest(
            "GET",
            SPEC_PATH,
            headers={
                "Accept": "application/json",
                TOKEN_HEADER: internal_token,
                "X-Request-ID": request_id,
            },
        )
    )
    if resp.status != 200:
        raise ValueError(f"openapi.json answered {resp.status}")
    doc = json.loads(resp.body)
    if not isinstance(doc, dict):
        raise ValueError("openapi.json is not a JSON object")
    return doc


def _rewrite_refs(node: Any, renames: Mapping[str, str]) -> Any:
    if isinstance(node, dict):
        return {
            key: (
                renames.get(value, value)
                if key == "$ref" and isinstance(value, str)
                else _rewrite_refs(value, renames)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(item, renames) for item in node]
    return node


def merge_specs(own: Mapping[str, Any], services: Mapping[str, Mapping[str, Any]]) -> dict:
    """Merge the gateway's spec with the services' (``service name -> spec``)."""
    doc = copy.deepcopy(dict(own))
    doc["info"] = {
        "title": "revisit API",
        "version": "v1",
        "description": "Customer follow-up visits, complaints, surveys and KPIs. "
        "Authenticate with `Authorization: Bearer <api-key>`.",
    }
    paths: dict = doc.setdefault("paths", {})
    components: dict = doc.setdefault("components", {})
    tags = {tag["name"]: tag for tag in doc.get("tags", []) if isinstance(tag, dict)}
    for service, spec in sorted(services.items()):
        owned = {r for r, s in RESOURCE_SERVICES.items() if s == service}
        renames: dict[str, str] = {}
        theirs = spec.get("components", {}) or {}
        for kind, items in theirs.items():
            for name, value in (items or {}).items():
                mine = components.get(kind, {}).get(name)
                if mine is not None and mine != value:
                    new = f"{service.capitalize()}{name}"
                    renames[f"#/components/{kind}/{name}"] = f"#/components/{kind}/{new}"
        spec = _rewrite_refs(dict(spec), renames)
        for kind, items in (spec.get("components", {}) or {}).items():
            target = components.setdefault(kind, {})
            for name, value in (items or {}).items():
                ref = renames.get(f"#/components/{kind}/{name}")
                target.setdefault(ref.rsplit("/", 1)[1] if ref else name, value)
        for path, item in (spec.get("paths", {}) or {}).items():
            if resource_of(path) in owned:
                paths[path] = item
        for tag in spec.get("tags", []) or []:
            if isinstance(tag, dict) and "name" in tag:
                tags.setdefault(tag["name"], tag)
    if tags:
        doc["tags"] = list(tags.values())
    components.setdefault("securitySchemes", {})["bearer"] = BEARER
    doc["security"] = [{"bearer": []}]
    for path, item in paths.items():
        if resource_of(path) in PUBLIC_RESOURCES:
            for operation in item.values():
                if isinstance(operation, dict) and "responses" in operation:
                    operation["security"] = []
                    for status in NO_CREDENTIAL_STATUSES:  # a token in the URL: 404 if bad
                        operation["responses"].pop(status, None)
    doc["paths"] = dict(sorted(paths.items()))
    return doc


class MergedSpec:
    """The merged document, rebuilt at most every ``ttl`` seconds (``retry_ttl`` when a
    service's spec could not be fetched, so it joins soon after it comes up)."""

    def __init__(
        self,
        own: Callable[[], Mapping[str, Any]],
        transports: Mapping[str, Transport],
        internal_token: str,
        *,
        ttl: float = 30.0,
        retry_ttl: float = 2.0,
    ):
        self.own = own
        self.transports = dict(transports)
        self.internal_token = internal_token
        self.ttl = ttl
        self.retry_ttl = retry_ttl
        self._lock = threading.Lock()
        self._cached: dict | None = None
        self._expires = 0.0

    def document(self) -> dict:
        with self._lock:
            now = time.monotonic()
            if self._cached is not None and now < self._expires:
                return self._cached
            specs: dict[str, Mapping[str, Any]] = {}
            complete = True
            for service, transport in self.transports.items():
                try:
                    specs[service] = fetch_spec(
                        transport, self.internal_token, g.get("request_id") or ""
                    )
                except Exception as exc:  # noqa: BLE001 - reported; the rest is still served
                    log.warning("openapi of %s unavailable: %r", service, exc)
                    complete = False
            self._cached = merge_specs(self.own(), specs)
            self._expires = now + (self.ttl if complete else self.retry_ttl)
            return self._cached


def install(app: Flask, transports: Mapping[str, Transport], internal_token: str) -> MergedSpec:
    """Serve the merged document in place of flask-smorest's own-spec-only view."""
    api = app.extensions["revisit_api"]
    merged = MergedSpec(api.spec.to_dict, transports, internal_token)

    def openapi_json():
        return jsonify(merged.document())

    endpoint = next(rule.endpoint for rule in app.url_map.iter_rules() if rule.rule == SPEC_PATH)
    app.view_functions[endpoint] = openapi_json
    app.extensions["gateway_openapi"] = merged
    return merged
