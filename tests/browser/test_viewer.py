"""Issue #16, done-when 5, in a real browser: a viewer reads every page but is offered no
form that changes anything (only the header's language and sign-out forms), and a form
forged in their signed-in browser, with their valid CSRF token, is refused with 403 and
changes nothing. Every page is shot and checked for accessibility."""

from __future__ import annotations

import pytest

from tests.support.accessibility import assert_accessible
from tests.support.browser import expect, shoot
from tests.support.console_people import choose_language, sign_in

HEADER_FORMS = ["/console/language", "/console/sign-out"]


@pytest.fixture
def records(tenant):
    """A customer, a planned visit and a received complaint of the tenant."""
    return tenant.records()


def posting_forms(page) -> list[str]:
    """The paths that the page's POST forms send to."""
    actions = page.locator("form[method=post]").evaluate_all(
        "forms => forms.map(f => new URL(f.action).pathname)"
    )
    return sorted(actions)


def test_a_viewer_is_offered_no_form_that_changes_anything(server, tenant, records, page):
    viewer = tenant.person("zhao.min", "赵敏", "viewer")
    sign_in(page, server.base, viewer)
    choose_language(page, "en")
    pages = {
        "agenda": "/console/",
        "visits": "/console/visits",
        "visit": f"/console/visits/{records['visit']}",
        "complaints": "/console/complaints",
        "complaint": f"/console/complaints/{records['complaint']}",
        "customers": "/console/customers",
        "customer": f"/console/customers/{records['customer']}",
        "kpis": "/console/kpis",
    }
    for name, path in pages.items():
        answer = page.goto(server.base + path)
        assert answer.status == 200, (path, answer.status)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert posting_forms(page) == HEADER_FORMS, path
        shoot(page, f"viewer-{name}")
        assert_accessible(page)


def test_a_forged_form_of_a_viewer_is_refused(server, tenant, records, page):
    viewer = tenant.person("qian.li", "钱丽", "viewer")
    sign_in(page, server.base, viewer)
    choose_language(page, "en")
    visit_path = f"/console/visits/{records['visit']}"
    page.goto(server.base + visit_path)
    token = page.locator("form[action$='/console/sign-out'] input[name=csrf_token]").input_value()

    # A form the page never offered, sent from the page itself as a browser would.
    with page.expect_navigation() as navigation:
        page.evaluate(
            """([action, token]) => {
              const form = document.createElement('form');
              form.method = 'post';
              form.action = action;
              for (const [name, value] of [['csrf_token', token], ['satisfaction', 'satisfied']]) {
                const input = document.createElement('input');
                input.type = 'hidden'; input.name = name; input.value = value;
                form.append(input);
              }
              document.body.append(form);
              form.submit();
            }""",
            [f"{visit_path}/complete", token],
        )
    assert navigation.value.status == 403
    expect(page.get_by_role("alert")).to_have_text("Your role may not do this.")
    shoot(page, "viewer-refused")
    assert_accessible(page)

    # The other forms of the pages, with the same browser's cookies and token.
    forged = {
        "/console/visits": {"customer_id": records["customer"], "reason": "care"},
        f"/console/complaints/{records['complaint']}/transitions": {"action": "acknowledge"},
        f"/console/complaints/{records['complaint']}/assign": {"assignee": "qian.li"},
        "/console/complaints": {"customer_id": records["customer"], "channel": "phone"},
    }
    for path, form in forged.items():
        answer = page.request.post(
            server.base + path, form={"csrf_token": token, **form}, max_redirects=0
        )
        assert answer.status == 403, (path, answer.status)

    # Nothing changed.
    assert tenant.api("GET", f"/visits/{records['visit']}").json()["status"] == "planned"
    complaint = tenant.api("GET", f"/complaints/{records['complaint']}").json()
    assert (complaint["status"], complaint["assignee"]) == ("received", None)
    assert len(tenant.api("GET", "/complaints").json()["items"]) == 1
    visits = tenant.api("GET", f"/visits?customer_id={records['customer']}").json()["items"]
    # no care visit planned by the forgery (events plan a periodic one of their own)
    assert [v["id"] for v in visits if v["reason"] == "care"] == [records["visit"]]
