"""The apispec plugin that makes every service's OpenAPI document keep CONTRACT §4.1.

Added after flask-smorest's marshmallow plugin, it sees what that plugin made:
- every operation gets an ``operationId`` (unless the route sets one with ``@blp.doc``):
  the method and the path after ``/api/v1``, parameters written ``by_<name>``, e.g.
  ``post_complaints_by_complaint_id_transitions``; unique because method and path are;
- every operation declares the error statuses of the contract it can answer (401, 403, 429
  always; 404 with a path parameter or a body; 400, 409, 413, 422 with a body; 422 with query
  arguments), and every error response is ``application/problem+json`` (429 with
  ``Retry-After``);
- a schema that a success response uses (itself or nested) lists as ``required`` every field
  a dump writes, so a generated client gets plain attributes, not "unset" ones. A dump writes
  every field the object has: a field that can be left out says so with
  ``metadata={"optional": True}`` (and a field that can be ``null`` says ``allow_none``). A
  schema used by a request body as well keeps the request's ``required`` (what a client must
  send): give the response its own schema class.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

from apispec import APISpec, BasePlugin

from .problems import PROBLEM_TYPE

JSON = "application/json"
REF_PREFIX = "#/components/schemas/"
BODY_METHODS = ("post", "put", "patch")
ALWAYS = (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN, HTTPStatus.TOO_MANY_REQUESTS)
WITH_BODY = (
    HTTPStatus.BAD_REQUEST,
    HTTPStatus.NOT_FOUND,
    HTTPStatus.CONFLICT,
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    HTTPStatus.UNPROCESSABLE_ENTITY,
)
RETRY_AFTER = {
    "description": "seconds to wait before trying again",
    "schema": {"type": "integer"},
}
_PARAM = re.compile(r"^\{(.+)\}$")


def operation_id(method: str, path: str, prefix: str = "/api/v1") -> str:
    """``get`` ``/api/v1/complaints/{complaint_id}`` → ``get_complaints_by_complaint_id``."""
    if path.startswith(prefix):
        path = path[len(prefix) :]
    words = [method.lower()]
    for segment in filter(None, path.split("/")):
        match = _PARAM.match(segment)
        words.append(f"by_{match.group(1)}" if match else segment)
    return re.sub(r"[^0-9A-Za-z_]", "_", "_".join(words))


def error_statuses(method: str, path: str, operation: dict) -> list[HTTPStatus]:
    """The contract's error statuses an operation can answer."""
    statuses = list(ALWAYS)
    if "{" in path:
        statuses.append(HTTPStatus.NOT_FOUND)
    if method in BODY_METHODS:
        statuses.extend(WITH_BODY)
    if any(p.get("in") == "query" for p in operation.get("parameters", []) if isinstance(p, dict)):
        statuses.append(HTTPStatus.UNPROCESSABLE_ENTITY)
    return sorted(set(statuses))


def _schema_names(node: Any) -> set[str]:
    """Component names a (part of a) document refers to."""
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF_PREFIX):
            found.add(ref[len(REF_PREFIX) :])
        for value in node.values():
            found |= _schema_names(value)
    elif isinstance(node, list):
        for value in node:
            found |= _schema_names(value)
    return found


def _media_schema_names(media: Any) -> set[str]:
    """Component names a media type's schema refers to (a bare name, a ``$ref``, nested)."""
    schema = media.get("schema") if isinstance(media, dict) else None
    if isinstance(schema, str):
        return {schema.rsplit("/", 1)[-1]}
    return _schema_names(schema)


def _is_error(response: dict) -> bool:
    """A response whose JSON body is the error schema (flask-smorest's status responses)."""
    media = (response.get("content") or {}).get(JSON)
    schema = media.get("schema") if isinstance(media, dict) else None
    if isinstance(schema, dict):
        schema = schema.get("$ref", "")
    if not isinstance(schema, str):
        schema = type(schema).__name__ if not isinstance(schema, type) else schema.__name__
    return schema.rsplit("/", 1)[-1].removesuffix("Schema") == "Problem"


class ContractPlugin(BasePlugin):
    """See the module's docstring."""

    def __init__(self) -> None:
        self.spec: APISpec | None = None
        self.request_required: dict[str, list[str]] = {}
        self.response_required: dict[str, list[str]] = {}
        self.in_requests: set[str] = set()
        self.in_responses: set[str] = set()

    def init_spec(self, spec: APISpec) -> None:
        super().init_spec(spec)
        self.spec = spec

    # --------------------------------------------------------------- schemas: required

    def schema_helper(self, name, definition, schema=None, **kwargs):
        if schema is None:
            return None
        instance = schema() if isinstance(schema, type) else schema
        self.request_required[name] = list(definition.get("required", []))
        self.response_required[name] = [
            field.data_key or key
            for key, field in instance.dump_fields.items()
            if not field.metadata.get("optional")
        ]
        return None

    def _component(self, name: str) -> dict | None:
        assert self.spec is not None
        component = self.spec.components.schemas.get(name)
        return component if isinstance(component, dict) else None

    def _closure(self, names: set[str]) -> set[str]:
        seen: set[str] = set()
        todo = list(names)
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            todo.extend(_schema_names(self._component(name)) - seen)
        return seen

    def _mark_required(self) -> None:
        for name in self.in_responses | self.in_requests:
            component = self._component(name)
            if component is None:
                continue
            if name in self.in_responses and name not in self.in_requests:
                required = self.response_required.get(name, [])
            else:
                required = self.request_required.get(name, [])
            properties = component.get("properties", {})
            required = [field for field in required if field in properties]
            if required:
                component["required"] = required
            else:
                component.pop("required", None)

    # ----------------------------------------------------- operations: ids and errors

    def operation_helper(self, path=None, operations=None, **kwargs):
        if not path or not operations:
            return
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            operation.setdefault("operationId", operation_id(method, path))
            responses = operation.setdefault("responses", {})
            for status in error_statuses(method, path, operation):
                responses.setdefault(str(status.value), status.name)
            requests: set[str] = set()
            for media in (operation.get("requestBody") or {}).get("content", {}).values():
                requests |= _media_schema_names(media)
            success: set[str] = set()
            for code, response in responses.items():
                if str(code).startswith("2") and isinstance(response, dict):
                    for media in (response.get("content") or {}).values():
                        success |= _media_schema_names(media)
            self.in_requests |= self._closure(requests)
            self.in_responses |= self._closure(success)
        self._mark_required()

    # ------------------------------------------------------------ errors: problem+json

    def response_helper(self, response, **kwargs):
        if not _is_error(response):
            return None
        content = dict(response["content"])
        content[PROBLEM_TYPE] = content.pop(JSON)
        changes: dict = {"content": content}
        if response.get("description") == HTTPStatus.TOO_MANY_REQUESTS.phrase:
            changes["headers"] = {**response.get("headers", {}), "Retry-After": RETRY_AFTER}
        return changes
