"""A real browser for the console tests: Debian's Chromium (``/usr/bin/chromium``, installed
by .ci/run) driven by Playwright, and full-page screenshots kept as test artefacts.

Playwright's own browser download is never used: the browser is the system's.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
# CI (.ci/run) sets this: a missing browser is then a failure, not a skip.
REQUIRED = os.environ.get("REVISIT_REQUIRE_SERVICES") == "1"
# A phone in portrait (the size of a common 6.1" phone, in CSS pixels).
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
# How long one browser action (a click, a navigation, an expectation) may take.
ACTION_TIMEOUT_MS = 20_000


def _missing(message: str) -> None:
    if REQUIRED:
        pytest.fail(f"{message} and REVISIT_REQUIRE_SERVICES=1")
    pytest.skip(message)


def need_chromium():
    """Playwright's synchronous API module, once both it and Debian's Chromium are there;
    otherwise skip (fail in CI)."""
    if not CHROMIUM.exists():
        _missing(f"{CHROMIUM} is missing (apt-get install chromium fonts-noto-cjk; .ci/run does)")
    try:
        from playwright import sync_api
    except ImportError:
        _missing("playwright is not installed; pip install '.[test]'")
    return sync_api


def launch(playwright):
    """A headless Chromium: the system's browser, without the sandbox (tests run as root)."""
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
    )


def new_page(browser, viewport: dict = DESKTOP, **options):
    """A page in a fresh context (no cookies, no storage) of ``viewport`` size."""
    context = browser.new_context(viewport=viewport, **options)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    return context.new_page()


def new_phone_page(browser, **options):
    """A page in a fresh phone-sized context: touch, mobile viewport."""
    return new_page(browser, PHONE, is_mobile=True, has_touch=True, **options)


def artefacts() -> Path:
    """Where the console's screenshots go: ``var/test-artefacts/console`` under the repo, or
    ``$REVISIT_TEST_ARTEFACTS/console``."""
    root = os.environ.get("REVISIT_TEST_ARTEFACTS") or REPO / "var" / "test-artefacts"
    return Path(root) / "console"


def shoot(page, name: str) -> Path:
    """A full-page PNG of ``page`` as ``<artefacts>/<name>.png``; returns its path."""
    if not re.fullmatch(r"[A-Za-z0-9._-]+", name):
        raise ValueError(f"screenshot name {name!r}: letters, digits, '.', '_', '-' only")
    path = artefacts() / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_fits_width(page) -> None:
    """The page lays itself out for the screen's width (a viewport meta tag) and scrolls
    only up and down: nothing wider than the screen."""
    width = page.viewport_size["width"]
    laid_out = page.evaluate("document.documentElement.clientWidth")
    assert laid_out == width, f"laid out {laid_out} px wide on a {width} px screen: no viewport"
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"the page is {scroll} px wide, wider than the screen ({width} px)"


def expect(target, message: str | None = None):
    """Playwright's waiting assertions (``expect(page.locator(...)).to_have_text(...)``):
    they retry until the page shows it (htmx swaps content after a click) or time out, after
    as long as an action may take."""
    from playwright.sync_api import expect as playwright_expect

    playwright_expect.set_options(timeout=ACTION_TIMEOUT_MS)
    return playwright_expect(target, message)
