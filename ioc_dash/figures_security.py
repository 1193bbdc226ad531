"""Security: findings by severity and protection layer, top sources, attack rate per minute, and the
four-layer coverage of each information system.

Inputs are the snapshot's ``finding_counts`` (table ``security_finding``, seen in the last 24 h,
counted per severity, layer and target) and ``findings`` (the worst and newest of them), ``attack_rate``
(``security_window`` per minute and severity, last hour), ``top_sources`` (failed logins per source,
last hour), ``soc_links`` (the layer-4 link to the national monitoring system), and the security
register (``register``: current entries; ``user_states``: who may still act).  Layers are Directive
14/CT-TTg's four.  A finding on a registered system shows the system's level and on-site contact,
and its severity weighted by that level (``agents/indicators/data/register.yaml``): in the table, the
tiles and the layer table alike.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from dash import html

from agents.indicators.register import DUE, MISSING, OK, Entry, Policy, coverage, weighted_severity
from ioc_dash.figures import (COLORS, FONT_PX, SEVERITIES, ago, badge, data_table, empty_figure, figure_layout,
                              local_time, num, tile)
from ioc_dash.figures_alerts import SEVERITY_BADGE, TILE_SEVERITIES
from ioc_dash.i18n import t
from ioc_dash.repository import Snapshot
from streams.core.clock import LOCAL_TZ
from streams.core.geography import System

LAYERS = (1, 2, 3, 4)
#: the symbol each coverage state shows besides its colour (the legend says what it means)
COVERAGE_MARK = {OK: "✓", DUE: "!", MISSING: "✗"}
NO_VALUE = "—"


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


def large_text(figure: dict[str, Any], scale: float) -> dict[str, Any]:
    """``figure`` with every text it draws (axes, legend, notes) at ``FONT_PX`` × ``scale``."""
    size = round(FONT_PX * scale)
    layout = figure["layout"]
    layout["font"] = {**layout.get("font", {}), "size": size}
    layout["legend"] = {**layout.get("legend", {}), "font": {"size": size}}
    for note in layout.get("annotations", ()):
        note["font"] = {**note.get("font", {}), "size": size}
    return figure


def layer_table(finding_counts: list[Mapping[str, Any]], lang: str) -> html.Table:
    """Findings per protection layer (a row each) and severity (a column each, critical to low), the
    counts in the severity's colour; a dot where there are none."""
    layers = by_layer(finding_counts)
    rows = [[t(f"layer_{layer}", lang)] + [badge(num(layers[layer][s]), SEVERITY_BADGE[s]) if layers[layer][s] else "·"
                                            for s in TILE_SEVERITIES] for layer in LAYERS]
    head = [t("layer", lang)] + [t(f"severity_{s}", lang) for s in TILE_SEVERITIES]
    return data_table(head, rows, id="layer-table", numeric=range(1, len(head)))


def attack_rate_figure(rows: list[Mapping[str, Any]], lang: str, scale: float = 1.0) -> dict[str, Any]:
    """Stacked events per minute by severity over the last hour."""
    minutes = sorted({r["time"] for r in rows})
    if not minutes:
        return large_text(empty_figure(t("no_attacks", lang), scale), scale)
    per = {(r["time"], r["severity"]): r["events"] for r in rows}
    xs = [local_time(m, "%H:%M") for m in minutes]
    data = [{"type": "scatter", "mode": "lines", "stackgroup": "one", "x": xs, "y": [per.get((m, s), 0) for m in minutes],
             "name": t(f"severity_{s}", lang), "line": {"color": COLORS[s], "width": 1}}
            for s in reversed(SEVERITIES) if any((m, s) in per for m in minutes)]
    return large_text({"data": data, "layout": figure_layout(
        scale, xaxis={"nticks": 6}, margin={"l": round(50 * scale), "r": round(30 * scale), "t": round(8 * scale),
                                            "b": round(34 * scale)})},
        scale)


def top_sources_table(sources: list[Mapping[str, Any]], now: datetime, lang: str, limit: int | None = None
                      ) -> html.Table:
    """Sources with the most failed logins (the first ``limit``), and how many findings name them."""
    rows = [[str(s["src_ip"]), num(s["failures"]), num(s["targets"]), num(s.get("findings") or 0),
             ago(s.get("last_event"), now, lang)] for s in sources[:limit]]
    head = [t(k, lang) for k in ("src_ip", "failed_logins", "targets", "findings", "last_event")]
    return data_table(head, rows, id="top-sources-table", numeric=range(1, 5), empty=t("none", lang))


# --- findings tied to the register ------------------------------------------------------------------


def onsite_contact(entry: Entry | None) -> str | None:
    """Layer 1 of a system: the roster contact, or else the named users; None when nobody is named."""
    if entry is None:
        return None
    return entry.onsite_contact or ", ".join(entry.onsite_users) or None


def weigh_counts(counts: Iterable[Mapping[str, Any]], register: Sequence[Entry] | None,
                 policy: Policy) -> list[dict[str, Any]]:
    """Rows of (severity, layer, target, n) with the severity weighted by the target's level, so the
    tiles and the layer table count findings as the findings table shows them."""
    levels = {e.system: e.level for e in register or ()}
    return [{**c, "severity": weighted_severity(c["severity"], levels.get(c.get("target")), policy)} for c in counts]


def weigh_findings(findings: Iterable[Mapping[str, Any]], register: Sequence[Entry] | None,
                   policy: Policy) -> list[dict[str, Any]]:
    """Each finding with its target's ``level`` and ``contact`` (None when the target is not a registered
    system, or the register could not be read) and its ``weighted`` severity."""
    entries = {e.system: e for e in register or ()}
    out = []
    for f in findings:
        entry = entries.get(f["target"])
        level = entry.level if entry else None
        out.append({**f, "level": level, "contact": onsite_contact(entry),
                    "weighted": weighted_severity(f["severity"], level, policy)})
    return out


def severity_cell(f: Mapping[str, Any], lang: str) -> Any:
    """The severity shown: the weighted one, after the detected one when the system's level raised it."""
    shown = f.get("weighted") or f["severity"]
    mark = badge(t(f"severity_{shown}", lang), SEVERITY_BADGE[shown])
    if shown == f["severity"]:
        return mark
    why = t("sec_weighted_tip", lang).format(level=f.get("level"), detected=t(f"severity_{f['severity']}", lang))
    return html.Span([html.Span(t(f"severity_{f['severity']}", lang), className="sev-detected"), " → ", mark],
                     className="sev-weighted", title=why)


def findings_table(findings: list[Mapping[str, Any]], now: datetime, lang: str, limit: int = 10) -> html.Table:
    """One row per kind, subject and target (the query groups repeats): the severity (weighted when
    ``weigh_findings`` gave one), the target system's level and on-site contact, how often, first and
    last seen.  Worst (weighted) first."""
    def worst(f: Mapping[str, Any]) -> tuple[int, float]:
        return SEVERITIES.index(f.get("weighted") or f["severity"]), -f["last_seen"].timestamp()

    rows = [[t(f"finding_{f['kind']}", lang), f"{f['subject']} → {f['target']}", severity_cell(f, lang),
             NO_VALUE if f.get("level") is None else str(f["level"]), f.get("contact") or NO_VALUE, str(f["layer"]),
             num(f.get("count") or 1), ago(f.get("first_seen") or f["last_seen"], now, lang),
             ago(f["last_seen"], now, lang)] for f in sorted(findings, key=worst)[:limit]]
    head = [t(k, lang) for k in ("kind", "subject", "severity", "sec_level", "sec_contact", "layer", "times_seen",
                                 "first_seen", "last_event")]
    return data_table(head, rows, id="findings-table", numeric=[3, 5, 6], empty=t("no_findings", lang))


# --- the four layers per system --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CoverageRow:
    system: System
    entry: Entry | None  # None: the system is not in the register
    layers: dict[int, str]  # layer -> ok / due / missing


def coverage_rows(register: Sequence[Entry], users: Mapping[str, bool], systems: Sequence[System], today: date,
                  policy: Policy) -> list[CoverageRow]:
    """One row per system of the province file, in its order: the four layers on ``today`` (the
    province's local day)."""
    entries = {e.system: e for e in register}
    return [CoverageRow(s, entries.get(s.code), coverage(entries.get(s.code), users, today, policy))
            for s in systems]


def coverage_word(state: str, lang: str, policy: Policy) -> str:
    return t(f"coverage_{state}", lang).format(days=policy.due_within_days)


def snapshot_coverage(snapshot: Snapshot, systems: Sequence[System], policy: Policy) -> list[CoverageRow] | None:
    """The grid's rows on the province's local day of the snapshot; None when the register or the users'
    states could not be read (layer 1 cannot be judged without them)."""
    if snapshot.register is None or snapshot.user_states is None:
        return None
    today = snapshot.taken_at.astimezone(LOCAL_TZ).date()
    return coverage_rows(snapshot.register, snapshot.user_states, systems, today, policy)


def _unapproved(row: CoverageRow) -> bool:
    return row.entry is not None and row.entry.level is not None and not row.entry.approved


def _layer_title(row: CoverageRow, layer: int, lang: str, policy: Policy) -> str:
    title = f"{t(f'layer_full_{layer}', lang)}: {coverage_word(row.layers[layer], lang, policy)}"
    if layer == 3 and row.entry is not None and row.entry.next_inspection is not None:
        title += " · " + t("coverage_next_inspection", lang).format(day=row.entry.next_inspection.strftime("%d/%m/%Y"))
    return title


def _level_cell(row: CoverageRow, lang: str) -> html.Td:
    entry = row.entry
    if entry is None or entry.level is None:
        return html.Td(NO_VALUE, className="num cov-level", title=t("coverage_unregistered" if entry is None
                                                                      else "coverage_unclassified", lang))
    return html.Td(f"{entry.level}*" if _unapproved(row) else f"{entry.level}", className="num cov-level",
                   title=t("coverage_not_approved" if _unapproved(row) else "coverage_approved", lang))


def coverage_grid(rows: Sequence[CoverageRow] | None, lang: str, policy: Policy) -> html.Div:
    """The four-layer grid: a row per system (its code, its full name on hover), its security level, and
    a cell per layer coloured and marked ok / due / missing; then the legend.  ``rows`` None: the
    register could not be read."""
    if rows is None:
        return html.Div(t("coverage_unreadable", lang), className="coverage-unreadable", id="coverage-grid")
    name = "name" if lang == "vi" else "name_en"
    head = html.Tr([html.Th(t("system", lang)), html.Th(t("sec_level", lang), className="num")]
                   + [html.Th([html.Div(t("layer_n", lang).format(n=layer)),
                               html.Div(t(f"layer_short_{layer}", lang), className="cov-head-sub")],
                              title=t(f"layer_full_{layer}", lang), className="cov-head") for layer in LAYERS])
    body = [html.Tr([html.Td(r.system.code, className="cov-system", title=getattr(r.system, name)),
                     _level_cell(r, lang)]
                    + [html.Td(COVERAGE_MARK[r.layers[layer]], className=f"cov-cell cov-{r.layers[layer]}",
                               title=_layer_title(r, layer, lang, policy)) for layer in LAYERS],
                    id=f"coverage-{r.system.code}") for r in rows]
    keys = [html.Span([html.Span(COVERAGE_MARK[state], className=f"cov-key cov-{state}"),
                       coverage_word(state, lang, policy)], className="cov-legend-item") for state in (OK, DUE, MISSING)]
    if any(_unapproved(r) for r in rows):
        keys.append(html.Span(t("coverage_star", lang), className="cov-legend-item"))
    legend = html.Div(keys, className="coverage-legend")
    table = html.Table([html.Thead(head), html.Tbody(body)], className="status-table coverage-table",
                       id="coverage-table")
    return html.Div([table, legend], id="coverage-grid")


def soc_link_tile(links: list[Mapping[str, Any]], now: datetime, lang: str) -> html.Div:
    if not links:
        return tile(t("soc_none", lang), t("soc_link", lang), "unknown", id="soc-link", text=True)
    up = all(link["up"] for link in links)
    last = max((link["last_success_at"] for link in links if link.get("last_success_at")), default=None)
    return tile(t("soc_up" if up else "soc_down", lang), t("soc_link", lang), "ok" if up else "down", id="soc-link",
                sub=t("soc_last_success", lang).format(ago=ago(last, now, lang)), text=True)
