"""The console in a real browser: one standalone revisit (`make run`) and one headless
Debian Chromium per test process (each test works in a tenant of its own), a fresh browser
context (no cookies) per test.

Skipped when /usr/bin/chromium or Playwright is missing, unless REVISIT_REQUIRE_SERVICES=1
(CI, where .ci/run installs the browser), which makes that a failure.
"""

from __future__ import annotations

import re

import pytest

from tests.support.browser import (
    artefacts,
    launch,
    need_chromium,
    new_page,
    new_phone_page,
    shoot,
)
from tests.support.console_people import new_tenant
from tests.support.standalone import ADMIN, Server

OUTCOMES = pytest.StashKey[dict]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Each phase's report kept on the test, for the page fixtures' clean-up to read."""
    report = yield
    item.stash.setdefault(OUTCOMES, {})[report.when] = report
    return report


def _close(page, request, kind: str) -> None:
    """Close the page's context; a page whose test failed is kept as a screenshot first (and
    that of an earlier failure of a test that passes now is removed)."""
    report = request.node.stash.get(OUTCOMES, {}).get("call")
    test = re.sub(r"[^A-Za-z0-9._-]+", "-", request.node.name)
    name = f"failed-{kind}-{test}"
    try:
        if report is not None and report.failed:
            shoot(page, name)
        else:
            (artefacts() / f"{name}.png").unlink(missing_ok=True)
    finally:
        page.context.close()


@pytest.fixture(scope="session")
def browser():
    sync_api = need_chromium()
    with sync_api.sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


# scrypt at N = 2**10 (tests/unit/console checks the default's cost): the same rules, each
# sign-in 30 times cheaper.
SERVER_ENV = {"REVISIT_ADMIN_TOKEN": ADMIN, "REVISIT_PASSWORD_COST": "10"}


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """A standalone revisit whose platform token is ADMIN."""
    srv = Server(tmp_path_factory.mktemp("console") / "var", env=SERVER_ENV)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def tenant(server):
    """A new tenant of the server, for one test's people and records."""
    return new_tenant(server.base)


@pytest.fixture
def page(browser, request):
    """A desktop-sized page in a context of its own."""
    page = new_page(browser)
    yield page
    _close(page, request, "desktop")


@pytest.fixture
def phone(browser, request):
    """A phone-sized page (390×844, touch) in a context of its own."""
    page = new_phone_page(browser)
    yield page
    _close(page, request, "phone")


@pytest.fixture
def other_page(browser, request):
    """A second desktop-sized page in a context of its own: another person at the same time."""
    page = new_page(browser)
    yield page
    _close(page, request, "other")
