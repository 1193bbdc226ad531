"""Cameras and the border: cameras by state per area, tracks per border zone and class, the newest
tracks, and the zones drawn over the province outline.

Inputs are the snapshot's ``cameras`` (``camera_state``), ``border_hour`` / ``border_earlier`` (new
tracks per border camera and class) and ``border_tracks`` (the newest tracks of the hour); the
liveness rules and the sums are ``agents.indicators.camera``'s.  A track's snapshot is never linked
to where the camera keeps it: only to the dashboard's ``/snapshots/<camera>/<event id>``.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from dash import html

from agents.indicators.camera import (VIEW_STATES, ZoneCount, above_usual, camera_states, track_duration, usual_level,
                                      view_state)
from ioc_dash.figures import COLORS, ago, badge, data_table, figure_layout, local_time, rgba
from ioc_dash.figures_map import COS_LAT, outline_traces
from ioc_dash.i18n import STRINGS, t
from streams.core.geography import Province

STATE_BADGE = {"online": "ok", "offline": "down", "tampered": "high", "flapping": "degraded", "unknown": "unknown"}
STATE_COLORS = {"online": COLORS["ok"], "offline": COLORS["down"], "tampered": COLORS["high"],
                "flapping": COLORS["degraded"], "unknown": COLORS["unknown"]}
TABLE_STATES = ("online", "offline", "tampered", "flapping")
SNAPSHOT_PATH = "/snapshots"


def label_text(label: str, lang: str) -> str:
    """A detected class in the wall's language; a class the catalogue does not know, as sent."""
    key = f"class_{label}"
    return t(key, lang) if key in STRINGS else label


def rule_text(rule: str, lang: str) -> str:
    """What an analytics rule (``FieldDetector/ObjectsInside``) detects in the wall's language; a rule the
    catalogue does not know, by its name as sent."""
    name = rule.split("/")[0]
    return t(f"rule_{name}", lang) if f"rule_{name}" in STRINGS else name


def snapshot_href(camera: str, event_id: str) -> str:
    return f"{SNAPSHOT_PATH}/{quote(camera, safe='')}/{quote(event_id, safe='')}"


# --- cameras by state per area ----------------------------------------------------------------


#: the areas listed on the border page; the others, none of them with a camera in trouble, share a row
AREA_ROWS = 12


def area_table(per_area: Mapping[str, Mapping[str, int]], province: Province, lang: str,
               limit: int = AREA_ROWS) -> html.Table:
    """One row per area with cameras, those with the most cameras not online first; past ``limit``
    rows the quiet areas are summed in one (an area with a camera offline or tampered is always listed)."""
    names = {u.code: u.label for u in province.units}

    def worst(item: tuple[str, Mapping[str, int]]) -> tuple:
        code, c = item
        return (-c["offline"], -c["tampered"], -c["flapping"], names.get(code, code))

    head = [t("border_col_area", lang), *(t(f"border_col_{s}", lang) for s in TABLE_STATES)]
    areas = sorted(per_area.items(), key=worst)
    total = {s: sum(c[s] for _, c in areas) for s in TABLE_STATES}
    rows = [[t("border_whole_province", lang), *(html.Span(str(total[s]), id=f"border-total-{s}") for s in TABLE_STATES)]]
    classes = ["row-total"]
    troubled = sum(1 for _, c in areas if c["offline"] or c["tampered"])
    listed, rest = (areas, []) if len(areas) <= limit else (areas[:max(limit - 1, troubled)], areas[max(limit - 1, troubled):])
    for code, c in listed:
        rows.append([names.get(code, code), *(str(c[s]) if c[s] else "·" for s in TABLE_STATES)])
        classes.append("row-down" if c["offline"] or c["tampered"] else "")
    ids = ["border-area-total", *(f"border-area-{code}" for code, _ in listed)]
    if rest:
        rows.append([t("border_other_areas", lang).format(n=len(rest)),
                     *(str(sum(c[s] for _, c in rest)) if any(c[s] for _, c in rest) else "·" for s in TABLE_STATES)])
        classes.append("")
        ids.append("border-area-others")
    if not areas:
        rows, classes = [], []
    return data_table(head, rows, id="border-areas-table", numeric=range(1, 5), row_classes=classes,
                      row_ids=ids[:len(rows)], empty=t("border_no_cameras", lang))


def covered(cam: Any, zones: Mapping[str, str]) -> str:
    """What a camera watches: its zone, then the gates and areas in its field of view."""
    return ", ".join(zones.get(code, code) for code in cam.covers or ((cam.zone,) if cam.zone else ()))


def attention_cameras(rows: Iterable[Mapping[str, Any]], province: Province, now: datetime, lang: str,
                      limit: int = 5) -> html.Ul:
    """Border cameras offline, tampered or flapping, worst first, with since when."""
    rows = {r["camera"]: r for r in rows}
    zone_cams = [c for c in province.cameras if c.zone]
    states = camera_states(rows.values(), zone_cams, now)
    zones = {z.code: z.name for z in province.border_zones}
    found = []
    for cam in zone_cams:
        row = rows.get(cam.code) or {}
        state = view_state(states.get(cam.code, "unknown"), row.get("conditions") or ())
        if state in ("offline", "tampered", "flapping"):
            # offline since it was confirmed, reported or, silent, last heard; flapping since it began;
            # a tamper condition's start is not kept, so a tampered camera shows no time
            since = {"offline": row.get("since") if row.get("state") == "offline" else row.get("observed_since")
                     if row.get("observed") == "offline" else row.get("last_seen"),
                     "flapping": row.get("flapping_since")}.get(state)
            found.append((VIEW_STATES.index(state), cam, state, since))
    found.sort(key=lambda f: (f[0], f[1].code))
    items = [html.Li([badge(t(f"border_state_{state}", lang), STATE_BADGE[state]),
                      html.Span(f"{cam.name} · {covered(cam, zones)}", className="alert-summary"),
                      html.Span(f"{cam.code} · {ago(since, now, lang)}" if since else cam.code, className="alert-meta")],
                     className="alert-item", id=f"border-cam-{cam.code}") for _, cam, state, since in found[:limit]]
    if len(found) > limit:
        items.append(html.Li(t("border_more_cameras", lang).format(n=len(found) - limit), className="alert-item more"))
    return html.Ul(items or [html.Li(t("border_cameras_all_well", lang), className="alert-item empty")],
                   className="alert-list", id="border-attention")


# --- tracks per zone and class ------------------------------------------------------------------


def zone_table(counts: Sequence[ZoneCount], province: Province, lang: str, *,
               usual: Mapping[str, Sequence[int]] | None = None, night: bool = False) -> html.Table:
    """One row per border zone: its tracks of the last hour, of the same hour yesterday and of 24
    hours, and under its name the tracks of each class (last hour / 24 h), the busiest first.  A
    zone whose hour is above its usual level for this hour of the week (``usual``: its tracks in
    that hour of earlier weeks) is marked; at night those zones come first, then the busiest."""
    usual = usual or {}
    head = [t("border_col_zone", lang), t("border_col_hour", lang), t("border_col_yesterday", lang),
            t("border_col_day", lang)]
    zones = []
    for zone in (z for z in province.border_zones if z.kind == "zone"):
        mine = [c for c in counts if c.zone == zone.code]
        hour = sum(c.hour for c in mine)
        zones.append((zone, mine, hour, above_usual(hour, usual.get(zone.code, ()))))
    if night:
        zones.sort(key=lambda z: (not z[3], -z[2]))
    rows = []
    for zone, mine, hour, above in zones:
        before = sum(c.hour_yesterday for c in mine)
        classes = [html.Span([label_text(c.label, lang), " ", html.B(str(c.hour)), f"/{c.day}"], className="zone-class")
                   for c in mine if c.hour or c.day]
        mark = (badge(t("border_above_usual", lang).format(usual=f"{usual_level(usual[zone.code]):.1f}"), "down")
                if above else "")
        trend = "up" if hour > before else "down" if hour < before else "flat"
        rows.append([html.Div([html.Div([zone.name, " ", mark], className="zone-name"),
                               html.Div(classes or "—", className="zone-classes muted")]),
                     html.Span(str(hour), className=f"trend-{trend}", id=f"border-hour-{zone.code}"),
                     html.Span(str(before), id=f"border-yesterday-{zone.code}"),
                     html.Span(str(sum(c.day for c in mine)), id=f"border-day-{zone.code}")])
    return data_table(head, rows, id="border-zones-table", numeric=(1, 2, 3),
                      row_ids=[f"border-zone-{z.code}" for z, *_ in zones],
                      row_classes=["row-down" if above else "" for *_, above in zones], empty=t("border_no_zones", lang))


def night_note(hours: tuple[int, int], lang: str) -> html.Div:
    return html.Div(t("border_night_watch", lang).format(start=f"{hours[0]:02d}:00", end=f"{hours[1]:02d}:00"),
                    className="night-note", id="border-night-watch")


# --- the newest tracks ------------------------------------------------------------------------


def duration_text(d: timedelta) -> str:
    s = int(d.total_seconds())
    return f"{s // 60}:{s % 60:02d}" if s < 3600 else f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def snapshot_cell(row: Mapping[str, Any], show: bool, lang: str) -> Any:
    """A link to the track's snapshot through the dashboard, for those allowed to see it; a mark that
    there is one for the others; a dash when the event carries none."""
    if not row.get("snapshot"):
        return "—"
    if not show:
        return html.Span(t("border_snapshot_hidden", lang), className="muted", title=t("border_snapshot_why", lang))
    return html.A(t("border_snapshot_open", lang), href=snapshot_href(row["camera"], row["event_id"]), target="_blank",
                  rel="noopener", className="snapshot-link")


def tracks_table(rows: Iterable[Mapping[str, Any]], province: Province, now: datetime, lang: str, *,
                 show_snapshots: bool, limit: int = 6) -> html.Table:
    cams = {c.code: c for c in province.cameras}
    zones = {z.code: z.name for z in province.border_zones}
    head = [t(k, lang) for k in ("border_col_camera", "border_col_zone", "border_col_class", "border_col_score",
                                 "border_col_time", "border_col_duration", "border_col_snapshot")]
    body = []
    shown = list(rows)[:limit]
    for r in shown:
        cam = cams.get(r["camera"])
        zone = zones.get(cam.zone, cam.zone) if cam and cam.zone else "—"
        rule = rule_text(r["rule"], lang) if r.get("rule") else ""
        label = label_text(r["label"], lang)
        body.append([html.Span(r["camera"], title=cam.name if cam else ""),
                     html.Span(zone, title=zone),
                     html.Span([label, html.Span(f" · {rule}", className="muted") if rule else ""],
                               title=f"{label} · {rule}" if rule else label),
                     f"{r['score']:.2f}" if r.get("score") is not None else "—",
                     local_time(r["started_at"], "%H:%M:%S"),
                     duration_text(track_duration(r["started_at"], r["last_seen"], bool(r.get("ended")), now))
                     + ("" if r.get("ended") else " ▸"),
                     snapshot_cell(r, show_snapshots, lang)])
    return data_table(head, body, id="border-tracks-table", numeric=(3, 4, 5), empty=t("border_no_tracks", lang),
                      row_ids=[f"border-track-{i}" for i in range(len(shown))])


# --- the zones on the outline -------------------------------------------------------------------


def zone_traces(province: Province, hour: Mapping[str, int], lang: str, scale: float = 1.0,
                above: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """Each border zone's, gate's and watched area's polygon, filled by its last hour's tracks: red
    above its usual level, amber with tracks, blue without; the zones' counts by their unit's name."""
    traces: list[dict[str, Any]] = []
    busiest = max(hour.values(), default=0) or 1
    units = {u.code: u.label for u in province.units}
    for z in province.border_zones:
        n = hour.get(z.code, 0)
        color = COLORS["down"] if z.code in above else COLORS["degraded"] if n else COLORS["accent"]
        label = f"{z.name}: {n}"
        short = f"{units.get(z.unit, z.name)}: {n}"
        if z.polygon:
            xs = [p[0] for p in z.polygon] + [z.polygon[0][0]]
            ys = [p[1] for p in z.polygon] + [z.polygon[0][1]]
            kind = t(f"border_area_{z.kind}", lang)
            traces.append({"type": "scatter", "mode": "lines", "x": xs, "y": ys, "fill": "toself",
                           "fillcolor": rgba(color, 0.15 + 0.5 * n / busiest if n else 0.12),
                           "line": {"color": color, "width": round(2 * scale), "dash": "dot" if z.kind == "gate" else "solid"},
                           "text": f"{kind}: {label}", "hoverinfo": "text", "showlegend": False})
        if z.kind == "zone":
            # north of the line the label sits above its zone (over Cambodia), south of it below
            traces.append({"type": "scatter", "mode": "text", "x": [z.lon], "y": [z.lat], "text": [short],
                           "textposition": "top center" if z.lat > 10.45 else "bottom center", "hoverinfo": "skip", "showlegend": False,
                           "textfont": {"color": COLORS["fg"], "size": round(20 * scale)}})
    return traces


def camera_traces(rows: Iterable[Mapping[str, Any]], province: Province, now: datetime, lang: str,
                  scale: float = 1.0) -> list[dict[str, Any]]:
    """The border cameras, one trace per state (the legend counts them), the worst drawn last."""
    rows = {r["camera"]: r for r in rows}
    cams = [c for c in province.cameras if c.zone]
    states = camera_states(rows.values(), cams, now)
    groups: dict[str, list] = {}
    for c in cams:
        groups.setdefault(view_state(states.get(c.code, "unknown"), (rows.get(c.code) or {}).get("conditions")), []).append(c)
    traces = []
    for state in reversed(VIEW_STATES):
        pts = groups.get(state)
        if pts:
            traces.append({"type": "scatter", "mode": "markers", "x": [c.lon for c in pts], "y": [c.lat for c in pts],
                           "text": [c.name for c in pts], "hovertemplate": "%{text}<extra></extra>",
                           "name": f"{t(f'border_state_{state}', lang)} ({len(pts)})",
                           "marker": {"color": STATE_COLORS[state], "size": round((14 if state != "online" else 9) * scale),
                                      "line": {"color": "#0b1220", "width": 1}}})
    return traces


def zone_map(outline: dict[str, Any] | None, province: Province, camera_rows: Iterable[Mapping[str, Any]],
             hour: Mapping[str, int], now: datetime, lang: str, scale: float = 1.0,
             above: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The border strip from Phú Quốc to Giang Thành: zones, gates and border cameras over the outline."""
    pts = [(z.lon, z.lat) for z in province.border_zones] + [p for z in province.border_zones for p in z.polygon or ()]
    pts += [(c.lon, c.lat) for c in province.cameras if c.zone]
    pad_x, pad_y = 0.15, 0.07  # room for the labels at the edges
    xs, ys = [p[0] for p in pts] or [province.bounds.min_lon], [p[1] for p in pts] or [province.bounds.min_lat]
    layout = figure_layout(
        scale, margin={"l": 0, "r": 0, "t": 0, "b": 0}, showlegend=True, dragmode=False, plot_bgcolor="#0a1a2b",
        xaxis={"visible": False, "range": [min(xs) - pad_x, max(xs) + pad_x], "fixedrange": True, "constrain": "domain"},
        yaxis={"visible": False, "range": [min(ys) - pad_y, max(ys) + pad_y], "scaleanchor": "x",
               "scaleratio": 1 / COS_LAT, "fixedrange": True, "constrain": "domain"},
        legend={"x": 0.99, "y": 0.01, "xanchor": "right", "yanchor": "bottom", "orientation": "v",
                "bgcolor": rgba(COLORS["panel"], 0.85), "font": {"size": round(20 * scale)}},
    )
    data = outline_traces(outline) + zone_traces(province, hour, lang, scale, above) + camera_traces(camera_rows, province, now,
                                                                                               lang, scale)
    return {"data": data, "layout": layout}


def zone_hours(counts: Iterable[ZoneCount]) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in counts:
        out[c.zone] = out.get(c.zone, 0) + c.hour
    return out

