"""Security: findings by severity and protection layer, top sources, attack rate per minute.

Inputs are the snapshot's ``finding_counts`` (table ``security_finding``, seen in the last 24 h,
counted per severity and layer) and ``findings`` (the worst and newest of them), ``attack_rate`` (``security_window`` per minute and severity, last hour), ``top_sources``
(failed logins per source, last hour) and ``soc_links`` (the layer-4 link to the national
monitoring system).  Layers are Directive 14/CT-TTg's four.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from dash import html

from ioc_dash.figures import (COLORS, SEVERITIES, ago, badge, data_table, empty_figure, figure_layout, local_time,
                              num, tile)
from ioc_dash.figures_alerts import SEVERITY_BADGE, TILE_SEVERITIES
from ioc_dash.i18n import t

LAYERS = (1, 2, 3, 4)


def severity_counts(counts: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Severity -> findings, from rows of (severity, layer, n)."""
    out = {s: 0 for s in SEVERITIES}
    for row in counts:
        out[row["severity"]] = out.get(row["severity"], 0) + row["n"]
    return out


def by_layer(counts: Iterable[Mapping[str, Any]]) -> dict[int, dict[str, int]]:
    """Layer (1–4) -> severity -> findings, from rows of (severity, layer, n)."""
    out = {layer: {s: 0 for s in SEVERITIES} for layer in LAYERS}
    for row in counts:
        if row["layer"] in out:
            out[row["layer"]][row["severity"]] += row["n"]
    return out


def finding_tiles(finding_counts: list[Mapping[str, Any]], lang: str) -> html.Div:
    counts = severity_counts(finding_counts)
    return html.Div([tile(counts[s], t(f"severity_{s}", lang), SEVERITY_BADGE[s] if counts[s] else "quiet",
                          id=f"findings-{s}") for s in TILE_SEVERITIES], className="tiles")


def layer_figure(finding_counts: list[Mapping[str, Any]], lang: str, scale: float = 1.0) -> dict[str, Any]:
    layers = by_layer(finding_counts)
    labels = [t(f"layer_{layer}", lang) for layer in LAYERS]
    data = [{"type": "bar", "orientation": "h", "y": labels, "x": [layers[layer][s] for layer in LAYERS],
             "name": t(f"severity_{s}", lang), "marker": {"color": COLORS[s]}}
            for s in SEVERITIES if any(layers[layer][s] for layer in LAYERS)]
    if not data:
        return empty_figure(t("no_findings", lang), scale)
    return {"data": data, "layout": figure_layout(scale, barmode="stack", xaxis={"nticks": 6},
                                                  yaxis={"autorange": "reversed", "automargin": True})}


def attack_rate_figure(rows: list[Mapping[str, Any]], lang: str, scale: float = 1.0) -> dict[str, Any]:
    """Stacked events per minute by severity over the last hour."""
    minutes = sorted({r["time"] for r in rows})
    if not minutes:
        return empty_figure(t("no_attacks", lang), scale)
    per = {(r["time"], r["severity"]): r["events"] for r in rows}
    xs = [local_time(m, "%H:%M") for m in minutes]
    data = [{"type": "scatter", "mode": "lines", "stackgroup": "one", "x": xs, "y": [per.get((m, s), 0) for m in minutes],
             "name": t(f"severity_{s}", lang), "line": {"color": COLORS[s], "width": 1}}
            for s in reversed(SEVERITIES) if any((m, s) in per for m in minutes)]
    return {"data": data, "layout": figure_layout(scale, xaxis={"nticks": 12})}


def top_sources_table(sources: list[Mapping[str, Any]], now: datetime, lang: str) -> html.Table:
    """Sources with the most failed logins, and how many findings name them."""
    rows = [[str(s["src_ip"]), num(s["failures"]), num(s["targets"]), num(s.get("findings") or 0),
             ago(s.get("last_event"), now, lang)] for s in sources]
    head = [t(k, lang) for k in ("src_ip", "failed_logins", "targets", "findings", "last_event")]
    return data_table(head, rows, id="top-sources-table", numeric=range(1, 5), empty=t("none", lang))


def findings_table(findings: list[Mapping[str, Any]], now: datetime, lang: str, limit: int = 10) -> html.Table:
    """One row per kind, subject and target (the query groups repeats): how often, first and last seen."""
    worst_first = sorted(findings, key=lambda f: (SEVERITIES.index(f["severity"]), -f["last_seen"].timestamp()))
    rows = [[t(f"finding_{f['kind']}", lang), f"{f['subject']} → {f['target']}",
             badge(t(f"severity_{f['severity']}", lang), SEVERITY_BADGE[f["severity"]]), str(f["layer"]),
             num(f.get("count") or 1), ago(f.get("first_seen") or f["last_seen"], now, lang),
             ago(f["last_seen"], now, lang)] for f in worst_first[:limit]]
    head = [t(k, lang) for k in ("kind", "subject", "severity", "layer", "times_seen", "first_seen", "last_event")]
    return data_table(head, rows, id="findings-table", numeric=[3, 4], empty=t("no_findings", lang))


def soc_link_tile(links: list[Mapping[str, Any]], now: datetime, lang: str) -> html.Div:
    if not links:
        return tile(t("soc_none", lang), t("soc_link", lang), "unknown", id="soc-link", text=True)
    up = all(link["up"] for link in links)
    last = max((link["last_success_at"] for link in links if link.get("last_success_at")), default=None)
    return tile(t("soc_up" if up else "soc_down", lang), t("soc_link", lang), "ok" if up else "down", id="soc-link",
                sub=t("soc_last_success", lang).format(ago=ago(last, now, lang)), text=True)
