"""Errors as ``application/problem+json`` (RFC 9457), for every service and the gateway."""

from __future__ import annotations

import json
from http import HTTPStatus

from flask import Response
from flask_smorest import abort
from marshmallow import Schema, fields

PROBLEM_TYPE = "application/problem+json"


class ProblemSchema(Schema):
    """Documentation of the error body (RFC 9457)."""

    # (required: what every problem has, so the document lists it)
    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    errors = fields.Dict(metadata={"description": "field -> messages, for validation errors"})
    request_id = fields.String()


_PHRASES = {each.value: each.phrase for each in HTTPStatus}  # 404 -> "Not Found"


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    errors: dict | None = None,
    headers: dict | None = None,
    request_id: str | None = None,
) -> Response:
    phrase = _PHRASES.get(status, "Error")
    body: dict = {
        "type": f"https://revisit.example/problems/{status}",
        "title": phrase,
        "status": status,
        "detail": detail or phrase,
    }
    if errors:
        body["errors"] = errors
    if request_id:
        body["request_id"] = request_id
    response = Response(
        json.dumps(body, ensure_ascii=False), status=status, content_type=PROBLEM_TYPE
    )
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def flatten_validation(messages: dict) -> dict:
    """webargs nests errors by location ({"json": {...}, "query": {...}}): merge them."""
    merged: dict = {}
    for location, errors in messages.items():
        if isinstance(errors, dict):
            for field, msgs in errors.items():
                merged[field] = msgs
        else:
            merged[location] = errors
    return merged


def conflict(detail: str) -> None:
    abort(409, message=detail)


def not_found(what: str = "resource") -> None:
    abort(404, message=f"{what} not found")


def forbidden(detail: str = "your role may not do this") -> None:
    abort(403, message=detail)


def invalid(errors: dict, detail: str = "invalid fields") -> None:
    abort(422, message=detail, errors=errors)
