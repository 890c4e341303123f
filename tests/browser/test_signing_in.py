"""Signing in and out of the console in a real browser (issue #16): an agent signs in with
the keyboard alone and sees their agenda in the tenant's language (zh-CN), switches to
English; a wrong password shows an error and opens no session; repeated failures lock the
account with a message; signing out ends the session. Every page is shot and checked for
accessibility."""

from __future__ import annotations

from tests.support.accessibility import assert_accessible
from tests.support.browser import assert_fits_width, expect, new_page, shoot
from tests.support.console_people import SIGN_IN, SIGN_OUT, send_sign_in

COOKIE = "revisit_console"
WRONG = "Wrong organisation, staff id or password."
LOCKED = "Too many failed sign-ins: this account is locked for 15 minutes."


def session_cookies(page) -> list[str]:
    return [c["name"] for c in page.context.cookies() if c["name"] == COOKIE]


def test_an_agent_signs_in_and_sees_the_agenda_in_the_tenant_language(server, tenant, page):
    agent = tenant.person("wang.fang", "王芳", "agent")
    page.goto(server.base + "/console/")
    assert page.url == server.base + "/console/sign-in"
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    shoot(page, "sign-in")
    assert_accessible(page)

    answer = send_sign_in(page, server.base, tenant.id, agent.staff_id, agent.password)
    assert answer.status == 200
    assert page.url == server.base + "/console/"
    assert session_cookies(page) == [COOKIE]
    # The tenant's language (zh-CN unless its settings say otherwise).
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    expect(page.get_by_role("heading", level=1)).to_contain_text("我的日程")
    expect(page.locator("header .person")).to_contain_text("王芳")
    expect(page.get_by_role("button", name=SIGN_OUT)).to_have_text("退出")
    shoot(page, "agenda-zh-CN")
    assert_accessible(page)


def test_the_person_chooses_english(server, tenant, page):
    agent = tenant.person("li.na", "李娜", "agent")
    send_sign_in(page, server.base, tenant.id, agent.staff_id, agent.password)
    page.locator("#locale-choice").select_option("en")
    page.get_by_role("button", name="切换语言").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("My agenda")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name=SIGN_OUT)).to_have_text("Sign out")
    assert page.url == server.base + "/console/"
    shoot(page, "agenda-en")
    assert_accessible(page)
    # The choice is the person's: a new browser signing in gets English at once.
    page.context.clear_cookies()
    send_sign_in(page, server.base, tenant.id, agent.staff_id, agent.password)
    expect(page.get_by_role("heading", level=1)).to_contain_text("My agenda")
    assert page.locator("html").get_attribute("lang") == "en"


def test_a_wrong_password_shows_an_error_and_opens_no_session(server, tenant, page):
    agent = tenant.person("zhou.min", "周敏", "agent")
    answer = send_sign_in(page, server.base, tenant.id, agent.staff_id, "not the password")
    assert answer.status == 401
    assert page.url == server.base + "/console/sign-in"
    expect(page.get_by_role("alert")).to_have_text(WRONG)
    # What was typed stays, except the password.
    expect(page.locator("#tenant")).to_have_value(tenant.id)
    expect(page.locator("#staff_id")).to_have_value(agent.staff_id)
    expect(page.locator("#password")).to_have_value("")
    assert session_cookies(page) == []
    shoot(page, "sign-in-wrong-password")
    assert_accessible(page)
    page.goto(server.base + "/console/")
    assert page.url == server.base + "/console/sign-in"


def test_repeated_failures_lock_the_account(server, tenant, page):
    agent = tenant.person("sun.li", "孙丽", "agent")
    for _ in range(4):
        answer = send_sign_in(page, server.base, tenant.id, agent.staff_id, "guess guess guess")
        assert answer.status == 401
        expect(page.get_by_role("alert")).to_have_text(WRONG)
    answer = send_sign_in(page, server.base, tenant.id, agent.staff_id, "guess guess guess")
    assert answer.status == 429
    expect(page.get_by_role("alert")).to_have_text(LOCKED)
    shoot(page, "sign-in-locked")
    assert_accessible(page)
    # While locked, even the right password is refused.
    answer = send_sign_in(page, server.base, tenant.id, agent.staff_id, agent.password)
    assert answer.status == 429
    expect(page.get_by_role("alert")).to_have_text(LOCKED)
    assert session_cookies(page) == []


def test_signing_out_ends_the_session(server, tenant, page):
    agent = tenant.person("he.jun", "何军", "agent")
    send_sign_in(page, server.base, tenant.id, agent.staff_id, agent.password)
    kept = page.context.cookies()
    page.get_by_role("button", name=SIGN_OUT).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    page.wait_for_url(server.base + "/console/sign-in")
    # The sign-in page is in the browser's language (English here), and says so.
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert session_cookies(page) == []
    page.goto(server.base + "/console/")
    assert page.url == server.base + "/console/sign-in"
    # The old cookie, sent again, signs nobody in: the session ended on the server.
    page.context.add_cookies(kept)
    page.goto(server.base + "/console/")
    assert page.url == server.base + "/console/sign-in"


def test_the_agenda_fits_a_phone(server, tenant, phone):
    agent = tenant.person("wu.lei", "吴磊", "agent")
    send_sign_in(phone, server.base, tenant.id, agent.staff_id, agent.password)
    expect(phone.get_by_role("heading", level=1)).to_contain_text("我的日程")
    assert_fits_width(phone)
    shoot(phone, "agenda-phone")
    assert_accessible(phone)


def test_the_sign_in_page_follows_the_browser_language(server, browser):
    page = new_page(browser, locale="zh-CN")
    try:
        page.goto(server.base + "/console/sign-in")
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        expect(page.get_by_role("heading", level=1)).to_have_text("登录")
        expect(page.get_by_role("button", name=SIGN_IN)).to_have_text("登录")
        shoot(page, "sign-in-zh-CN")
        assert_accessible(page)
    finally:
        page.context.close()
