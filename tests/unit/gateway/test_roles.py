"""The role × route table: every role against representative routes of every resource."""

from __future__ import annotations

import pytest

from gateway_service.domain import ROLE_RULES, allowed
from revisit_common.identity import ROLES

ALL = set(ROLES)
STAFF = {"admin", "manager", "agent"}
READERS = ALL - {"department"}

# (method, path) -> the roles that may call it; written out by hand from the brief, so a
# change of the table in domain.py has to be a deliberate change here too.
EXPECTED: dict[tuple[str, str], set[str]] = {
    # customers
    ("GET", "/customers"): READERS,
    ("GET", "/customers/c1"): READERS,
    ("POST", "/customers"): STAFF,
    ("PATCH", "/customers/c1"): STAFF,
    ("POST", "/customers/c1/purchases"): STAFF,
    # visits and issues
    ("GET", "/visits"): READERS,
    ("GET", "/visits/v1"): READERS,
    ("POST", "/visits"): STAFF,
    ("POST", "/visits/v1/complete"): STAFF,
    ("DELETE", "/visits/v1"): STAFF,
    ("POST", "/visits/v1/audit"): {"auditor", "manager", "admin"},
    ("GET", "/issues"): ALL,
    ("GET", "/issues/i1"): ALL,
    ("POST", "/issues/i1/resolve"): STAFF | {"department"},
    ("PATCH", "/issues/i1"): STAFF,
    # complaints
    ("GET", "/complaints"): ALL,
    ("GET", "/complaints/k1"): ALL,
    ("POST", "/complaints"): STAFF,
    ("POST", "/complaints/k1/transitions"): STAFF | {"department"},
    ("PATCH", "/complaints/k1"): STAFF,
    ("GET", "/webhooks"): frozenset({"admin", "manager"}),
    ("POST", "/webhooks"): frozenset({"admin", "manager"}),
    # surveys and KPIs
    ("GET", "/surveys/s1/results"): READERS,
    ("POST", "/surveys"): STAFF,
    ("POST", "/surveys/s1/invitations"): STAFF,
    ("GET", "/kpis"): READERS,
    # the tenant's administration
    ("GET", "/api-keys"): {"admin"},
    ("POST", "/api-keys"): {"admin"},
    ("DELETE", "/api-keys/k1"): {"admin"},
    ("GET", "/settings"): {"admin", "manager"},
    ("PATCH", "/settings"): {"admin"},
    ("GET", "/tenants/current"): READERS,
}

CASES = [(role, method, path) for (method, path) in EXPECTED for role in ROLES]


@pytest.mark.parametrize(("role", "method", "path"), CASES)
def test_role_table(role, method, path):
    assert allowed(role, method, path) is (role in EXPECTED[(method, path)])


def test_only_admin_may_do_everything():
    # guards against a table (or an expectation) that allows or refuses everything
    for role in ROLES:
        outcomes = {allowed(role, m, p) for (m, p) in EXPECTED}
        assert outcomes == ({True} if role == "admin" else {True, False}), role


@pytest.mark.parametrize("role", ROLES)
def test_absolute_and_relative_paths_agree(role):
    for method, path in EXPECTED:
        assert allowed(role, method, "/api/v1" + path) == allowed(role, method, path)
        assert allowed(role, method, "/api/v1" + path + "/") == allowed(role, method, path)


def test_head_is_a_read():
    assert allowed("viewer", "HEAD", "/customers")
    assert not allowed("department", "HEAD", "/customers")
    assert allowed("department", "HEAD", "/complaints")


def test_lower_case_methods_are_normalised():
    assert allowed("agent", "post", "/customers")
    assert not allowed("viewer", "post", "/customers")


@pytest.mark.parametrize("method", ["OPTIONS", "TRACE", "CONNECT", "FOO"])
def test_unknown_methods_are_refused(method):
    assert not any(allowed(role, method, "/customers") for role in ROLES)


@pytest.mark.parametrize("role", ["root", "", "Admin", "platform"])
def test_unknown_roles_are_refused(role):
    assert not allowed(role, "GET", "/customers")


def test_department_rules_match_whole_segments_only():
    # "/complaints-export" is not "/complaints": departments must not slip through a prefix
    assert not allowed("department", "GET", "/complaints-export")
    assert not allowed("department", "GET", "/issuesx/1")
    assert not allowed("department", "POST", "/issues/i1/resolve/extra")
    assert not allowed("department", "POST", "/complaints/k1")


def test_audit_wildcard_is_one_segment():
    assert not allowed("auditor", "POST", "/visits/audit")
    assert not allowed("auditor", "POST", "/visits/a/b/audit")
    assert not allowed("agent", "POST", "/visits/v1/audit")


def test_table_is_data():
    assert all(rule.roles <= set(ROLES) for rule in ROLE_RULES)
    assert all(rule.pattern.startswith("/") for rule in ROLE_RULES)


def _first_match(role: str, method: str, path: str) -> bool:
    """The table read top to bottom, every rule tried (what the index in domain.py skips)."""
    if role not in ROLES:
        return False
    relative = path[len("/api/v1") :] if path.startswith("/api/v1") else path
    for rule in ROLE_RULES:
        if rule.matches(method.upper(), "/" + relative.strip("/")):
            return role in rule.roles
    return False


def test_the_index_by_first_segment_decides_as_the_whole_table():
    segments = {p.strip("/").split("/")[0] for p in (r.pattern for r in ROLE_RULES)}
    segments |= {"customers", "unknown", "x", "audit", "*", "**", "watch", "audit-sample"}
    tails = ["", "/a", "/a/audit", "/watch", "/audit-sample", "/a/resolve", "/a/stages/b/complete"]
    tails += ["/a/transitions", "/a/assign", "/a/b/c/d", "/a/resolve/extra"]
    paths = ["", "/", "/api/v1", "/api/v1/"]
    paths += [f"/{s}{t}" for s in segments for t in tails]
    paths += [f"/api/v1/{s}{t}" for s in segments for t in tails]
    methods = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "get")
    for role in [*ROLES, "nobody"]:
        for method in methods:
            for path in paths:
                assert allowed(role, method, path) == _first_match(role, method, path), (
                    role,
                    method,
                    path,
                )
