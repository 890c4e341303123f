"""The role table, checked through the real HTTP stack (issue #6).

Every operation of the live OpenAPI document × the six roles: a key of the role calls it
(with the ids of the tenant's real resources and a valid body) and the answer must be 403
exactly when the gateway's role table (``gateway_service.domain.allowed``) refuses it. So a
service that refuses what the table allows (or the other way round) fails here, and so does
a new route nobody thought about.
"""

from __future__ import annotations

import pytest

from gateway_service.domain import allowed
from revisit_common.identity import ROLES
from tests.support.client import Api

from .catalog import DEPARTMENT, body_for, call, create_all, fill, operations

PUBLIC = ("/api/v1/survey-responses/",)  # the token in the link is the credential
PLATFORM = {("POST", "/api/v1/tenants")}  # the platform operator's token, not a tenant key
# The role table lets every role in; the route then lets only the admin or the person the key
# acts as (these keys act as nobody): 403 for the others.
PERSONAL = {("POST", "/api/v1/staff/{staff_id}/password")}


@pytest.fixture(scope="module")
def tenant(module_system):
    """A tenant with a key of every role and one resource of each kind."""
    admin = Api(module_system).new_tenant("Roles")
    keys = {"admin": admin}
    for role in ROLES:
        if role != "admin":
            department = DEPARTMENT if role == "department" else None
            keys[role] = admin.as_key(admin.new_key(role, department))
    ids = create_all(admin)
    spec = admin.get("/openapi.json").json
    return keys, ids, spec


def _expected(role: str, method: str, path: str, concrete: str) -> str:
    if (method, path) in PLATFORM:
        return "401"
    if path.startswith(PUBLIC):
        return "not 403"
    if (method, path) in PERSONAL and role != "admin":
        return "403"
    return "not 403" if allowed(role, method, concrete) else "403"


def _outcome(status: int) -> str:
    return "403" if status == 403 else "401" if status == 401 else "not 403"


def test_role_matrix(tenant):
    keys, ids, spec = tenant
    wrong = []
    cases = 0
    # the roles refused most go first, so a state change by another role cannot mask them
    for role in sorted(ROLES, key=lambda r: r == "admin"):
        for method, path, operation in operations(spec):
            concrete = fill(path, ids)
            body = body_for(method, path, operation, ids)
            r = call(keys[role], method, concrete, body)
            cases += 1
            assert r.status_code < 500, (role, method, path, r.status_code, r.get_json())
            want = _expected(role, method, path, concrete)
            if _outcome(r.status_code) != want:
                wrong.append((role, method, path, r.status_code, want, r.get_json(silent=True)))
    assert not wrong, "role table and behaviour disagree:\n" + "\n".join(map(str, wrong))
    assert cases >= 6 * 40


def test_every_role_is_refused_something_but_admin(tenant):
    """Guards the matrix against a table that allows everything."""
    _keys, ids, spec = tenant
    for role in ROLES:
        refused = [
            (m, p) for m, p, _op in operations(spec) if _expected(role, m, p, fill(p, ids)) == "403"
        ]
        assert bool(refused) is (role != "admin"), (role, refused)


def test_audit_log_is_for_admins_only(tenant):
    keys, _ids, _spec = tenant
    for role, api in keys.items():
        r = api.get("/audit-log")
        assert r.status_code == (200 if role == "admin" else 403), role
