"""Sign-in attempts from one address count under the gateway's per-address limit
(REVISIT_RATE_LIMIT_ANONYMOUS), on SQLite and on PostgreSQL with RabbitMQ."""

from __future__ import annotations

from tests.support.console import add_person
from tests.unit.console.conftest import new_tenant


def test_sign_in_attempts_from_one_address_are_limited(limited_system):
    tenant = new_tenant(limited_system)
    add_person(tenant.admin, "wang.fang")
    console = tenant.console()
    for _ in range(4):
        assert console.sign_in(tenant.id, "nobody.here", "wrong password!").status_code == 401
    limited = console.sign_in(tenant.id, "wang.fang")
    assert limited.status_code == 429
    assert "Too many sign-in attempts. Please wait a minute." in console.page
    assert "revisit_console=" not in " ".join(limited.headers.getlist("Set-Cookie"))
