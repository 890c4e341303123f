"""The console answers failures with pages: an unknown page is a 404 page, a failure of
ours a 500 page (logged), never problem+json."""

from __future__ import annotations

from tests.support.console import add_person


class Broken:
    """An API client that fails, as a bug of ours would."""

    def call(self, *args, **kwargs):
        raise RuntimeError("a bug")


def test_a_failure_is_a_500_page_in_the_persons_language(tenant, monkeypatch):
    add_person(tenant.admin, "wang.fang")
    console = tenant.console()
    console.sign_in(tenant.id, "wang.fang")
    monkeypatch.setitem(tenant.app.extensions, "console_api", Broken())
    answer = console.get("/console/")
    assert answer.status_code == 500
    assert answer.content_type == "text/html; charset=utf-8"
    assert "系统出错，请重试。" in console.page  # the tenant's language, zh-CN
    assert "Content-Security-Policy" in answer.headers


def test_an_unknown_page_is_a_404_page(tenant):
    answer = tenant.console().get("/console/no/such/page")
    assert answer.status_code == 404
    assert answer.content_type == "text/html; charset=utf-8"
    assert "Not found, or not your organisation&#39;s." in tenant.console().get(
        "/console/nothing"
    ).get_data(as_text=True)
