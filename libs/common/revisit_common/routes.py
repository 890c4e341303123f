"""Routes of a single method, declared by one decorator over a plain function.

``@get(blp, rule, Out)`` and ``@post(blp, rule, Body, Out)`` stand for flask-smorest's
``@blp.route(rule, methods=[...])``, ``@blp.arguments(Body)`` and ``@blp.response(status,
Out)``: the function receives the validated body or query arguments (when there are some)
and the URL's variables, and its docstring is the operation's summary and description, as on
a ``MethodView``. A rule answering several methods stays a ``MethodView`` (give
``@blp.arguments`` an instance there too, :func:`once`).
"""

from __future__ import annotations

from collections.abc import Callable

from flask_smorest import Blueprint
from marshmallow import Schema

View = Callable[..., object]


def get(
    blp: Blueprint, rule: str, response: type[Schema], *, query: type[Schema] | None = None
) -> Callable[[View], View]:
    """Declare the function as the GET of ``rule``: its query arguments validated by ``query``
    (none read when ``None``), its result rendered by ``response``."""

    def declare(fn: View) -> View:
        view = blp.response(200, response)(fn)
        if query is not None:
            view = blp.arguments(once(query), location="query")(view)
        return blp.route(rule, methods=["GET"])(view)

    return declare


def post(
    blp: Blueprint,
    rule: str,
    body: type[Schema] | None,
    response: type[Schema],
    *,
    status: int = 200,
) -> Callable[[View], View]:
    """Declare the function as the POST of ``rule``: its JSON body validated by ``body`` (none
    read when ``None``), its result rendered by ``response`` with ``status``."""

    def declare(fn: View) -> View:
        view = blp.response(status, response)(fn)
        if body is not None:
            view = blp.arguments(once(body))(view)
        return blp.route(rule, methods=["POST"])(view)

    return declare


def once(schema: type[Schema] | Schema) -> Schema:
    """The schema as one instance, made here: given a class, webargs would build an instance
    (deep-copying every field) for each request it validates."""
    return schema() if isinstance(schema, type) else schema
