"""The province description: units, information systems (with topology), cameras, sensors,
agencies, dossier units and procedures.  Everything is checked when loaded: codes unique and
well-formed, references known, coordinates inside the province.

A province file may name the files of the territory before it (``province.predecessors``) and map
their units to its own (``successors``): loaded together they give :class:`Divisions`, every unit
the province has had with its validity, so an event is checked against the unit valid on its day
(docs/geography.md)."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from collections.abc import Callable
from typing import Any


from streams.core.clock import LOCAL_TZ_NAME
from streams.core.divisions import Divisions, DivisionsError, Succession
from streams.core.errors import ConfigError
from streams.core.yamlfile import read_yaml
from streams.core.validation import Bounds


@dataclass(frozen=True, slots=True)
class Unit:
    code: str
    name: str
    kind: str
    lat: float
    lon: float
    valid_from: date | None = None
    valid_to: date | None = None
    border: bool = False
    island: bool = False
    parent: str | None = None  # a commune's district, in the three-tier days
    short: str | None = None  # the name without its kind (Giang Thành for Xã Giang Thành), where space is short

    @property
    def label(self) -> str:
        return self.short or self.name

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day <= self.valid_to)

    def period(self) -> str:
        return f"{self.valid_from or '…'} – {self.valid_to or '…'}"


@dataclass(frozen=True, slots=True)
class System:
    code: str
    name: str
    name_en: str
    endpoints: tuple[str, ...]
    parent: str | None = None
    office_hours: bool = False


@dataclass(frozen=True, slots=True)
class Network:
    """A network link (a camera's parent): when it is down its cameras are unreachable."""

    code: str
    name: str
    unit: str
    parent: str | None = None


ZONE_KINDS = ("zone", "gate", "area")  # a border or coastal zone, a border gate, another watched area


@dataclass(frozen=True, slots=True)
class BorderZone:
    """A watched zone; ``lat``/``lon`` is where its name is drawn, ``polygon`` its shape as
    (lon, lat) points, GeoJSON order, the ring left open."""

    code: str
    name: str
    unit: str
    lat: float
    lon: float
    kind: str = "zone"
    polygon: tuple[tuple[float, float], ...] = ()


#: seconds between a camera's status heartbeats when neither its site nor its model says otherwise
DEFAULT_HEARTBEAT_S = 300.0


@dataclass(frozen=True, slots=True)
class CameraModel:
    """A kind of camera (with its VMS link): how often it re-sends its status."""

    code: str
    name: str
    heartbeat_s: float = DEFAULT_HEARTBEAT_S


@dataclass(frozen=True, slots=True)
class Camera:
    code: str
    name: str
    site: str
    unit: str
    lat: float
    lon: float
    parent: str
    zone: str | None = None
    coast: bool = False
    rules: tuple[str, ...] = ()
    model: str | None = None
    covers: tuple[str, ...] = ()  # its field of view: the watched zones, gates and areas it sees (its zone first)
    heartbeat_s: float = DEFAULT_HEARTBEAT_S  # the status heartbeat it promises: its liveness comes from it


@dataclass(frozen=True, slots=True)
class Station:
    """A sensor station; ``params`` holds the kind-specific numbers (levels, tide, salinity …)."""

    code: str
    name: str
    kinds: tuple[str, ...]
    unit: str
    lat: float
    lon: float
    params: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Agency:
    code: str
    name: str
    categories: tuple[str, ...] = ()
    dossiers: bool = False


@dataclass(frozen=True, slots=True)
class Commune:
    code: str
    name: str
    parent: str


@dataclass(frozen=True, slots=True)
class Procedure:
    code: str
    name: str
    level: str
    online: str | None
    days: int
    weight: float = 1.0
    agency: str | None = None


@dataclass(frozen=True, slots=True)
class Province:
    code: str
    name: str
    timezone: str
    bounds: Bounds
    units: tuple[Unit, ...]
    systems: tuple[System, ...]
    networks: tuple[Network, ...] = ()
    camera_models: tuple[CameraModel, ...] = ()
    border_zones: tuple[BorderZone, ...] = ()
    cameras: tuple[Camera, ...] = ()
    stations: tuple[Station, ...] = ()
    agencies: tuple[Agency, ...] = ()
    communes: tuple[Commune, ...] = ()
    procedures: tuple[Procedure, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    valid_from: date | None = None
    valid_to: date | None = None
    #: every unit of this file and of its predecessors, with validity and successions
    divisions: Divisions = field(default_factory=lambda: Divisions(()))
    #: (valid_from, valid_to, name) of this file's province and of its predecessors'
    periods: tuple[tuple[date | None, date | None, str], ...] = ()

    def name_on(self, day: date) -> str:
        """The province's name on ``day``: a predecessor's before this file took effect."""
        return next((name for start, end, name in self.periods
                     if (start is None or start <= day) and (end is None or day <= end)), self.name)

    def units_on(self, day: date) -> tuple[Unit, ...]:
        """The units valid on ``day``: this file's, or its predecessors' before it took effect."""
        return self.divisions.on(day)

    def unit_on(self, code: str, day: date) -> Unit | None:
        return self.divisions.unit_on(code, day)

    def current_unit(self, code: str, day: date) -> tuple[Unit, ...]:
        """The units valid on ``day`` that ``code`` (a unit valid then, or one that ended) is or became."""
        return self.divisions.current(code, day)

    def successors(self, code: str) -> tuple[str, ...]:
        return self.divisions.successors(code)

    def place(self, lon: float, lat: float, day: date) -> Unit | None:
        return self.divisions.place(lon, lat, day)

    def names(self) -> dict[str, str]:
        """Code -> the place or thing's name, for every entity a figure or an alert can be about (units,
        communes, agencies, stations, cameras, border zones, network links, systems)."""
        out: dict[str, str] = {}
        out.update((u.code, u.name) for u in self.divisions.units)  # former units too: history names them
        for group in (self.units, self.communes, self.agencies, self.stations, self.cameras, self.border_zones,
                      self.networks, self.systems):
            out.update((x.code, x.name) for x in group)
        return out

    def system(self, code: str) -> System:
        for s in self.systems:
            if s.code == code:
                return s
        raise KeyError(code)


def _require(doc: dict, key: str, where: str) -> Any:
    if key not in doc:
        raise ConfigError(f"{where}: missing '{key}'")
    return doc[key]


def load_province(path: Path, *, _seen: frozenset[Path] = frozenset()) -> Province:
    """The province file at ``path``, with the files it names as its predecessors."""
    path = Path(path)
    doc = read_yaml(path, "province file", "IOC_PROVINCE_FILE")
    if not isinstance(doc, dict):
        raise ConfigError(f"province file {path}: expected a mapping at the top")
    where = str(path)
    prov = _require(doc, "province", where)
    b = _require(prov, "bounds", f"{where}: province")
    bounds = Bounds(b["min_lon"], b["min_lat"], b["max_lon"], b["max_lat"])
    valid_from, valid_to = _day(prov, "valid_from", where), _day(prov, "valid_to", where)
    try:
        units = tuple(Unit(**{"valid_from": valid_from, "valid_to": valid_to, **u}) for u in _require(doc, "units", where))
        systems = tuple(
            System(
                code=s["code"], name=s["name"], name_en=s.get("name_en", s["name"]),
                endpoints=tuple(s.get("endpoints") or ["/"]), parent=s.get("parent"),
                office_hours=bool(s.get("office_hours", False)),
            )
            for s in _require(doc, "systems", where)
        )
    except (TypeError, KeyError) as exc:
        raise ConfigError(f"{where}: bad unit or system entry: {exc}") from None
    codes = {s.code for s in systems}
    for s in systems:
        if s.parent and s.parent not in codes:
            raise ConfigError(f"{where}: system {s.code!r} has unknown parent {s.parent!r}")
    if len(codes) != len(systems):
        raise ConfigError(f"{where}: two systems share a code")
    if len({u.code for u in units}) != len(units):
        raise ConfigError(f"{where}: two units share a code")
    parts = _load_parts(doc, where, bounds, {u.code for u in units}, codes)
    _check_labels(doc, where, {u.code for u in units})
    before = _predecessors(path, prov, _seen)
    return Province(
        code=str(prov["code"]), name=prov["name"], timezone=prov.get("timezone", LOCAL_TZ_NAME),
        bounds=bounds, units=units, systems=systems, **parts,
        extra={k: v for k, v in doc.items() if k not in ("province", "units", "systems", "successors", *PARTS)},
        valid_from=valid_from, valid_to=valid_to,
        divisions=_divisions(path, doc, units, parts["communes"], (valid_from, valid_to), before),
        periods=((valid_from, valid_to, str(prov["name"])), *(p for b in before for p in b.periods)),
    )


#: where a map label may go from its unit's point
LABEL_SIDES = ("below", "above", "left", "right")


def _check_labels(doc: dict, where: str, unit_codes: set[str]) -> None:
    labels = (doc.get("map") or {}).get("labels") or {}
    if not isinstance(labels, dict):
        raise ConfigError(f"{where}: map labels: a mapping of unit code -> side ({', '.join(LABEL_SIDES)})")
    for code, side in labels.items():
        if str(code) not in unit_codes:
            raise ConfigError(f"{where}: map labels: unknown unit {code!r}")
        if side not in LABEL_SIDES:
            raise ConfigError(f"{where}: map labels: side of {code} must be one of {', '.join(LABEL_SIDES)}")


def _day(doc: dict, key: str, where: str) -> date | None:
    value = doc.get(key)
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{where}: province {key} must be a date (YYYY-MM-DD), got {value!r}") from None


def _predecessors(path: Path, prov: dict, seen: frozenset[Path]) -> list[Province]:
    """The provinces of the files ``province.predecessors`` names (relative to ``path``)."""
    where = str(path)
    names = prov.get("predecessors") or []
    if not isinstance(names, list):
        raise ConfigError(f"{where}: province predecessors must be a list of file names")
    out = []
    for name in names:
        pred = (path.parent / str(name)).resolve()
        if pred in seen or pred == path.resolve():
            raise ConfigError(f"{where}: predecessor {name} is the file itself or one of its successors")
        out.append(load_province(pred, _seen=seen | {path.resolve()}))
    return out


def _divisions(path: Path, doc: dict, units: tuple[Unit, ...], communes: tuple[Commune, ...],
               valid: tuple[date | None, date | None], predecessors: list[Province]) -> Divisions:
    """This file's units (and its dossier communes, as units of its period), its predecessors' and the
    successions between them, checked: no code names two units on one day, every successor is a
    unit valid the day after its predecessor ended, and every unit that ended the day before this
    file took effect has its successors listed."""
    where = str(path)
    by_code = {u.code: u for u in units}
    history = list(units) + [
        Unit(code=c.code, name=c.name, kind="commune", lat=by_code[c.parent].lat, lon=by_code[c.parent].lon,
             valid_from=valid[0], valid_to=valid[1], parent=c.parent)
        for c in communes if c.code not in by_code]
    before = [u for p in predecessors for u in p.divisions.units]
    try:
        successions = {str(old): Succession(str(old), tuple(str(c) for c in (s or {}).get("units") or ()),
                                            bool((s or {}).get("approximate", False)))
                       for old, s in (doc.get("successors") or {}).items()}
    except AttributeError:
        raise ConfigError(f"{where}: successors: each entry is {{units: [codes], approximate: bool}}") from None
    try:
        divisions = Divisions(before + history, successions)
    except DivisionsError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    if valid[0] is not None:
        eve = valid[0] - timedelta(days=1)
        for u in before:
            if u.valid_to == eve and u.code not in successions and divisions.unit_on(u.code, valid[0]) is None:
                raise ConfigError(f"{where}: unit {u.code} ({u.name}) ended {eve} and has no successors listed")
    return divisions


# --- cameras, sensors, agencies, dossier units ------------------------------------------------

PARTS = ("networks", "camera_models", "border_zones", "camera_sites", "stations", "agencies", "communes", "procedures")
STATION_KINDS = ("water_level", "salinity", "rain", "air", "weather")
LEVELS = ("province", "district", "commune")
ONLINE_KINDS = {"full_process": "full_process", "partial": "partial", "none": None}
ZONE_RULES = ("FieldDetector/ObjectsInside", "LineDetector/Crossed", "LoiteringDetector")
TOWN_RULES = ("LineDetector/Crossed", "ObjectDetector", "LoiteringDetector")
_CODE = re.compile(r"^[a-z0-9][a-z0-9_.:-]{0,63}$")
_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")
_STATION_KEYS = ("code", "name", "kinds", "unit", "lat", "lon")


def site_cameras(site: dict[str, Any], models: dict[str, CameraModel] | None = None) -> list[Camera]:
    """The cameras of a site: ``<code>-01`` …, on a ring of about 200 m around the site.  Their
    heartbeat interval is the site's ``heartbeat_s``, else its ``model``'s, else 300 s."""
    n = int(site.get("count", 1))
    model, models = site.get("model"), models or {}
    if model is not None and model not in models:
        raise ValueError(f"site {site.get('code')}: unknown camera model {model!r}")
    declared = site.get("heartbeat_s", models[model].heartbeat_s if model else DEFAULT_HEARTBEAT_S)
    heartbeat_s = _heartbeat(declared, f"site {site.get('code')}")
    rules = tuple(site.get("rules") or (ZONE_RULES if site.get("zone") else TOWN_RULES))
    radius = 0.0 if n == 1 else 0.002
    zone = site.get("zone")
    covers = tuple(dict.fromkeys([*([zone] if zone else []), *(str(c) for c in site.get("covers") or ())]))
    return [
        Camera(
            code=f"{site['code']}-{i + 1:02d}", name=f"{site['name']} – {i + 1}", site=site["code"],
            unit=str(site["unit"]), parent=site["parent"], zone=site.get("zone"),
            lat=round(site["lat"] + radius * math.sin(2 * math.pi * i / n), 6),
            lon=round(site["lon"] + radius * math.cos(2 * math.pi * i / n), 6),
            coast=bool(site.get("coast", False)), rules=rules, model=model, heartbeat_s=heartbeat_s,
            covers=covers,
        )
        for i in range(n)
    ]


def _heartbeat(value: Any, where: str) -> float:
    beat = float(value)
    if not 1 <= beat <= 86_400:
        raise ValueError(f"{where}: heartbeat_s must be between 1 and 86400 seconds, got {value!r}")
    return beat


def _station(s: dict[str, Any]) -> Station:
    params = {k: float(v) for k, v in s.items() if k not in _STATION_KEYS}
    return Station(code=s["code"], name=s["name"], kinds=tuple(s["kinds"]), unit=str(s["unit"]),
                   lat=float(s["lat"]), lon=float(s["lon"]), params=params)


def _procedure(p: dict[str, Any]) -> Procedure:
    if p.get("online", "none") not in ONLINE_KINDS:
        raise ValueError(f"procedure {p.get('code')}: online must be one of {', '.join(ONLINE_KINDS)}")
    return Procedure(code=str(p["code"]), name=p["name"], level=p["level"], online=ONLINE_KINDS[p.get("online", "none")],
                     days=int(p["days"]), weight=float(p.get("weight", 1.0)), agency=p.get("agency"))


_BUILDERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "networks": lambda n: Network(code=n["code"], name=n["name"], unit=str(n["unit"]), parent=n.get("parent")),
    "camera_models": lambda m: CameraModel(code=m["code"], name=m["name"],
                                           heartbeat_s=_heartbeat(m.get("heartbeat_s", DEFAULT_HEARTBEAT_S),
                                                                  f"model {m['code']}")),
    "border_zones": lambda z: BorderZone(code=z["code"], name=z["name"], unit=str(z["unit"]),
                                         lat=float(z["lat"]), lon=float(z["lon"]), kind=z.get("kind", "zone"),
                                         polygon=tuple((float(p[0]), float(p[1])) for p in z.get("polygon") or ())),
    "stations": _station,
    "agencies": lambda a: Agency(code=a["code"], name=a["name"], categories=tuple(a.get("categories") or ()),
                                 dossiers=bool(a.get("dossiers", False))),
    "communes": lambda c: Commune(code=str(c["code"]), name=c["name"], parent=str(c["parent"])),
    "procedures": _procedure,
}


def _load_parts(doc: dict, where: str, bounds: Bounds, unit_codes: set[str], system_codes: set[str]) -> dict[str, Any]:
    parts: dict[str, Any] = {}
    section = ""
    try:
        for section, build in _BUILDERS.items():
            parts[section] = tuple(build(entry) for entry in doc.get(section) or ())
        section = "camera_sites"
        models = {m.code: m for m in parts["camera_models"]}
        parts["cameras"] = tuple(c for site in doc.get(section) or () for c in site_cameras(site, models))
    except (TypeError, KeyError, ValueError) as exc:
        raise ConfigError(f"{where}: bad {section} entry: {exc}") from None
    _check_parts(parts, where, bounds, unit_codes, system_codes)
    return parts


def _check_parts(parts: dict[str, Any], where: str, bounds: Bounds, unit_codes: set[str], system_codes: set[str]) -> None:
    from streams.core.contracts.camera import RULES
    from streams.core.contracts.citizen import CATEGORIES

    def fail(msg: str) -> None:
        raise ConfigError(f"{where}: {msg}")

    for key, items in parts.items():
        codes = [it.code for it in items]
        if len(set(codes)) != len(codes):
            fail(f"two {key} share a code")
        pattern = _REFERENCE if key == "procedures" else _CODE
        for it in items:
            if not pattern.match(it.code):
                fail(f"{key}: code {it.code!r} is not a lower-case identifier")
            if hasattr(it, "lat") and not bounds.contains(it.lon, it.lat):
                fail(f"{key}: {it.code} at {it.lon},{it.lat} is outside the province")
            if getattr(it, "unit", None) is not None and it.unit not in unit_codes:
                fail(f"{key}: {it.code} has unknown unit {it.unit!r}")
    networks = {n.code for n in parts["networks"]}
    zones = {z.code for z in parts["border_zones"]}
    agencies = {a.code for a in parts["agencies"] if a.dossiers}
    for n in parts["networks"]:
        if n.parent and n.parent not in system_codes and n.parent not in networks:
            fail(f"network {n.code} has unknown parent {n.parent!r}: a system or another network")
    for n in parts["networks"]:  # a link hangs on a system through its parents, never on itself
        seen, at = {n.code}, n.parent
        while at in networks:
            if at in seen:
                fail(f"network {n.code}: its parents loop back to {at}")
            seen.add(at)
            at = next(m.parent for m in parts["networks"] if m.code == at)
    for z in parts["border_zones"]:
        if z.kind not in ZONE_KINDS:
            fail(f"border zone {z.code}: kind must be one of {', '.join(ZONE_KINDS)}")
        if z.polygon and len(z.polygon) < 3:
            fail(f"border zone {z.code}: a polygon has at least 3 points")
        for lon, lat in z.polygon:
            if not bounds.contains(lon, lat):
                fail(f"border zone {z.code}: polygon point {lon},{lat} is outside the province")
    for c in parts["cameras"]:
        if c.parent not in networks:
            fail(f"camera {c.code} has unknown parent network {c.parent!r}")
        if c.zone is not None and c.zone not in zones:
            fail(f"camera {c.code} has unknown border zone {c.zone!r}")
        for covered in c.covers:
            if covered not in zones:
                fail(f"camera {c.code} covers {covered!r}, which is not a watched zone, gate or area")
        if any(r not in RULES for r in c.rules):
            fail(f"camera {c.code}: rules must be among {', '.join(RULES)}")
    for s in parts["stations"]:
        if not s.kinds or any(k not in STATION_KINDS for k in s.kinds):
            fail(f"station {s.code}: kinds must be among {', '.join(STATION_KINDS)}")
    for a in parts["agencies"]:
        if any(cat not in CATEGORIES for cat in a.categories):
            fail(f"agency {a.code}: categories must be among {', '.join(CATEGORIES)}")
    for c in parts["communes"]:
        if c.parent not in unit_codes:
            fail(f"commune {c.code} has unknown parent unit {c.parent!r}")
    for p in parts["procedures"]:
        if p.level not in LEVELS:
            fail(f"procedure {p.code}: level must be one of {', '.join(LEVELS)}")
        if (p.level == "province") != (p.agency is not None) or (p.agency and p.agency not in agencies):
            fail(f"procedure {p.code}: a province-level procedure names an agency that takes dossiers, others none")
