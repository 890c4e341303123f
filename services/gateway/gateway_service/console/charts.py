"""Charts of the console, drawn on the server as SVG (no script, no inline style: the page's
Content-Security-Policy allows neither).

Every chart is horizontal bars of rates (fractions 0..1), each row its label above the bar
and the value as text beside it, so nothing is told by colour alone and a phone 390 px wide
reads it (the drawing scales with its width). The chart is an image for assistive
technology (``role="img"``) named by its ``<title>`` and described by a ``<desc>`` listing
every value. A value outside 0..1 is drawn at the nearer end and written as it is; a missing
one (a rate with no denominator) is drawn as an empty track and written as ``—``. Every
text is escaped.

:func:`rate_bars` draws one list of rates (the period's KPIs, the staff ranking's scores);
:func:`group_bars` the same few rates for each group (region, department or person).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup

WIDTH = 400  # the drawing's own units; the page scales it to the screen
BAR_WIDTH = 300  # a rate of 1 (100%)
BAR_HEIGHT = 14
ROW_HEIGHT = 42  # label line, bar, gap
HEADING_HEIGHT = 26  # a group's name in group_bars
PAD = 8
# Contrast on white: ink 16:1, bar 6.6:1 (≥ 3:1 for graphics), track 1.3:1 (decoration).
INK = "#1b1f24"
BAR = "#0b5cad"
TRACK = "#e3e8ee"
NONE = "—"

Rows = Sequence[tuple[str, float | None]]
Show = Callable[[float | None], str]


def percent(value: float | None) -> str:
    """A fraction as a percentage with one decimal (``0.5`` → ``50.0%``), ``—`` for none."""
    return NONE if value is None else f"{value * 100:.1f}%"


def bar_length(value: float | None) -> float:
    """The drawn length of a rate: 0..:data:`BAR_WIDTH`, clamped; 0 for none."""
    if value is None:
        return 0.0
    return round(BAR_WIDTH * min(max(value, 0.0), 1.0), 1)


def rate_bars(rows: Rows, title: str, *, chart_id: str, show: Show = percent) -> Markup:
    """One bar per ``(label, rate)`` row; ``show`` writes a rate (the page passes its
    language's percentage format); ``chart_id`` makes the ids of its title and description
    unique on the page."""
    body, y = _rows(rows, PAD, show)
    return _svg(chart_id, title, _description(rows, show), body, y + PAD)


def group_bars(
    groups: Sequence[tuple[str, Rows]], title: str, *, chart_id: str, show: Show = percent
) -> Markup:
    """For each ``(group name, rows)``, the group's name and then its bars."""
    parts: list[Markup] = []
    summary: list[str] = []
    y = PAD
    for name, rows in groups:
        parts.append(_text(0, y + 16, name, weight="700"))
        y += HEADING_HEIGHT
        body, y = _rows(rows, y, show)
        parts.append(body)
        summary.append(f"{name}: {_description(rows, show)}")
    return _svg(chart_id, title, "; ".join(summary), Markup("").join(parts), y + PAD)


def _rows(rows: Rows, top: float, show: Show) -> tuple[Markup, float]:
    parts: list[Markup] = []
    y = top
    for label, value in rows:
        bar_top = y + 20
        parts.append(_text(0, y + 14, label))
        parts.append(
            Markup('<rect x="0" y="{}" width="{}" height="{}" fill="{}"/>').format(
                bar_top, BAR_WIDTH, BAR_HEIGHT, TRACK
            )
        )
        length = bar_length(value)
        if length > 0:
            parts.append(
                Markup('<rect class="bar" x="0" y="{}" width="{}" height="{}" fill="{}"/>').format(
                    bar_top, length, BAR_HEIGHT, BAR
                )
            )
        parts.append(_text(BAR_WIDTH + 8, bar_top + BAR_HEIGHT - 2, show(value), weight="600"))
        y += ROW_HEIGHT
    return Markup("").join(parts), y


def _description(rows: Rows, show: Show) -> str:
    return ", ".join(f"{label} {show(value)}" for label, value in rows)


def _text(x: float, y: float, text: str, weight: str = "400") -> Markup:
    return Markup('<text x="{}" y="{}" fill="{}" font-size="14" font-weight="{}">{}</text>').format(
        x, y, INK, weight, text
    )


def _svg(chart_id: str, title: str, description: str, body: Markup, height: float) -> Markup:
    return Markup(
        '<svg class="chart" xmlns="http://www.w3.org/2000/svg" role="img" '
        'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        'aria-labelledby="{id}-title {id}-desc" font-family="system-ui, sans-serif">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>{body}</svg>'
    ).format(
        width=WIDTH,
        height=round(height),
        id=chart_id,
        title=title,
        desc=description,
        body=body,
    )
