"""A small server-rendered SVG bar chart of the last 24 hours of deliveries (no JS needed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

SERIES = (("delivered", "chart__ok"), ("failed", "chart__retry"), ("dead", "chart__dead"))
BAR_W, GAP, HEIGHT = 8, 3, 48


def histogram_svg(histogram: Sequence[Mapping[str, Any]], *, title: str = "Last 24 hours") -> SafeString:
    """Stacked bars per hour: delivered (green), failed attempts (amber), dead-lettered (red)."""
    totals = {name: sum(int(b.get(name, 0)) for b in histogram) for name, _ in SERIES}
    peak = max([sum(int(b.get(n, 0)) for n, _ in SERIES) for b in histogram] + [1])
    bars = []
    for index, bucket in enumerate(histogram):
        x = index * (BAR_W + GAP)
        y = HEIGHT
        rects = []
        for name, css in SERIES:
            value = int(bucket.get(name, 0))
            if not value:
                continue
            # At least 2 px so a single failure among thousands stays visible.
            h = max(2.0, round(value / peak * (HEIGHT - 2), 1))
            y -= h
            rects.append(format_html('<rect class="{}" x="{}" y="{}" width="{}" height="{}" rx="1.5"></rect>',
                                     css, x, round(y, 1), BAR_W, h))
        if not rects:
            rects.append(format_html('<rect class="chart__empty" x="{}" y="{}" width="{}" height="2" rx="1"></rect>',
                                     x, HEIGHT - 2, BAR_W))
        hour = bucket.get("hour")
        label = f"{hour:%H:00} UTC" if hour is not None else ""
        tip = (f"{label}: {bucket.get('delivered', 0)} delivered, {bucket.get('failed', 0)} failed, "
               f"{bucket.get('dead', 0)} dead-lettered")
        bars.append(format_html("<g><title>{}</title>{}</g>", tip, format_html_join("", "{}", ((r,) for r in rects))))
    width = len(histogram) * (BAR_W + GAP) - GAP if histogram else 0
    summary = (f"{title}: {totals['delivered']} delivered, {totals['failed']} failed, "
               f"{totals['dead']} dead-lettered")
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" preserveAspectRatio="none" role="img" aria-label="{}">{}</svg>',
        max(width, 1), HEIGHT, summary, format_html_join("", "{}", ((b,) for b in bars)),
    )
