"""The envelope parser's plain fast path agrees with the schema it stands in for."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from revisit_common.messaging.envelope import InvalidEnvelope, _checked, _plain, parse

VALID = {
    "specversion": "1.0",
    "id": "0b5f0b1e-1111-4222-8333-944444444444",
    "source": "revisit/visit",
    "type": "VisitCompleted",
    "time": "2026-11-30T10:00:00+00:00",
    "subject": "v-1",
    "datacontenttype": "application/json",
    "tenantid": "t-1",
    "region": "eu-west",
    "dataversion": 1,
    "correlationid": None,
    "data": {"visit_id": "v-1", "on_time": True},
}


def test_a_well_formed_envelope_takes_the_plain_path_with_the_schemas_values():
    assert _plain(VALID) is not None
    assert _plain(VALID) == _checked(VALID) == parse(json.dumps(VALID))


def test_left_out_optional_attributes_get_the_schemas_defaults():
    doc = {k: v for k, v in VALID.items() if k not in ("subject", "region", "dataversion")}
    doc.pop("correlationid")
    assert _plain(doc) == _checked(doc)
    assert (_plain(doc).subject, _plain(doc).region, _plain(doc).dataversion) == ("", "", 1)


@pytest.mark.parametrize(
    "change",
    [
        {"specversion": "0.3"},
        {"id": ""},
        {"id": "x" * 101},
        {"source": None},
        {"type": 7},
        {"tenantid": ""},
        {"dataversion": "1"},
        {"dataversion": 1.5},
        {"dataversion": True},
        {"data": []},
        {"data": None},
        {"subject": None},
        {"correlationid": 5},
    ],
)
def test_what_the_plain_path_refuses_goes_to_the_schema(change):
    doc = {**VALID, **change}
    assert _plain(doc) is None
    try:
        expected = _checked(doc)
    except InvalidEnvelope:
        with pytest.raises(InvalidEnvelope):
            parse(json.dumps(doc))
    else:
        assert parse(json.dumps(doc)) == expected


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=False),
    st.text(max_size=3),
    st.text(min_size=99, max_size=102),
    st.just("1.0"),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    st.lists(st.integers(), max_size=2),
)


@given(
    st.dictionaries(
        st.sampled_from(sorted(VALID)),
        VALUES,
        max_size=len(VALID),
    ),
    st.booleans(),
)
def test_the_plain_path_never_accepts_what_the_schema_rejects(changes, drop):
    doc = {**VALID, **changes}
    if drop:
        for name in changes:
            doc.pop(name)
    plain = _plain(doc)
    if plain is None:
        return
    assert plain == _checked(doc)


def test_a_well_formed_envelope_keeps_the_body_it_was_received_as():
    text = json.dumps(VALID, ensure_ascii=False)
    assert parse(text.encode()).body == text
    assert parse(text).body == text
    assert json.loads(parse(text).to_json()) == json.loads(text)
    for encoding in ("utf-8-sig", "utf-16"):  # as json.loads reads bytes: no mark kept
        assert parse(text.encode(encoding)).body == text


def test_a_copy_or_an_envelope_the_schema_judged_has_no_body():
    envelope = parse(json.dumps(VALID))
    assert dataclasses.replace(envelope, data={"visit_id": "v-2"}).body is None
    assert _checked(VALID).body is None
