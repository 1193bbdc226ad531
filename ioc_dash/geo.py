"""Where things are: the province outline the project ships, and the places of entities.

The wall's map needs no tiles from the internet: it draws the outline GeoJSON next to the province file
(named by ``map.outline`` in the province file; made by ``deploy/tools/map_outline.py`` from
GSHHG coastlines) under its points.  ``locations`` gives a place to every entity an alert can be
about: cameras, camera sites, stations, border zones, network links, units and communes.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from streams.core.geography import Province
from streams.core.errors import ConfigError

LatLon = tuple[float, float]


def outline_path(province_file: Path, province: Province) -> Path | None:
    """The outline file named in the province file (relative to it), if any."""
    name = (province.extra.get("map") or {}).get("outline")
    return Path(province_file).parent / name if name else None


def load_outline(path: Path | None) -> dict[str, Any] | None:
    """The outline GeoJSON (a FeatureCollection), or None when the province has none."""
    if path is None:
        return None
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"map outline not found: {path}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"map outline {path} is not JSON: {exc}") from None
    if doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise ConfigError(f"map outline {path}: expected a GeoJSON FeatureCollection")
    return doc


def rings(geometry: dict[str, Any]) -> list[list[list[float]]]:
    """The outer rings of a Polygon or MultiPolygon, the line of a LineString."""
    kind, coords = geometry.get("type"), geometry.get("coordinates") or []
    if kind == "Polygon":
        return [coords[0]] if coords else []
    if kind == "MultiPolygon":
        return [poly[0] for poly in coords if poly]
    if kind == "LineString":
        return [coords]
    return []


def features(outline: dict[str, Any] | None, kind: str) -> list[dict[str, Any]]:
    return [f for f in (outline or {}).get("features", []) if (f.get("properties") or {}).get("kind") == kind]


def locations(province: Province) -> dict[str, LatLon]:
    """Entity code -> (lat, lon) for everything the province file places."""
    former = {u.code: (u.lat, u.lon) for u in province.divisions.units}  # an alert may name a former unit
    units = {**former, **{u.code: (u.lat, u.lon) for u in province.units}}
    out: dict[str, LatLon] = dict(units)
    out.update({c.code: units[c.parent] for c in province.communes if c.parent in units})
    out.update({n.code: units[n.unit] for n in province.networks if n.unit in units})
    out.update({z.code: (z.lat, z.lon) for z in province.border_zones})
    out.update({s.code: (s.lat, s.lon) for s in province.stations})
    for cam in province.cameras:
        out[cam.code] = (cam.lat, cam.lon)
        out.setdefault(cam.site, (cam.lat, cam.lon))
    return out
