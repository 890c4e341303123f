"""people.py: staff ids, the manager tree, and what goes on a person's agenda."""

from __future__ import annotations

import pytest

from gateway_service import people


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("wang.fang", True),
        ("a", True),
        ("x" * 64, True),
        ("li_wei-2", True),
        ("me", False),
        ("", False),
        ("x" * 65, False),
        ("Wang", False),
        ("wang fang", False),
        ("wang\nfang", False),
        (7, False),
    ],
)
def test_staff_ids(value, ok):
    assert people.is_staff_id(value) is ok


def test_manager_cycles():
    tree = {"ceo": None, "vp": "ceo", "lead": "vp", "dev": "lead"}
    assert people.manager_cycle("dev", "dev", tree)  # oneself
    assert people.manager_cycle("ceo", "dev", tree)  # dev -> lead -> vp -> ceo
    assert people.manager_cycle("vp", "lead", tree)
    assert not people.manager_cycle("dev", "vp", tree)  # a move up the tree
    assert not people.manager_cycle("new", "dev", tree)
    assert not people.manager_cycle("dev", None, tree)
    # a loop elsewhere (bad data) is not this change's and does not hang
    assert not people.manager_cycle("x", "a", {"a": "b", "b": "a"})


def test_open_issues_of_a_person():
    assert people.open_issue_of({"assignee": "wang"}, "wang")
    stage = {"owner": "wang", "status": "pending"}
    assert people.open_issue_of({"assignee": "li", "stages": [stage]}, "wang")
    assert people.open_issue_of({"stages": [{**stage, "status": "overdue"}]}, "wang")
    assert not people.open_issue_of({"stages": [{**stage, "status": "done"}]}, "wang")
    assert not people.open_issue_of({"assignee": "li", "stages": None}, "wang")


def test_complaints_by_next_deadline():
    items = [
        {"id": "none", "next_deadline": None},
        {"id": "late", "next_deadline": "2026-03-02T05:00:00+00:00"},
        {"id": "early", "next_deadline": "2026-03-02T12:00:00+08:00"},  # 04:00 UTC
    ]
    assert [c["id"] for c in people.by_deadline(items)] == ["early", "late", "none"]
