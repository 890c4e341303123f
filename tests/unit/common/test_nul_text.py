"""nul_text finds NUL characters in query pairs and parsed JSON, and nothing else."""

from __future__ import annotations

from revisit_common.nul_text import nul_fields, nul_names


def test_names_of_pairs_with_a_nul_in_the_name_or_value():
    pairs = [("a", "ok"), ("b", "x\x00"), ("c\x00", "ok"), ("b", "\x00"), ("d", "")]
    assert nul_names(pairs) == ["b", "c\x00"]
    assert nul_names([("a", "0"), ("b", "%00")]) == []  # decoded values only


def test_places_in_a_document():
    doc = {
        "name": "ok",
        "note": "a\x00b",
        "tags": ["x", "\x00"],
        "nested": {"deep": [{"text": "\x00"}], "key\x00": "fine value"},
        "count": 3,
        "flag": None,
    }
    assert nul_fields(doc) == ["note", "tags.1", "nested.deep.0.text", "nested.key\x00"]
    assert nul_fields("\x00") == ["<body>"]
    assert nul_fields(["\x00", 1.5, True]) == ["0"]
    assert nul_fields({"a": "b", "c": [1, "d"]}) == []
