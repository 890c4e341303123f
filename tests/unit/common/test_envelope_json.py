"""parse reads bodies with orjson where that gives what json.loads gives, and with json.loads
everywhere else: every body parses to the same envelope (same values, same types, same
received text) or fails the same way as with json.loads alone."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from revisit_common.messaging import envelope as envelope_module
from revisit_common.messaging.envelope import (
    _DEEPEST,
    InvalidEnvelope,
    _checked,
    _loads,
    _plain,
    parse,
)
from tests.support.json_trees import json_trees
from tests.unit.common.test_envelope import VALID

ENVELOPE = {
    **VALID,
    "data": {"visit_id": "v-1", "on_time": True, "count": 3, "names": ["Zoë", "李"]},
}


def stdlib_parse(body: bytes | str):
    """parse as it was with json.loads alone."""
    try:
        text = body.decode(json.detect_encoding(body)) if isinstance(body, bytes) else body
        doc = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidEnvelope(f"body is not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise InvalidEnvelope("body is not a JSON object")
    return _plain(doc, text) or _checked(doc)


def outcome(read, body):
    """What ``read`` makes of ``body``: the envelope's values with their types (repr tells
    1 from 1.0 and True, and shows NaN) and its received text, or the error raised."""
    try:
        envelope = read(body)
    except (InvalidEnvelope, RecursionError) as exc:
        return type(exc).__name__, str(exc)
    return repr(envelope), repr(envelope.data), envelope.body


def with_data(data_text: str) -> str:
    """ENVELOPE's JSON text with ``data_text`` as its data."""
    text = json.dumps({**ENVELOPE, "data": "DATA"}, separators=(",", ":"))
    return text.replace('"DATA"', data_text)


def refuse(text):
    raise AssertionError("json.loads was called")


def test_an_ordinary_body_takes_orjsons_path_and_parses_as_before(monkeypatch):
    body = json.dumps(ENVELOPE, ensure_ascii=False).encode()
    expected = outcome(stdlib_parse, body)
    with monkeypatch.context() as patch:
        patch.setattr(envelope_module.json, "loads", refuse)
        envelope = parse(body)  # orjson's alone
        assert parse(body.decode()) == envelope
        assert _loads("[1.5,-0,1e-7,123456789012345678]") == [1.5, 0, 1e-7, 123456789012345678]
    assert outcome(parse, body) == expected
    assert envelope.data == {"visit_id": "v-1", "on_time": True, "count": 3, "names": ["Zoë", "李"]}
    assert envelope.body == body.decode()
    assert parse(body.decode()) == envelope


@pytest.mark.parametrize(
    "data",
    [
        '{"amount":NaN}',
        '{"amount":Infinity,"less":-Infinity}',
        '{"amount":1e400}',  # beyond a float: json reads inf, orjson refuses it
        '{"amount":' + "1234567890" * 10 + "}",  # a 100-digit integer: orjson reads a float
        '{"amount":18446744073709551616,"least":-9223372036854775809}',  # just beyond 64 bits
        '{"amount":12.50,"rate":1e-7}',
        '{"name":"\\ud800"}',  # a lone surrogate
        '{"a":1,"b":2,"a":3}',  # a key twice: the last value, at the first place
        '{"phone":"00861234567890123456789"}',  # a long run of digits in a string
    ],
)
def test_what_orjson_refuses_or_reads_otherwise_parses_as_with_json(data):
    text = with_data(data)
    assert outcome(parse, text.encode()) == outcome(stdlib_parse, text.encode())
    assert outcome(parse, text) == outcome(stdlib_parse, text)
    assert outcome(parse, bytearray(text.encode())) == outcome(
        stdlib_parse, bytearray(text.encode())
    )
    assert outcome(parse, text.encode())[0].startswith("Envelope(")


def test_numbers_beyond_orjsons_reach_keep_their_exact_values():
    envelope = parse(with_data('{"n":' + "9" * 100 + ',"m":-18446744073709551617,"x":NaN}'))
    assert envelope.data["n"] == int("9" * 100)
    assert envelope.data["m"] == -18446744073709551617
    assert type(envelope.data["n"]) is int
    assert envelope.data["x"] != envelope.data["x"]  # NaN


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_other_unicode_encodings_and_a_byte_order_mark_parse_as_before(encoding):
    body = json.dumps(ENVELOPE, ensure_ascii=False).encode(encoding)
    assert outcome(parse, body) == outcome(stdlib_parse, body)
    assert parse(body).body == json.dumps(ENVELOPE, ensure_ascii=False)
    assert parse(body).data["names"] == ["Zoë", "李"]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b"[]",
        b"7",
        b"1" * 30,
        b"NaN",
        b'{"a":1}x',
        b'{"a":"\xff"}',  # not UTF-8
        "\ufeff{}",  # a byte order mark in a str: json.loads refuses it
        b'{"data":{}} {}',
        b'{"a":"\x01"}',  # a control character in a string
    ],
)
def test_what_is_not_an_envelope_fails_as_before(body):
    assert outcome(parse, body) == outcome(stdlib_parse, body)
    with pytest.raises(InvalidEnvelope):
        parse(body)


def test_nesting_beyond_the_fast_paths_depth_is_jsons():
    deep = with_data('{"a":' + "[" * (_DEEPEST + 1) + "]" * (_DEEPEST + 1) + "}")
    at_limit = with_data('{"a":' + "[" * (_DEEPEST - 2) + "]" * (_DEEPEST - 2) + "}")
    for text in (deep, at_limit):
        assert outcome(parse, text.encode()) == outcome(stdlib_parse, text.encode())
    # deeper than json can read (orjson reads up to 1024 levels): not an envelope (it goes
    # to the dead letters, as any body that is not JSON), not json's RecursionError
    for depth in (1010, 100_000):
        deepest = with_data("[" * depth + "]" * depth)
        with pytest.raises(InvalidEnvelope, match="body is not JSON: maximum recursion"):
            parse(deepest.encode())


JSON = json_trees(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63 - 3, max_value=2**64 + 3)
    | st.floats()
    | st.text()
)


@given(JSON)
def test_any_data_parses_as_with_json(data):
    text = with_data(json.dumps(data, ensure_ascii=False))
    assert outcome(parse, text.encode("utf-8", "surrogatepass")) == outcome(
        stdlib_parse, text.encode("utf-8", "surrogatepass")
    )
    assert outcome(parse, text) == outcome(stdlib_parse, text)


@given(JSON)
def test_loads_gives_what_json_loads_gives(value):
    text = json.dumps(value)
    assert repr(_loads(text, text.encode())) == repr(json.loads(text))
