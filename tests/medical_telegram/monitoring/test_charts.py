"""The monitor's SVG charts: what they draw is what they were given, escaped, and valid XML."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

from medical_telegram.monitoring import charts

SVG = "{http://www.w3.org/2000/svg}"
T0 = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_line_chart_draws_every_point_with_its_value():
    series = {"marts": [(T0, 1.0), (T0 + dt.timedelta(hours=2), 0.5)], "raw": [(T0 + dt.timedelta(hours=1), 0.75)]}
    root = parse(charts.line_chart("quality", series, y_max=1.0))
    assert root.get("data-chart") == "quality" and root.get("data-points") == "3"
    titles = [c.find(f"{SVG}title").text for c in root.iter(f"{SVG}circle")]
    assert titles == ["marts 2026-12-01 00:00: 1", "marts 2026-12-01 02:00: 0.50", "raw 2026-12-01 01:00: 0.75"]
    assert len(list(root.iter(f"{SVG}polyline"))) == 1  # a single point is a dot, not a line
    ys = {c.find(f"{SVG}title").text.split(":")[-1].strip(): float(c.get("cy")) for c in root.iter(f"{SVG}circle")}
    assert ys["1"] < ys["0.75"] < ys["0.50"]  # higher values are drawn higher


def test_bar_chart_heights_follow_the_values_and_labels_are_escaped():
    root = parse(charts.bar_chart("posts", [("<b>x</b>", 10), ("2026-01-02", 5), ("2026-01-03", 0)]))
    bars = list(root.iter(f"{SVG}rect"))
    heights = [float(b.get("height")) for b in bars]
    assert heights[0] == 2 * heights[1] and heights[2] == 0
    assert bars[0].find(f"{SVG}title").text == "<b>x</b>: 10"  # text, not markup
    assert "<b>" not in charts.bar_chart("posts", [("<b>x</b>", 1)])


def test_empty_charts_say_so():
    for svg in (charts.line_chart("api", {}), charts.bar_chart("cats", []), charts.bar_chart("zero", [("a", 0)])):
        root = parse(svg)
        assert root.get("data-points") == "0" and root.find(f"{SVG}text").text


def test_status_strip_colours_each_check():
    root = parse(charts.status_strip("api", [(T0, "ok"), (T0 + dt.timedelta(minutes=15), "failed")]))
    assert [r.get("class") for r in root.iter(f"{SVG}rect")] == ["status-ok", "status-failed"]
