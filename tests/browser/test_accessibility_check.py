"""The browser layer checks itself on small pages of its own: the accessibility check passes
an accessible page and names each fault it is meant to find; screenshots are whole pages;
the phone page is phone-sized."""

from __future__ import annotations

import struct

import pytest

from tests.support.accessibility import assert_accessible, axe_violations, keyboard_walk
from tests.support.browser import PHONE, assert_fits_width, shoot

VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1">'
STYLE = "body { color: #1a1a1a; background: #ffffff; font: 16px sans-serif; }"


def html(body: str, *, lang: str = ' lang="en"', style: str = "") -> str:
    return (
        f"<!doctype html><html{lang}><head><title>Check</title>{VIEWPORT}"
        f"<style>{STYLE}{style}</style></head><body><main>{body}</main></body></html>"
    )


GOOD_FORM = """
<h1>Sign in</h1>
<form>
  <label for="tenant">Organisation</label> <input id="tenant" name="tenant">
  <label for="staff_id">Staff id</label> <input id="staff_id" name="staff_id" autofocus>
  <label for="password">Password</label>
  <input id="password" name="password" type="password">
  <fieldset><legend>Language</legend>
    <input type="radio" id="zh" name="locale" value="zh-CN" checked><label for="zh">中文</label>
    <input type="radio" id="en" name="locale" value="en"><label for="en">English</label>
  </fieldset>
  <button type="submit">Sign in</button>
</form>
<p><a href="#help">Help</a></p>
"""


def test_an_accessible_page_passes(page):
    page.set_content(html(GOOD_FORM))
    assert_accessible(page)
    # The walk leaves the page as it found it.
    assert page.locator("#keyboard-walk-start").count() == 0


@pytest.mark.parametrize(
    ("body", "lang", "style", "rule"),
    [
        ('<label>Name</label><input name="name">', ' lang="en"', "", "label"),
        ('<p style="color:#bbbbbb">Faint text</p>', ' lang="en"', "", "color-contrast"),
        ("<button></button>", ' lang="en"', "", "button-name"),
        ('<a href="#x"></a>', ' lang="en"', "", "link-name"),
        ("<p>No language</p>", "", "", "html-has-lang"),
        ("<p>Bad language</p>", ' lang="xx-nonsense-1"', "", "html-lang-valid"),
        ('<button tabindex="3">First?</button>', ' lang="en"', "", "tabindex"),
    ],
)
def test_axe_names_each_fault(page, body, lang, style, rule):
    page.set_content(html(body, lang=lang, style=style))
    violations, report = axe_violations(page)
    assert [v["id"] for v in violations] == [rule], report
    with pytest.raises(AssertionError, match=rule):
        assert_accessible(page)


def test_keyboard_walk_finds_a_control_tab_skips(page):
    page.set_content(
        html('<button>One</button> <button tabindex="-1">Mouse only</button> <a href="#t">Two</a>')
    )
    problems = keyboard_walk(page)
    assert len(problems) == 1
    assert problems[0].startswith("Tab does not reach the page's controls in order")
    assert "<button type=submit> Mouse only" in problems[0]


def test_keyboard_walk_finds_a_hidden_focus(page):
    page.set_content(
        html(
            '<button>Shown</button> <button class="bare">Hidden focus</button>',
            style=".bare:focus { outline: none; }",
        )
    )
    assert keyboard_walk(page) == [
        "no visible focus indicator on <button type=submit> Hidden focus"
    ]


def test_keyboard_walk_accepts_a_focus_ring_of_the_page_own(page):
    page.set_content(
        html(
            '<button class="ring">Ringed</button>',
            style=".ring:focus { outline: none; box-shadow: 0 0 0 3px #1a4fd6; }",
        )
    )
    assert keyboard_walk(page) == []


def test_keyboard_walk_takes_a_date_field_as_one_control(page):
    # Tab stops at each part of a date or time field; the browser marks the part.
    page.set_content(
        html(
            '<label for="d">Day</label><input id="d" type="date">'
            '<label for="t">At</label><input id="t" type="datetime-local">'
            "<button>After</button>"
        )
    )
    assert keyboard_walk(page) == []


def test_keyboard_walk_ignores_what_is_not_shown(page):
    page.set_content(
        html(
            '<button>Shown</button><button style="display:none">Gone</button>'
            "<div inert><button>Inert</button></div><button disabled>Off</button>"
            "<details><summary>More</summary><button>Folded</button></details>"
            '<button style="visibility: hidden">Invisible</button>'
        )
    )
    assert keyboard_walk(page) == []


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_shoot_keeps_the_whole_page(page, tmp_path, monkeypatch):
    monkeypatch.setenv("REVISIT_TEST_ARTEFACTS", str(tmp_path))
    page.set_content(html('<div style="height: 2000px">Tall</div>'))
    path = shoot(page, "tall-page")
    assert path == tmp_path / "console" / "tall-page.png"
    width, height = png_size(path.read_bytes())
    assert width == page.viewport_size["width"]
    assert height > 2000 > page.viewport_size["height"]
    with pytest.raises(ValueError):
        shoot(page, "../escape")


def test_the_phone_page_is_phone_sized(phone):
    phone.set_content(html("<p>Small</p>"))
    assert phone.viewport_size == PHONE
    assert phone.evaluate("[innerWidth, innerHeight]") == [PHONE["width"], PHONE["height"]]
    assert phone.evaluate("matchMedia('(pointer: coarse)').matches") is True
    assert_fits_width(phone)


def test_fits_width_finds_a_page_wider_than_the_phone(phone):
    phone.set_content(html('<table><tr><td style="min-width: 600px">Wide</td></tr></table>'))
    with pytest.raises(AssertionError, match="wider than the screen"):
        assert_fits_width(phone)


def test_fits_width_finds_a_page_laid_out_for_a_desktop(phone):
    phone.set_content(html("<p>Small</p>").replace(VIEWPORT, ""))
    with pytest.raises(AssertionError, match="viewport"):
        assert_fits_width(phone)
