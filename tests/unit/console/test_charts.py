"""The console's SVG charts: bar lengths from rates, every value as text, missing values as
"—", labels escaped, an accessible image, nothing the page's CSP forbids."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from markupsafe import Markup

from gateway_service.console.charts import BAR_WIDTH, group_bars, percent, rate_bars

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: Markup) -> ET.Element:
    return ET.fromstring(str(svg))


def bars(root: ET.Element) -> list[float]:
    return [float(r.get("width")) for r in root.iter(f"{SVG}rect") if r.get("class") == "bar"]


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def test_bars_are_as_long_as_their_rates_and_say_them_as_text():
    svg = rate_bars(
        [("Visit completion", 1.0), ("Satisfaction", 0.5), ("Accuracy", 0.125)],
        "Rates",
        chart_id="rates",
    )
    root = parse(svg)
    assert isinstance(svg, Markup)
    assert bars(root) == [BAR_WIDTH, BAR_WIDTH / 2, 37.5]
    assert texts(root) == [
        "Visit completion",
        "100.0%",
        "Satisfaction",
        "50.0%",
        "Accuracy",
        "12.5%",
    ]


def test_a_missing_rate_has_no_bar_and_reads_as_a_dash():
    root = parse(rate_bars([("NPS base", None), ("Done", 0.0)], "Rates", chart_id="c"))
    assert bars(root) == []  # neither None nor 0 draws a bar
    assert texts(root) == ["NPS base", "—", "Done", "0.0%"]
    assert "NPS base —" in root.find(f"{SVG}desc").text


def test_rates_outside_0_to_1_are_drawn_at_the_ends_and_written_as_they_are():
    root = parse(rate_bars([("Growth", 1.5), ("Change", -0.2)], "Rates", chart_id="c"))
    assert bars(root) == [BAR_WIDTH]
    assert texts(root)[1::2] == ["150.0%", "-20.0%"]


def test_labels_and_titles_are_escaped():
    svg = str(rate_bars([("<script>alert(1)</script>", 0.5)], 'A "B" & <C>', chart_id="x"))
    assert "<script>" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert "A &#34;B&#34; &amp; &lt;C&gt;" in svg
    root = parse(Markup(svg))
    assert root.find(f"{SVG}title").text == 'A "B" & <C>'


def test_the_chart_is_a_named_described_image_without_inline_style_or_script():
    svg = rate_bars([("Visit completion", 0.75)], "Rates of March", chart_id="kpi")
    root = parse(svg)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "kpi-title kpi-desc"
    assert root.find(f"{SVG}title").get("id") == "kpi-title"
    assert root.find(f"{SVG}title").text == "Rates of March"
    assert root.find(f"{SVG}desc").text == "Visit completion 75.0%"
    assert not re.search(r"\bstyle=|\bon\w+=|<script", str(svg))


def test_the_page_may_write_the_values_its_own_way():
    root = parse(rate_bars([("A", 0.5)], "T", chart_id="c", show=lambda v: f"{v:.2f}"))
    assert texts(root) == ["A", "0.50"]


def test_group_bars_name_each_group_before_its_bars():
    root = parse(
        group_bars(
            [
                ("east", [("Completion", 1.0), ("Satisfaction", None)]),
                ("<w>", [("Completion", 0.25)]),
            ],
            "By region",
            chart_id="groups",
        )
    )
    assert texts(root) == [
        "east",
        "Completion",
        "100.0%",
        "Satisfaction",
        "—",
        "<w>",
        "Completion",
        "25.0%",
    ]
    assert bars(root) == [BAR_WIDTH, BAR_WIDTH / 4]
    assert root.find(f"{SVG}desc").text == (
        "east: Completion 100.0%, Satisfaction —; <w>: Completion 25.0%"
    )


def test_percent():
    assert percent(None) == "—"
    assert percent(0.3333) == "33.3%"
    assert percent(1) == "100.0%"
