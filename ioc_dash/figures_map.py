"""The province map: cameras, sensor stations, incidents and citizen reports over the outline.

Drawn with plain plotly ``scatter`` traces in longitude/latitude (the y axis scaled by
1/cos(latitude) so the province keeps its shape) over the shipped outline: no map tiles, no
geo base map, nothing fetched from the internet.  Points are ``MapPoint``s made by the pure
functions below from the snapshot; one trace per layer and state, so the legend counts them.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dash import html

from agents.indicators.camera import camera_states
from agents.indicators.deadlines import due_status
from ioc_dash.figures import COLORS, FONT_PX, SEVERITIES, badge, figure_layout, rgba
from ioc_dash.figures_alerts import SEVERITY_BADGE, attention, summary
from ioc_dash.figures_env import StationView
from ioc_dash.geo import LatLon, features, rings
from ioc_dash.i18n import t
from streams.core.geography import Province

COS_LAT = math.cos(math.radians(10.0))  # the province lies around 10° N
CAMERA_COLORS = {"online": COLORS["ok"], "offline": COLORS["down"], "flapping": COLORS["degraded"],
                 "unknown": COLORS["unknown"]}
SENSOR_COLORS = {"normal": COLORS["ok"], "alert": COLORS["degraded"], "danger": COLORS["down"],
                 "stale": COLORS["unknown"]}
REPORT_COLORS = {"late": COLORS["down"], "due_soon": COLORS["degraded"], "not_due": COLORS["accent"],
                 "answered": COLORS["muted"]}
SYMBOLS = {"camera": "circle", "sensor": "diamond", "report": "triangle-up", "incident": "circle-open"}
SIZES = {"camera": 9, "sensor": 14, "report": 10, "incident": 30}
LAND, PROVINCE, WATER_EDGE = "#1a2538", "#2a3f5c", "#4d6a90"


@dataclass(frozen=True)
class MapPoint:
    layer: str  # camera | sensor | incident | report
    state: str  # the colour key within the layer
    lat: float
    lon: float
    label: str


def camera_points(rows: Iterable[Mapping[str, Any]], province: Province, now: datetime) -> list[MapPoint]:
    """Every camera of the province file, in its debounced state (silence past its missed heartbeats
    counts as offline)."""
    states = camera_states(rows, province.cameras, now)
    return [MapPoint("camera", states.get(c.code, "unknown"), c.lat, c.lon, c.name) for c in province.cameras]


def sensor_points(views: Iterable[StationView]) -> list[MapPoint]:
    return [MapPoint("sensor", v.state, v.station.lat, v.station.lon, v.station.name) for v in views]


def report_points(rows: Iterable[Mapping[str, Any]], now: datetime) -> list[MapPoint]:
    """Open citizen reports that carry a place: overdue, due soon, open, or answered (waiting to close)."""
    out = []
    for r in rows:
        if r.get("lat") is None or r.get("lon") is None or r["status"] == "closed":
            continue
        if r.get("responded_at") is not None:
            state = "answered"
        elif r.get("deadline") is not None:
            state = due_status(r["reported_at"], r["deadline"], now)
        else:
            state = "not_due"
        out.append(MapPoint("report", state, r["lat"], r["lon"], f"{r['category']} · {r['report_id']}"))
    return out


def incident_points(alerts: Iterable[Mapping[str, Any]], places: Mapping[str, LatLon], now: datetime,
                    lang: str) -> list[MapPoint]:
    """Open alerts that need attention and whose entity has a place."""
    out = []
    for a in attention(alerts, now):
        place = places.get(a["entity"])
        if place is not None:
            out.append(MapPoint("incident", a["severity"], place[0], place[1], summary(a, lang)))
    return out


def outline_traces(outline: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The land around, the province on it, and the national border (dashed)."""
    traces = []
    for kind, fill, line in (("land", LAND, WATER_EDGE), ("province", PROVINCE, WATER_EDGE)):
        xs: list[float | None] = []
        ys: list[float | None] = []
        for f in features(outline, kind):
            for ring in rings(f["geometry"]):
                xs += [p[0] for p in ring] + [None]
                ys += [p[1] for p in ring] + [None]
        if xs:
            traces.append({"type": "scatter", "mode": "lines", "x": xs, "y": ys, "fill": "toself", "fillcolor": fill,
                           "line": {"color": line, "width": 1}, "hoverinfo": "skip", "showlegend": False})
    for f in features(outline, "border"):
        for line in rings(f["geometry"]):
            traces.append({"type": "scatter", "mode": "lines", "x": [p[0] for p in line], "y": [p[1] for p in line],
                           "line": {"color": COLORS["degraded"], "width": 2, "dash": "dash"}, "hoverinfo": "skip",
                           "showlegend": False})
    return traces


def _color(p: MapPoint) -> str:
    if p.layer == "camera":
        return CAMERA_COLORS[p.state]
    if p.layer == "sensor":
        return SENSOR_COLORS[p.state]
    if p.layer == "report":
        return REPORT_COLORS[p.state]
    return COLORS.get(p.state, COLORS["down"])


def _legend(p: MapPoint, lang: str) -> str:
    if p.layer == "incident":
        return t("incident_severity", lang).format(severity=t(f"severity_{p.state}", lang))
    return t(f"{p.layer}_{p.state}", lang)


def point_traces(points: Iterable[MapPoint], lang: str, scale: float = 1.0) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], list[MapPoint]] = {}
    for p in points:
        groups.setdefault((p.layer, p.state), []).append(p)
    order = ["camera", "report", "sensor", "incident"]  # incidents on top
    traces = []
    for (layer, state), pts in sorted(groups.items(), key=lambda kv: (order.index(kv[0][0]),
                                                                      _rank(kv[0][0], kv[0][1]))):
        color = _color(pts[0])
        marker: dict[str, Any] = {"color": color, "symbol": SYMBOLS[layer], "size": round(SIZES[layer] * scale),
                                  "line": {"color": "#0b1220", "width": 1}}
        if layer == "incident":
            marker["line"] = {"color": color, "width": round(4 * scale)}
        traces.append({"type": "scatter", "mode": "markers", "x": [p.lon for p in pts], "y": [p.lat for p in pts],
                       "text": [p.label for p in pts], "hovertemplate": "%{text}<extra></extra>", "marker": marker,
                       "name": f"{_legend(pts[0], lang)} ({len(pts)})", "legendgroup": layer})
    return traces


def _rank(layer: str, state: str) -> int:
    """Quiet states first, so the worst are drawn on top."""
    if layer == "incident":
        return -SEVERITIES.index(state) if state in SEVERITIES else 0
    calm = ("online", "normal", "answered", "not_due", "unknown", "stale")
    return 0 if state in calm else 1


#: where a label goes from its unit's point: the anchor of the text, and the shift in px (at scale 1)
LABEL_SIDES = {"below": ("center", "top", 0, -8), "above": ("center", "bottom", 0, 8),
               "left": ("right", "middle", -8, 0), "right": ("left", "middle", 8, 0)}


def unit_labels(province: Province, scale: float = 1.0) -> list[dict[str, Any]]:
    """The place names drawn on the map, above the markers (annotations are drawn over every trace),
    each on its own dark backing so that it stays legible over markers and the outline.  The province
    file's ``map.labels`` chooses them (unit code -> the side of its point: below, above, left or
    right), each unit named by its short name; without it every unit is named below its point."""
    units = {u.code: u for u in province.units}
    chosen = (province.extra.get("map") or {}).get("labels")
    if chosen is None:
        chosen = dict.fromkeys(units, "below")
    out = []
    for code, side in chosen.items():
        unit = units.get(str(code))
        if unit is None:
            continue
        xanchor, yanchor, dx, dy = LABEL_SIDES.get(str(side), LABEL_SIDES["below"])
        out.append({"x": unit.lon, "y": unit.lat, "text": unit.label, "showarrow": False,
                    "xanchor": xanchor, "yanchor": yanchor, "xshift": dx * scale, "yshift": dy * scale,
                    "font": {"color": rgba(COLORS["fg"], 0.9), "size": round(FONT_PX * scale)},
                    "bgcolor": rgba(COLORS["panel"], 0.55), "borderpad": round(2 * scale)})
    return out


def map_figure(outline: dict[str, Any] | None, province: Province, points: Iterable[MapPoint], lang: str,
               scale: float = 1.0) -> dict[str, Any]:
    b = province.bounds
    pad = 0.05
    layout = figure_layout(
        scale, margin={"l": 0, "r": 0, "t": 0, "b": 0}, showlegend=True, dragmode=False,
        plot_bgcolor="#0a1a2b",
        xaxis={"visible": False, "range": [b.min_lon - pad, b.max_lon + pad], "fixedrange": True,
               "constrain": "domain"},
        yaxis={"visible": False, "range": [b.min_lat - pad, b.max_lat + pad], "scaleanchor": "x",
               "scaleratio": 1 / COS_LAT, "fixedrange": True, "constrain": "domain"},
        legend={"x": 0.01, "y": 0.99, "xanchor": "left", "yanchor": "top", "bgcolor": rgba(COLORS["panel"], 0.85),
                "font": {"size": round(FONT_PX * scale)}, "itemsizing": "constant"},
    )
    layout["annotations"] = unit_labels(province, scale)
    data = outline_traces(outline) + point_traces(points, lang, scale)
    return {"data": data, "layout": layout}


def incident_list(points: Iterable[MapPoint], lang: str, limit: int = 10) -> html.Ul:
    incidents = sorted((p for p in points if p.layer == "incident"), key=lambda p: SEVERITIES.index(p.state))
    items = [html.Li([badge(t(f"severity_{p.state}", lang), SEVERITY_BADGE[p.state]),
                      html.Span(p.label, className="alert-summary", title=p.label)], className="alert-item")
             for p in incidents[:limit]]
    return html.Ul(items or [html.Li(t("no_open_alerts", lang), className="alert-item empty")],
                   className="alert-list", id="incident-list")


def layer_counts(points: Iterable[MapPoint]) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for p in points:
        counts[(p.layer, p.state)] = counts.get((p.layer, p.state), 0) + 1
    return counts
