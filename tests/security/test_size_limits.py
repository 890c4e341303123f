"""Every string, list and map a client can send has a size limit in the OpenAPI document.

Walks every request body and query parameter schema of the live document (references
resolved, nested objects, lists and maps included) and lists each place a value is not
bounded: a string without ``maxLength`` (an ``enum``/``const`` or a fixed-size format such
as ``date-time`` bounds it too), a list without ``maxItems``, a map (``additionalProperties``)
without ``maxProperties``, or a value of any type without all three. The services enforce
what the document says (marshmallow ``Length`` validators produce these keywords), and the
body itself is capped at 1 MiB (413) before any of this.
"""

from __future__ import annotations

import pytest

from tests.support.client import Api

from .catalog import operations

BOUNDED_FORMATS = {"date", "date-time", "time", "uuid", "email", "ipv4", "ipv6"}
BOUNDS = {"string": "maxLength", "array": "maxItems", "object": "maxProperties"}
# Path parameters are bounded by the server's request-line limit and looked up, never
# stored; bodies and query strings are what these limits are about.
LOCATIONS = ("query", "header", "cookie")


@pytest.fixture(scope="module")
def spec(module_system):
    return Api(module_system).get("/openapi.json").json


def _resolve(spec: dict, schema: dict) -> dict:
    while isinstance(schema, dict) and "$ref" in schema:
        node = spec
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def _types(schema: dict) -> set[str]:
    kind = schema.get("type")
    if kind is None:
        return set()
    return {kind} if isinstance(kind, str) else set(kind)


def unbounded(spec: dict, schema: dict, where: str, seen: frozenset = frozenset()) -> list[str]:
    """Where in ``schema`` a value has no size limit."""
    ref = schema.get("$ref") if isinstance(schema, dict) else None
    if ref in seen:
        return []
    schema = _resolve(spec, schema)
    seen = seen | {ref} if ref else seen
    problems = []
    for key in ("allOf", "anyOf", "oneOf"):
        for index, part in enumerate(schema.get(key, [])):
            problems += unbounded(spec, part, f"{where}/{key}[{index}]", seen)
    if any(key in schema for key in ("allOf", "anyOf", "oneOf")) and "type" not in schema:
        return problems
    if "enum" in schema or "const" in schema:
        return problems
    types = _types(schema) - {"null"}
    if "type" not in schema:  # any value at all: it must bound every kind it could be
        types = {"string", "array", "object"}
    bounded_string = "maxLength" in schema or schema.get("format") in BOUNDED_FORMATS
    if "string" in types and not bounded_string:
        problems.append(f"{where}: string without maxLength")
    if "array" in types:
        if "maxItems" not in schema:
            problems.append(f"{where}: list without maxItems")
        if isinstance(schema.get("items"), dict):
            problems += unbounded(spec, schema["items"], f"{where}[]", seen)
    if "object" in types:
        for name, prop in (schema.get("properties") or {}).items():
            problems += unbounded(spec, prop, f"{where}.{name}", seen)
        extra = schema.get("additionalProperties")
        if extra not in (None, False) or "properties" not in schema:
            if "maxProperties" not in schema:
                problems.append(f"{where}: map without maxProperties")
            if isinstance(extra, dict):
                problems += unbounded(spec, extra, f"{where}{{}}", seen)
            if isinstance(schema.get("propertyNames"), dict):
                problems += unbounded(spec, schema["propertyNames"], f"{where}(key)", seen)
    return problems


def test_every_request_value_is_bounded(spec):
    problems = []
    inputs = 0
    for method, path, operation in operations(spec):
        label = f"{method} {path}"
        for parameter in operation.get("parameters", []):
            parameter = _resolve(spec, parameter)
            if parameter.get("in") in LOCATIONS:
                inputs += 1
                problems += unbounded(
                    spec, parameter.get("schema", {}), f"{label} ?{parameter['name']}"
                )
        content = _resolve(spec, operation.get("requestBody", {})).get("content", {})
        for media_type, body in content.items():
            inputs += 1
            problems += unbounded(spec, body.get("schema", {}), f"{label} body({media_type})")
    assert inputs > 50
    assert not problems, "unbounded inputs:\n" + "\n".join(problems)


def test_the_walker_finds_what_it_should():
    spec = {"components": {"schemas": {"S": {"type": "string"}}}}
    assert unbounded(spec, {"type": "string"}, "x")
    assert not unbounded(spec, {"type": "string", "maxLength": 3}, "x")
    assert not unbounded(spec, {"type": "string", "format": "date"}, "x")
    assert not unbounded(spec, {"type": "string", "enum": ["a"]}, "x")
    assert unbounded(spec, {"type": "array", "items": {"type": "integer"}}, "x")
    assert unbounded(
        spec, {"type": "array", "maxItems": 2, "items": {"$ref": "#/components/schemas/S"}}, "x"
    )
    assert unbounded(spec, {"type": "object", "additionalProperties": {}}, "x")
    assert unbounded(spec, {"type": "object", "properties": {"a": {"type": "string"}}}, "x")
    assert not unbounded(spec, {"type": "object", "properties": {"a": {"type": "integer"}}}, "x")
    assert unbounded(spec, {}, "x")
    assert not unbounded(
        spec,
        {
            "maxLength": 1,
            "maxItems": 1,
            "maxProperties": 1,
            "items": {"type": "integer"},
            "additionalProperties": {"type": "integer"},
        },
        "x",
    )
