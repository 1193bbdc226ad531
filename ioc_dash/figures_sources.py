"""Sources: is each feed's data correct, complete, clean and live (Guidance 1709/BKHCN-CĐSQG)?

The four checks per feed come from ``agents.indicators.sources.source_health`` (``figures.source_healths``);
the chart is what each feed delivered per minute over the last hour (``source_rate``).
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from dash import html

from agents.indicators.sources import SourceHealth
from streams.core.families import FAMILIES
from streams.core.windows import window_start
from ioc_dash.figures import (SOURCE_BADGE, ago, badge, data_table, empty_figure, figure_layout, local_time, pct,
                              rate)
from ioc_dash.i18n import t

CHECKS = ("correct", "complete", "clean", "live")
FEED_COLORS = {f.name: f.colour for f in FAMILIES}


def check_badge(ok: bool | None) -> html.Span:
    return badge("—", "unknown") if ok is None else badge("✓", "ok") if ok else badge("✗", "down")


def checks_table(healths: list[SourceHealth], now: datetime, lang: str) -> html.Table:
    """Every feed with its four checks, rate against expectation, rejected and duplicate shares."""
    head = [t("source", lang), t("status", lang), *(t(f"check_{c}", lang) for c in CHECKS),
            *(t(k, lang) for k in ("rate", "expected", "rejected", "duplicates", "last_arrival"))]
    rows = [[t(f"feed_{h.source}", lang), badge(t(f"source_{h.status}", lang), SOURCE_BADGE[h.status]),
             *(check_badge(getattr(h, c)) for c in CHECKS),
             rate(h.received_per_s), rate(h.expected_per_s), pct(h.rejected_share), pct(h.duplicate_share),
             ago(h.last_arrival, now, lang)] for h in healths]
    return data_table(head, rows, id="source-checks-table", numeric=range(6, 11),
                      row_ids=[{"type": "source-check", "source": h.source} for h in healths])


def rate_figure(rows: list[Mapping[str, Any]], families: list[str], now: datetime, lang: str,
                scale: float = 1.0) -> dict[str, Any]:
    """Events per second of each feed, per complete minute, on a log scale (feeds differ by orders of
    magnitude)."""
    current = window_start(now, 60)
    minutes = sorted({r["minute"] for r in rows if r["minute"] < current})
    if not minutes:
        return empty_figure(t("no_arrivals", lang), scale)
    per = {(r["minute"], r["source"]): r["received"] / 60 for r in rows}
    xs = [local_time(m, "%H:%M") for m in minutes]
    data = [{"type": "scatter", "mode": "lines", "x": xs, "y": [per.get((m, f)) for m in minutes],
             "name": t(f"feed_{f}", lang), "line": {"color": FEED_COLORS.get(f, "#8ea0b8"), "width": 2 * scale}}
            for f in families if any((m, f) in per for m in minutes)]
    return {"data": data, "layout": figure_layout(scale, yaxis={"type": "log", "dtick": 1},
                                                  xaxis={"nticks": 12})}
