"""Small server-side SVG charts for the Pipeline monitor: no JavaScript, no CDN, nothing to download.

Each chart is one `<svg class="chart" data-chart=NAME data-points=N>` string; every point or bar carries a
`<title>`, so a hover shows its value and a test (or a screen reader) can read what was drawn.
"""

from __future__ import annotations

import datetime as dt
from html import escape

PALETTE = ("#017cee", "#e8590c", "#2f9e44", "#ae3ec9", "#f08c00", "#1098ad", "#c92a2a", "#5c940d")
STATUS_COLOURS = {"ok": "#2f9e44", "warning": "#f08c00", "failed": "#c92a2a"}
_PAD_LEFT, _PAD_RIGHT, _PAD_TOP, _PAD_BOTTOM = 44, 12, 10, 34


def _number(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.2f}" if abs(value) < 10 else f"{value:,.0f}"


def _frame(name: str, points: int, width: int, height: int, body: list[str], label: str) -> str:
    return (f'<svg class="chart" data-chart="{escape(name)}" data-points="{points}" role="img" '
            f'aria-label="{escape(label)}" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
            f'xmlns="http://www.w3.org/2000/svg">{"".join(body)}</svg>')


def _empty(name: str, width: int, height: int, message: str) -> str:
    body = [f'<rect x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" fill="none" stroke="#dee2e6"/>',
            f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" fill="#868e96" font-size="12">'
            f'{escape(message)}</text>']
    return _frame(name, 0, width, height, body, message)


def _y_axis(top: float, y_max: float, width: int, height: int, unit: str) -> list[str]:
    plot_h = height - _PAD_TOP - _PAD_BOTTOM
    parts = []
    for share in (0, 0.5, 1):
        y = _PAD_TOP + plot_h * (1 - share)
        parts.append(f'<line x1="{_PAD_LEFT}" x2="{width - _PAD_RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="#e9ecef"/>')
        parts.append(f'<text x="{_PAD_LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10" fill="#495057">'
                     f'{escape(_number(top + (y_max - top) * share))}{escape(unit) if share == 1 else ""}</text>')
    return parts


def line_chart(name: str, series: dict[str, list[tuple[dt.datetime, float]]], *, unit: str = "",
               y_max: float | None = None, width: int = 560, height: int = 190,
               empty: str = "no measurements yet") -> str:
    """One line per series over time (x: datetimes), with a legend under it (four series a row); y from 0 to
    y_max (or the data's max)."""
    series = {label: sorted(points) for label, points in series.items() if points}
    count = sum(len(points) for points in series.values())
    if not count:
        return _empty(name, width, height, empty)
    legend_rows = -(-len(series) // 4)
    plot_bottom = height  # the plot keeps its height; the legend's rows are added below it
    height += 14 * (legend_rows - 1)
    times = [t for points in series.values() for t, _ in points]
    values = [v for points in series.values() for _, v in points]
    t0, t1 = min(times), max(times)
    span = (t1 - t0).total_seconds() or 1.0
    top = y_max if y_max is not None else (max(values) or 1.0) * 1.1
    plot_w = width - _PAD_LEFT - _PAD_RIGHT
    plot_h = plot_bottom - _PAD_TOP - _PAD_BOTTOM

    def xy(t: dt.datetime, v: float) -> tuple[float, float]:
        x = _PAD_LEFT + (plot_w * (t - t0).total_seconds() / span if t1 > t0 else plot_w / 2)
        return x, _PAD_TOP + plot_h * (1 - min(v, top) / top)

    body = _y_axis(0, top, width, plot_bottom, unit)
    for i, (label, points) in enumerate(series.items()):
        colour = PALETTE[i % len(PALETTE)]
        coords = [xy(t, v) for t, v in points]
        if len(coords) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
            body.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.8" points="{path}"/>')
        for (x, y), (t, v) in zip(coords, points, strict=True):
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.6" fill="{colour}"><title>{escape(label)} '
                        f'{t:%Y-%m-%d %H:%M}: {escape(_number(v))}{escape(unit)}</title></circle>')
        legend_x = _PAD_LEFT + (i % 4) * (plot_w / 4)
        legend_y = plot_bottom - 6 + 14 * (i // 4)
        body.append(f'<rect x="{legend_x:.1f}" y="{legend_y - 8}" width="8" height="8" fill="{colour}"/>'
                    f'<text x="{legend_x + 11:.1f}" y="{legend_y}" font-size="10" fill="#212529">'
                    f'{escape(label[:28])}</text>')
    axis_y = plot_bottom - _PAD_BOTTOM + 12
    body.append(f'<text x="{_PAD_LEFT}" y="{axis_y}" font-size="10" fill="#495057">{t0:%Y-%m-%d %H:%M}</text>')
    if t1 > t0:
        body.append(f'<text x="{width - _PAD_RIGHT}" y="{axis_y}" text-anchor="end" font-size="10" '
                    f'fill="#495057">{t1:%Y-%m-%d %H:%M}</text>')
    return _frame(name, count, width, height, body, f"{name}: {count} points in {len(series)} series")


def bar_chart(name: str, bars: list[tuple[str, float]], *, unit: str = "", width: int = 560, height: int = 170,
              empty: str = "nothing to show yet", colour: str = PALETTE[0]) -> str:
    """Vertical bars, one per (label, value), labelled under the first, middle and last bar."""
    if not bars or not any(value for _, value in bars):
        return _empty(name, width, height, empty)
    top = max(value for _, value in bars) or 1.0
    plot_w, plot_h = width - _PAD_LEFT - _PAD_RIGHT, height - _PAD_TOP - _PAD_BOTTOM
    step = plot_w / len(bars)
    body = _y_axis(0, top, width, height, unit)
    marked = {0, len(bars) // 2, len(bars) - 1} if len(bars) > 8 else set(range(len(bars)))
    for i, (label, value) in enumerate(bars):
        bar_h = plot_h * value / top
        x = _PAD_LEFT + i * step + step * 0.12
        body.append(f'<rect class="bar" x="{x:.1f}" y="{_PAD_TOP + plot_h - bar_h:.1f}" width="{step * 0.76:.1f}" '
                    f'height="{bar_h:.1f}" fill="{colour}"><title>{escape(label)}: {escape(_number(value))}'
                    f'{escape(unit)}</title></rect>')
        if i in marked:
            anchor = "middle" if len(marked) == len(bars) or 0 < i < len(bars) - 1 else (
                "start" if i == 0 else "end")
            label_x = {"start": x, "middle": x + step * 0.38, "end": x + step * 0.76}[anchor]
            body.append(f'<text x="{label_x:.1f}" y="{height - _PAD_BOTTOM + 12}" text-anchor="{anchor}" '
                        f'font-size="10" fill="#495057">{escape(label[:14])}</text>')
    return _frame(name, len(bars), width, height, body, f"{name}: {len(bars)} bars")


def status_strip(name: str, history: list[tuple[dt.datetime, str]], *, width: int = 300, height: int = 18) -> str:
    """One square per check, oldest first, coloured by status (ok, warning, failed)."""
    if not history:
        return _empty(name, width, height, "no checks yet")
    history = sorted(history)[-40:]
    size = min(height - 4, (width - 4) / len(history) - 2)
    body = []
    for i, (when, status) in enumerate(history):
        body.append(f'<rect class="status-{escape(status)}" x="{2 + i * (size + 2):.1f}" y="2" width="{size:.1f}" '
                    f'height="{size:.1f}" rx="2" fill="{STATUS_COLOURS.get(status, "#adb5bd")}">'
                    f'<title>{when:%Y-%m-%d %H:%M}: {escape(status)}</title></rect>')
    return _frame(name, len(history), width, height, body, f"{name}: {len(history)} checks")
