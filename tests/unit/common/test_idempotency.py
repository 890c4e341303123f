"""The pure rules of Idempotency-Key: key syntax, fingerprints, verdicts, expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from revisit_common import idempotency_rules as rules
from revisit_common.idempotency_rules import TTL, StoredResponse, Verdict

T0 = datetime(2030, 5, 1, 8, 0, tzinfo=UTC)
PATH = "/api/v1/complaints"


def stored(print_: str, expires_at: datetime = T0 + TTL) -> StoredResponse:
    return StoredResponse(
        print_, 201, b'{"id": "c1"}', {"Content-Type": "application/json"}, expires_at
    )


@pytest.mark.parametrize("key", ["a", "8f14e45f-ceea-467f-a0e6-3b5c2f1e9a7d", "x" * 255, "a b"])
def test_usable_keys(key):
    assert rules.key_problem(key) is None


@pytest.mark.parametrize(
    "key", ["", " ", " a", "a ", "x" * 256, "a\x00b", "tab\there", "\u00e9t\u00e9", "a\nb"]
)
def test_unusable_keys(key):
    assert rules.key_problem(key) is not None


def test_json_bodies_compare_by_content_not_by_spelling():
    assert rules.canonical_body(b'{"b": 1, "a": [1, 2]}') == rules.canonical_body(
        b'{"a":[1,2],"b":1}'
    )
    same = rules.fingerprint("POST", PATH, b"", b'{"b": 1, "a": "x"}')
    assert same == rules.fingerprint("post", PATH, b"", b'{"a":"x",\n "b":1}')


def test_any_other_difference_changes_the_fingerprint():
    base = rules.fingerprint("POST", PATH, b"", b'{"a": 1}')
    assert rules.fingerprint("POST", PATH, b"", b'{"a": 2}') != base
    assert rules.fingerprint("PATCH", PATH, b"", b'{"a": 1}') != base
    assert rules.fingerprint("POST", PATH + "/x", b"", b'{"a": 1}') != base
    assert rules.fingerprint("POST", PATH, b"dry_run=true", b'{"a": 1}') != base
    # parts are length-prefixed: moving bytes from the path to the query is another request
    assert rules.fingerprint("POST", "/ab", b"c", b"") != rules.fingerprint(
        "POST", "/a", b"bc", b""
    )


def test_non_json_bodies_compare_byte_for_byte():
    assert rules.canonical_body(b"name,region\nA,east\n") == b"name,region\nA,east\n"
    assert rules.fingerprint("POST", PATH, b"", b"a,b") != rules.fingerprint(
        "POST", PATH, b"", b"a, b"
    )
    assert rules.canonical_body(b"[" * 5000) == b"[" * 5000  # too deep for json: compared as bytes


def test_verdicts():
    print_ = rules.fingerprint("POST", PATH, b"", b"{}")
    assert rules.judge(None, print_, T0) is Verdict.FRESH
    assert rules.judge(stored(print_), print_, T0) is Verdict.REPLAY
    assert rules.judge(stored(print_), print_, T0 + TTL - timedelta(seconds=1)) is Verdict.REPLAY
    assert rules.judge(stored("other"), print_, T0) is Verdict.MISMATCH


def test_a_key_is_free_again_after_24_hours():
    print_ = rules.fingerprint("POST", PATH, b"", b"{}")
    assert rules.expiry(T0) == T0 + timedelta(hours=24)
    assert rules.judge(stored(print_), print_, T0 + TTL) is Verdict.FRESH
    assert rules.judge(stored("other"), print_, T0 + TTL) is Verdict.FRESH


@pytest.mark.parametrize("status", [200, 201, 204])
def test_successes_are_recorded(status):
    assert rules.recordable(status) is True


@pytest.mark.parametrize("status", [301, 400, 404, 409, 422, 429, 500, 503])
def test_failures_are_not_recorded(status):
    assert rules.recordable(status) is False


def test_lock_ids_are_stable_64_bit_and_distinct_per_tenant_and_service():
    first = rules.lock_id("complaint", "t1", "k")
    assert first == rules.lock_id("complaint", "t1", "k")
    assert -(2**63) <= first < 2**63
    assert (
        len({first, rules.lock_id("complaint", "t2", "k"), rules.lock_id("customer", "t1", "k")})
        == 3
    )


def test_a_form_is_compared_by_fields_and_files_not_by_its_boundary():
    one = rules.form_body([("dry_run", "true")], [("file", "c.csv", b"name\nA\n")])
    assert one == rules.form_body([("dry_run", "true")], [("file", "c.csv", b"name\nA\n")])
    assert one != rules.form_body([("dry_run", "true")], [("file", "c.csv", b"name\nB\n")])
    assert one != rules.form_body([("dry_run", "false")], [("file", "c.csv", b"name\nA\n")])
    assert one != rules.form_body([("dry_run", "true")], [("file", "d.csv", b"name\nA\n")])
