"""Fields the services' request and response schemas share.

Requests: bounded text (:func:`text_field`, :func:`optional_text_field`) and departments,
which travel in routing keys and headers (:func:`department_checks`, :func:`department_field`).

Responses mostly copy a row's columns as they are: ``id = fields.String()``, ``closed_at =
fields.DateTime(allow_none=True)``, one a line and alike from service to service.
:func:`several` makes a run of such fields at once, to unpack into their names in the class
body (in the order written, which is the order of the OpenAPI properties)::

    class RepairOutSchema(Schema):
        id, customer_id, product, description = several(fields.String, 4)
        opened_at = fields.DateTime()
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate


def text_field(max_len: int, **options: Any) -> fields.String:
    """A string of 1 to ``max_len`` characters."""
    return fields.String(validate=validate.Length(min=1, max=max_len), **options)


def optional_text_field(max_len: int) -> fields.String:
    """A string of at most ``max_len`` characters, or null."""
    return fields.String(validate=validate.Length(max=max_len), allow_none=True)


def department_checks(pattern: str) -> list[validate.Validator]:
    """The validators of a department: ``pattern`` (lower-case words up to 64 characters)."""
    return [
        validate.Regexp(pattern, error="lower-case letters, digits, '_' or '-', up to 64"),
        validate.Length(max=64),  # what the pattern allows, stated for the OpenAPI document
    ]


def department_field(pattern: str, **options: Any) -> fields.String:
    """A department (see :func:`department_checks`)."""
    return fields.String(validate=department_checks(pattern), **options)


def several(kind: type[fields.Field], count: int, **options: Any) -> list[fields.Field]:
    """``count`` separate ``kind`` fields, each made with the same ``options``
    (``allow_none=True``, ``metadata=...``)."""
    return [kind(**options) for _ in range(count)]


def nullable(*kinds: type[fields.Field]) -> list[fields.Field]:
    """One field of each of ``kinds`` that allows null, to unpack like :func:`several`:
    ``on_time, satisfaction = nullable(fields.Boolean, fields.String)``."""
    return [kind(allow_none=True) for kind in kinds]
