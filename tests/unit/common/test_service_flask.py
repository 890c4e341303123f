"""The Flask app every service runs (flask_app.py): responses dumped by orjson
(json_provider.py) into the bytes Flask's own provider makes, headers included, what orjson
cannot dump so going to the standard library; plain hooks and views called as they are;
one empty session that refuses writes as Flask's did."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask import Flask, session

from revisit_common.flask_app import ServiceFlask


@dataclasses.dataclass
class Point:
    x: int
    y: str


BODIES = [
    {"b": 1, "a": [1, 2.5, None, True, False], "é": '中文 \u2028 \x00 \x1f \x7f "q" \\ /'},
    {"when": datetime(2026, 6, 1, 4, 0, tzinfo=UTC), "day": date(2026, 6, 1)},
    {"amount": Decimal("12.30"), "id": uuid.UUID(int=7), "point": Point(1, "ü")},
    {"nested": {"z": {"y": [{"b": 1, "a": 0}]}}, "empty": {}, "list": []},
    [1, "two", {"three": 3}],
    {"big": 2**70, "small": -(2**70)},  # beyond 64 bits: the standard library's
    None,
    "text",
    0.1 + 0.2,
]


def pair(debug: bool = False) -> tuple[Flask, Flask]:
    fast, plain = ServiceFlask("fast"), Flask("plain")
    plain.json.ensure_ascii = False  # as every service's app was configured
    fast.debug = plain.debug = debug
    return fast, plain


@pytest.mark.parametrize("body", BODIES)
def test_a_body_is_dumped_as_flask_dumps_it(body):
    fast, plain = pair()
    with fast.app_context():
        mine = fast.json.response(body)
    with plain.app_context():
        theirs = plain.json.response(body)
    assert mine.get_data() == theirs.get_data()
    assert list(mine.headers.items()) == list(theirs.headers.items())
    assert mine.status_code == theirs.status_code == 200


def test_keyword_arguments_and_several_values_are_bodies_as_in_flask():
    fast, plain = pair()
    with fast.app_context():
        mine = (fast.json.response(b=1, a=2), fast.json.response(1, 2), fast.json.response())
    with plain.app_context():
        theirs = (plain.json.response(b=1, a=2), plain.json.response(1, 2), plain.json.response())
    assert [r.get_data() for r in mine] == [r.get_data() for r in theirs]


def test_in_debug_mode_the_body_is_indented_as_in_flask():
    fast, plain = pair(debug=True)
    with fast.app_context():
        mine = fast.json.response({"b": [1], "a": "é"}).get_data()
    with plain.app_context():
        theirs = plain.json.response({"b": [1], "a": "é"}).get_data()
    assert mine == theirs
    assert b"\n  " in mine


def test_a_value_no_json_knows_is_still_a_type_error():
    fast, _ = pair()
    with fast.app_context(), pytest.raises(TypeError):
        fast.json.response({"set": {1, 2}})


def test_plain_functions_are_called_as_they_are_and_others_go_to_flask():
    app = ServiceFlask("sync")

    def view():
        return "ok"

    async def coroutine():
        return "ok"

    assert app.ensure_sync(view) is view
    bound = app.ensure_sync  # (a bound method is not a plain function: Flask decides)
    assert app.ensure_sync(bound) is bound
    with pytest.raises(RuntimeError):  # Flask's answer without asgiref installed
        app.ensure_sync(coroutine)


def test_a_request_has_the_empty_session_that_refuses_writes_as_flask_did():
    app = ServiceFlask("sessions")

    @app.get("/read")
    def read():
        return {"seen": dict(session), "null": app.session_interface.is_null_session(session)}

    @app.get("/write")
    def write():
        session["who"] = "me"
        return {}

    app.testing = True  # (the error raised, not answered as a 500)
    client = app.test_client()
    assert client.get("/read").json == {"seen": {}, "null": True}
    with pytest.raises(RuntimeError, match="secret key"):
        client.get("/write")
    assert "Set-Cookie" not in client.get("/read").headers
