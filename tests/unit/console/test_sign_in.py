"""Signing in to the console and out (CONTRACT §4.8), on SQLite and on PostgreSQL with
RabbitMQ: passwords set through the API, signed HttpOnly SameSite cookies, CSRF tokens,
lockout after repeated failures, a strict Content-Security-Policy."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gateway_service import passwords
from gateway_service.models import StaffCredential
from tests.support.console import PASSWORD, Console, add_person, csrf_of

pytestmark = pytest.mark.usefixtures("system_everywhere")


def test_sign_in_shows_my_agenda_and_sign_out_ends_the_session(tenant_everywhere):
    tenant = tenant_everywhere
    add_person(tenant.admin, "wang.fang")
    query = sa.select(StaffCredential.password_hash).where(
        StaffCredential.tenant_id == sa.bindparam("tenant")
    )
    stored = tenant.app.extensions["gateway_store"].db.fetch(query, {"tenant": tenant.id})
    assert [row[0].split("$")[:4] for row in stored] == [["scrypt", "10", "8", "1"]]
    console = tenant.console()
    assert console.get("/console/").status_code == 303  # to the sign-in page
    answer = console.sign_in(tenant.id, "wang.fang")
    assert answer.status_code == 303 and answer.headers["Location"] == "/console/"
    cookie = next(c for c in answer.headers.getlist("Set-Cookie") if "revisit_console=" in c)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/console/" in cookie
    page = console.get("/console/")
    assert page.status_code == 200
    assert "Wang Fang" in console.page and 'id="agenda"' in console.page
    ended = console.post("/console/sign-out")
    assert ended.status_code == 303 and ended.headers["Location"] == "/console/sign-in"
    assert console.get("/console/").status_code == 303


def test_a_stolen_cookie_is_worthless_after_sign_out(tenant_everywhere):
    tenant = tenant_everywhere
    add_person(tenant.admin, "wang.fang")
    console = tenant.console()
    console.sign_in(tenant.id, "wang.fang")
    stolen = console.http.get_cookie("revisit_console", path="/console/").value
    console.get("/console/")
    console.post("/console/sign-out")
    thief = tenant.console()
    thief.http.set_cookie("revisit_console", stolen, path="/console/")
    assert thief.get("/console/").status_code == 303


def test_a_forged_or_altered_cookie_signs_nobody_in(tenant_everywhere):
    tenant = tenant_everywhere
    add_person(tenant.admin, "wang.fang")
    console = tenant.console()
    console.sign_in(tenant.id, "wang.fang")
    value = console.http.get_cookie("revisit_console", path="/console/").value
    forged = tenant.console()
    forged.http.set_cookie("revisit_console", value[:-2] + "xx", path="/console/")
    assert forged.get("/console/").status_code == 303
    forged.http.set_cookie("revisit_console", "made-up", path="/console/")
    assert forged.get("/console/").status_code == 303


@pytest.mark.parametrize(
    ("staff_id", "password"),
    [("wang.fang", "wrong password!"), ("nobody.here", PASSWORD), ("WANG.FANG", PASSWORD)],
)
def test_wrong_credentials_are_a_401_with_one_message(tenant_everywhere, staff_id, password):
    tenant = tenant_everywhere
    add_person(tenant.admin, "wang.fang")
    console = tenant.console()
    answer = console.sign_in(tenant.id, staff_id, password)
    assert answer.status_code == 401
    assert "Wrong organisation, staff id or password." in console.page
    assert "revisit_console=" not in " ".join(answer.headers.getlist("Set-Cookie"))


def test_another_tenants_person_cannot_sign_in_here(system_everywhere, tenant_everywhere):
    from tests.unit.console.conftest import new_tenant

    other = new_tenant(system_everywhere)
    add_person(other.admin, "wang.fang")
    console = tenant_everywhere.console()
    assert console.sign_in(tenant_everywhere.id, "wang.fang").status_code == 401
    assert console.sign_in(other.id, "wang.fang").status_code == 303


def test_lockout_after_repeated_failures_even_for_the_right_password(tenant_everywhere, clock):
    tenant = tenant_everywhere
    add_person(tenant.admin, "wang.fang")
    console = tenant.console()
    for _ in range(passwords.MAX_FAILURES - 1):
        assert console.sign_in(tenant.id, "wang.fang", "wrong password!").status_code == 401
    locked = console.sign_in(tenant.id, "wang.fang", "wrong password!")
    assert locked.status_code == 429 and "locked for 15 minutes" in console.page
    assert console.sign_in(tenant.id, "wang.fang").status_code == 429
    clock.advance(minutes=passwords.LOCK_MINUTES, seconds=1)
    assert console.sign_in(tenant.id, "wang.fang").status_code == 303


def test_a_person_who_left_is_signed_out_at_once(tenant_everywhere):
    tenant = tenant_everywhere
    add_person(tenant.admin, "wang.fang")
    console = tenant.console()
    console.sign_in(tenant.id, "wang.fang")
    assert console.get("/console/").status_code == 200
    left = tenant.admin.patch("/staff/wang.fang", {"active": False})
    assert left.status_code == 200
    assert console.get("/console/").status_code == 303
    assert tenant.console().sign_in(tenant.id, "wang.fang").status_code == 401


def test_sign_in_without_the_forms_token_is_refused(tenant_everywhere):
    tenant = tenant_everywhere
    add_person(tenant.admin, "wang.fang")
    console = tenant.console()
    console.get(f"/console/sign-in?tenant={tenant.id}")
    body = {"tenant": tenant.id, "staff_id": "wang.fang", "password": PASSWORD}
    answer = console.post("/console/sign-in", body, csrf="not-the-token")
    assert answer.status_code == 400
    assert "revisit_console=" not in " ".join(answer.headers.getlist("Set-Cookie"))


def test_a_post_without_the_sessions_csrf_token_changes_nothing(tenant_everywhere):
    tenant = tenant_everywhere
    add_person(tenant.admin, "wang.fang")
    console = tenant.console()
    console.sign_in(tenant.id, "wang.fang")
    console.get("/console/")
    assert console.post("/console/sign-out", csrf="forged").status_code == 400
    assert console.post("/console/language", {"locale": "en"}, csrf="").status_code == 400
    assert console.get("/console/").status_code == 200  # still signed in
    assert '<html lang="zh-CN">' in console.page  # the language did not change


def test_every_page_has_the_security_headers(tenant_everywhere):
    console = tenant_everywhere.console()
    for path in ("/console/sign-in", "/console/no-such-page"):
        answer = console.get(path)
        csp = answer.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Cache-Control"] == "no-store"
    assert console.get("/console/no-such-page").status_code == 404
    script = console.get("/console/static/htmx.min.js")
    assert script.status_code == 200 and "javascript" in script.content_type


def test_language_is_the_tenants_then_the_persons_choice(tenant_everywhere):
    tenant = tenant_everywhere
    add_person(tenant.admin, "wang.fang")
    console = tenant.console()
    console.sign_in(tenant.id, "wang.fang")
    console.get("/console/")
    assert '<html lang="zh-CN">' in console.page and "我的日程" in console.page
    chosen = console.post("/console/language", {"locale": "en", "back": "/console/"})
    assert chosen.status_code == 303 and chosen.headers["Location"] == "/console/"
    console.get("/console/")
    assert '<html lang="en">' in console.page and "My agenda" in console.page
    assert tenant.admin.get("/staff/wang.fang").json["locale"] == "en"
    again = tenant.console()
    again.get("/console/sign-in", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="en">' in again.page and csrf_of(again.page)


def test_a_back_link_elsewhere_is_not_followed(tenant_everywhere):
    tenant = tenant_everywhere
    add_person(tenant.admin, "wang.fang")
    console: Console = tenant.console()
    console.sign_in(tenant.id, "wang.fang")
    console.get("/console/")
    for back in ("https://evil.example/", "//evil.example/console/", "/console/\\evil"):
        answer = console.post("/console/language", {"locale": "en", "back": back})
        console.get("/console/")
        assert answer.headers["Location"] == "/console/"
