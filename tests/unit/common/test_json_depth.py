"""json_depth_exceeds finds a JSON text's nesting depth without recursing, strings and
escapes notwithstanding, and agrees with the depth of the parsed value."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from revisit_common.webapp import MAX_JSON_DEPTH, json_depth_exceeds

TRICKY_TEXT = st.text(alphabet='[]{}"\\ab\n\u00e9', max_size=8)
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | TRICKY_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TRICKY_TEXT, inner, max_size=3),
    max_leaves=20,
)


def depth(value) -> int:
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    return 0


@given(VALUES, st.integers(min_value=0, max_value=6), st.booleans())
def test_agrees_with_the_parsed_values_depth(value, limit, ascii_only):
    body = json.dumps(value, ensure_ascii=ascii_only).encode("utf-8")
    assert json_depth_exceeds(body, limit) is (depth(value) > limit)


def test_thousands_deep_is_refused_and_the_limit_itself_is_not():
    assert json_depth_exceeds(b"[" * 100_000 + b"]" * 100_000)
    assert json_depth_exceeds(b'{"a":' * 50_000 + b"1" + b"}" * 50_000)
    at_limit = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    assert not json_depth_exceeds(at_limit)
    assert json_depth_exceeds(b"[" + at_limit + b"]")


def test_brackets_inside_strings_and_after_escaped_quotes_do_not_count():
    inside = json.dumps({"note": "[" * 1000, "quote": '\\"[[[' * 100}).encode()
    assert not json_depth_exceeds(inside, limit=1)
    assert json_depth_exceeds(json.dumps({"a": [["x"]]}).encode(), limit=2)


def test_many_shallow_brackets_are_not_depth():
    wide = json.dumps([{"id": i, "tags": []} for i in range(5_000)]).encode()
    assert not json_depth_exceeds(wide)
