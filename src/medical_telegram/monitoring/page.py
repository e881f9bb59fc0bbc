"""The Pipeline monitor's page: the numbers of monitor.snapshot() rendered by a Jinja template
(templates/monitor.html), the charts drawn by charts.py as inline SVG. No script and nothing fetched: the page
works with no network at all."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from medical_telegram.monitoring import charts


def _when(value: dt.datetime | None) -> str:
    return f"{value.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC" if value else "never"


def _n(value) -> str:
    return "–" if value is None else f"{value:,}"


def _svg(draw):
    """A chart function whose SVG (built with every text escaped) goes into the page as it is."""
    return lambda *args, **kwargs: Markup(draw(*args, **kwargs))


_templates = Environment(loader=FileSystemLoader(Path(__file__).with_name("templates")),
                         autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
_templates.filters.update(when=_when, n=_n)
_templates.globals.update(bar_chart=_svg(charts.bar_chart), line_chart=_svg(charts.line_chart),
                          status_strip=_svg(charts.status_strip))


def render(snapshot: dict, data_url: str) -> str:
    category_bars = [(c["category"], c["images"]) for c in snapshot["detector"]["categories"]]
    return _templates.get_template("monitor.html").render(s=snapshot, data_url=data_url, category_bars=category_bars)
