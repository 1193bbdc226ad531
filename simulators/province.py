"""The province description: units, information systems (with topology), cameras, sensors."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from streams.errors import ConfigError
from streams.validation import Bounds


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

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True, slots=True)
class System:
    code: str
    name: str
    name_en: str
    endpoints: tuple[str, ...]
    parent: str | None = None
    office_hours: bool = False


@dataclass(frozen=True, slots=True)
class Province:
    code: str
    name: str
    timezone: str
    bounds: Bounds
    units: tuple[Unit, ...]
    systems: tuple[System, ...]
    extra: dict[str, Any] = field(default_factory=dict)

    def system(self, code: str) -> System:
        for s in self.systems:
            if s.code == code:
                return s
        raise KeyError(code)


def _require(doc: dict, key: str, where: str) -> Any:
    if key not in doc:
        raise ConfigError(f"{where}: missing '{key}'")
    return doc[key]


def load_province(path: Path) -> Province:
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"province file not found: {path} (set IOC_PROVINCE_FILE)") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"province file {path} is not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise ConfigError(f"province file {path}: expected a mapping at the top")
    where = str(path)
    prov = _require(doc, "province", where)
    b = _require(prov, "bounds", f"{where}: province")
    try:
        units = tuple(Unit(**u) for u in _require(doc, "units", where))
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
    return Province(
        code=str(prov["code"]), name=prov["name"], timezone=prov.get("timezone", "Asia/Ho_Chi_Minh"),
        bounds=Bounds(b["min_lon"], b["min_lat"], b["max_lon"], b["max_lat"]),
        units=units, systems=systems,
        extra={k: v for k, v in doc.items() if k not in ("province", "units", "systems")},
    )
