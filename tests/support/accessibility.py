"""The accessibility check every console page passes (issue #16, done-when 5).

Two parts:
- axe-core (bundled by axe-playwright-python) with the WCAG 2.0/2.1 level A and AA rules:
  among them ``label`` (every field has a label), ``color-contrast``, ``button-name``,
  ``link-name``, ``html-has-lang``/``html-lang-valid`` and ``document-title``; plus
  ``tabindex`` (no positive tabindex, so the tab order is the page's order).
- A keyboard walk: from the top of the page, Tab reaches every control that is shown
  (links, buttons, fields), one after the other in the page's order, and each looks
  different while it has the focus (a visible focus indicator).
"""

from __future__ import annotations

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_EXTRA_RULES = ["tabindex"]

# The controls Tab should reach, in the page's order: every link, button and field that is
# shown and enabled (one taken out of the tab order with tabindex=-1 is still expected, and
# so found unreachable), any other element with tabindex >= 0; of a group of radio buttons
# only the checked one, or the first.
CONTROLS_JS = """() => {
  const native = 'a[href], button, input:not([type=hidden]), select, textarea, summary';
  const selector = native + ', [tabindex], [contenteditable=""], [contenteditable=true]';
  // checkVisibility: rendered, not hidden, not in a closed <details> (content-visibility)
  const shown = (el) => el.checkVisibility({ visibilityProperty: true })
    && !el.closest('[inert]');
  const radios = (el) => [...document.querySelectorAll('input[type=radio]')]
    .filter((r) => r.name === el.name && r.form === el.form && shown(r) && !r.disabled);
  return [...document.querySelectorAll(selector)].filter((el) => {
    if (el.disabled || !shown(el)) return false;
    if (el.tabIndex < 0 && !el.matches(native)) return false;
    if (el.type === 'radio' && el.name) {
      const group = radios(el);
      return el === (group.find((r) => r.checked) || group[0]);
    }
    return true;
  });
}"""

# What a control looks like: the properties a focus indicator changes.
LOOK_JS = """(el) => {
  const s = getComputedStyle(el);
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0
    ? `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor} ${s.outlineOffset}` : 'none';
  return [outline, s.boxShadow, s.borderColor, s.borderWidth, s.backgroundColor, s.color,
          s.textDecorationLine].join(' | ');
}"""

DESCRIBE_JS = """(el) => {
  if (!el || el === document.body) return '<body>';
  const text = (el.getAttribute('aria-label') || el.getAttribute('name')
    || (el.type === 'submit' ? el.value : '') || el.textContent || '')
    .trim().replace(/\\s+/g, ' ').slice(0, 40);
  return `<${el.tagName.toLowerCase()}${el.type ? ' type=' + el.type : ''}> ${text}`;
}"""

# A spot before the page's first control that takes the focus without being in the tab
# order: the walk starts there whatever the page focused itself (autofocus). While the walk
# runs, each focus is noted (which control, how it looks, what it is) as it happens.
START_JS = """() => {
  let start = document.getElementById('keyboard-walk-start');
  if (!start) {
    start = document.createElement('span');
    start.tabIndex = -1;
    start.id = 'keyboard-walk-start';
    document.body.prepend(start);
  }
  start.focus();
}"""
LISTEN_JS = f"""(els) => {{
  const noted = [];
  const note = () => {{
    const el = document.activeElement;
    const i = els.indexOf(el);
    noted.push([i, i >= 0 ? ({LOOK_JS})(el) : null, ({DESCRIBE_JS})(el)]);
  }};
  document.addEventListener('focusin', note, true);
  const stop = () => document.removeEventListener('focusin', note, true);
  window.keyboardWalk = {{ noted, stop }};
}}"""
END_JS = """() => {
  window.keyboardWalk?.stop();
  delete window.keyboardWalk;
  document.getElementById('keyboard-walk-start')?.remove();
}"""


def axe_violations(page) -> tuple[list[dict], str]:
    """axe-core's violations on the page as shown now, and its readable report of them."""
    from axe_playwright_python.sync_playwright import Axe  # with Playwright: see need_chromium

    results = Axe().run(
        page,
        options={
            "runOnly": {"type": "tag", "values": AXE_TAGS},
            "rules": {rule: {"enabled": True} for rule in AXE_EXTRA_RULES},
            "resultTypes": ["violations"],
        },
    )
    return results.response["violations"], results.generate_report()


# Tab presses a control may take: a date or time field has a stop for each of its parts
# (day, month, year, hour, ...) and one for its picker.
STOPS_PER_CONTROL = 8
MARGIN = 6  # CSS pixels around a control that its focus indicator may take (outline-offset)


def _around(page, controls, index: int) -> bytes | None:
    """A picture of control ``index`` with a margin (where an outline is drawn)."""
    element = controls.evaluate_handle("(els, i) => els[i]", index).as_element()
    element.scroll_into_view_if_needed()
    box = element.bounding_box()
    if not box or not box["width"] or not box["height"]:
        return None
    clip = {
        "x": max(box["x"] - MARGIN, 0),
        "y": max(box["y"] - MARGIN, 0),
        "width": box["width"] + 2 * MARGIN,
        "height": box["height"] + 2 * MARGIN,
    }
    return page.screenshot(clip=clip, animations="disabled", caret="hide")


def _stops(noted: list) -> list[tuple[int, str, str | None]]:
    """The controls reached, in order, a control's parts (a date field's) counted once."""
    stops: list[tuple[int, str, str | None]] = []
    for index, look, name in noted:
        if stops and index >= 0 and stops[-1][0] == index:
            continue
        stops.append((index, name, look))
    return stops


def _shown_by_picture(page, controls, index: int) -> bool:
    """Whether control ``index`` looks different focused (as by the keyboard) than not."""
    page.evaluate("([els, i]) => els[i].focus({ focusVisible: true })", [controls, index])
    focused = _around(page, controls, index)
    page.evaluate(START_JS)
    return focused != _around(page, controls, index)


def keyboard_walk(page) -> list[str]:
    """Tab through the page from its top; returns the problems found (empty: none).

    Each control must be reached in the page's order (the parts of a date field are one
    stop), and must look different while it has the focus: its outline, shadow, border,
    colours or underline change, or else (a focus the browser draws inside the control, as
    in a date field's parts) its picture does."""
    controls = page.evaluate_handle(CONTROLS_JS)
    try:
        names = page.evaluate(f"(els) => els.map({DESCRIBE_JS})", controls)
        page.evaluate(START_JS)
        resting = page.evaluate(f"(els) => els.map({LOOK_JS})", controls)
        page.evaluate(LISTEN_JS, controls)
        presses, stops = 0, []
        while len(stops) < len(names) and presses <= STOPS_PER_CONTROL * len(names):
            for _ in range(len(names) - len(stops)):
                page.keyboard.press("Tab")
            presses += len(names) - len(stops)
            stops = _stops(page.evaluate("() => window.keyboardWalk.noted"))
        page.evaluate("() => window.keyboardWalk.stop()")
        page.evaluate(START_JS)  # nothing of the page keeps the focus now
        same_look = sorted({i for i, _, look in stops if i >= 0 and look == resting[i]})
        unseen = [i for i in same_look if not _shown_by_picture(page, controls, i)]
    finally:
        page.evaluate(END_JS)
        controls.dispose()
    problems = []
    stops = stops[: len(names)]
    if [index for index, _, _ in stops] != list(range(len(names))):
        problems.append(
            "Tab does not reach the page's controls in order:\n  expected: "
            + "; ".join(names)
            + "\n  reached:  "
            + "; ".join(name for _, name, _ in stops)
        )
    problems += [f"no visible focus indicator on {names[i]}" for i in unseen]
    return problems


def assert_accessible(page) -> None:
    """Fail with a readable report unless the page passes axe-core's WCAG A/AA rules and
    the keyboard walk."""
    violations, report = axe_violations(page)
    assert not violations, report
    problems = keyboard_walk(page)
    assert not problems, "\n".join(problems)
