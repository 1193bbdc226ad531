"""The plans' targets (a folder of files, ``IOC_PLAN_DIR``) and how live values compare with them.

A plan file holds one plan and the days it is in effect (``valid_from`` … ``valid_to``, both
included).  ``load_plans(folder)`` reads every ``*.yaml`` of the folder and refuses periods that
overlap; ``Plans.in_effect(day)`` is the plan of a day, ``Plans.require(day)`` the same or a
``NoPlanInEffect`` naming the day and the periods there are.  The live wall takes the plan of
today (local), a report the plan of its period's day.

``check_targets(plan, values)`` takes live values keyed by (indicator, level) — level ``None``
for the whole province — and says for each target and indicator whether it is met (``None``
when there is no value, or the target is not measured by any feed).  The files are data: a new
year's plan is a new file (docs/operations.md, "Plans and their targets").
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

from streams.core.errors import ConfigError

DEFAULT_DIR = Path(__file__).with_name("data") / "plans"
OPS = (">=", ">")


class NoPlanInEffect(ConfigError):
    """No plan of the folder is in effect on the day asked for."""

    def __init__(self, day: date, periods: Iterable[str]) -> None:
        known = ", ".join(periods) or "none"
        super().__init__(f"no plan in effect on {day.isoformat()} (plans for: {known}); "
                         "add its file to IOC_PLAN_DIR")
        self.day = day


@dataclass(frozen=True, slots=True)
class Target:
    key: str
    vi: str
    en: str
    value: float
    level: str | None = None  # None: the whole province
    op: str = ">="
    measures: tuple[str, ...] = ()
    due: date | None = None

    def met_by(self, value: float) -> bool:
        return value > self.value if self.op == ">" else value >= self.value


@dataclass(frozen=True, slots=True)
class Plan:
    name: str
    number: str | None  # None: targets carried on, not an official plan of their own
    issued: date | None
    valid_from: date
    valid_to: date
    targets: tuple[Target, ...]
    short_vi: str = ""  # how the wall names a plan without a number
    short_en: str = ""
    source: str = ""  # the file

    @property
    def year(self) -> int:
        return self.valid_from.year

    @property
    def period(self) -> str:
        return f"{self.valid_from.isoformat()}..{self.valid_to.isoformat()}"

    def covers(self, day: date) -> bool:
        return self.valid_from <= day <= self.valid_to


@dataclass(frozen=True, slots=True)
class TargetCheck:
    target: Target
    measure: str | None
    value: float | None
    met: bool | None  # None: no live value


def _date(doc: Mapping, key: str, required: bool = True) -> date | None:
    value = doc.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, date):
        raise ValueError(f"{key} must be a date (YYYY-MM-DD), not {value!r}")
    return value


def _targets(doc: Mapping) -> tuple[Target, ...]:
    targets: list[Target] = []
    for t in doc["targets"]:
        common = dict(key=str(t["key"]), vi=str(t["vi"]), en=str(t["en"]), op=str(t.get("op", ">=")),
                      measures=tuple(t.get("measures") or ()), due=t.get("due"))
        if common["op"] not in OPS:
            raise ValueError(f"target {common['key']}: op must be one of {', '.join(OPS)}")
        levels = t["by_level"].items() if "by_level" in t else [(None, t["value"])]
        targets.extend(Target(value=float(v), level=lvl, **common) for lvl, v in levels)
    return tuple(targets)


def load_plan(path: Path) -> Plan:
    """One plan file; ``ConfigError`` naming the file and the entry that is wrong."""
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        valid_from, valid_to = _date(doc, "valid_from"), _date(doc, "valid_to")
        if valid_to < valid_from:
            raise ValueError(f"valid_to {valid_to} is before valid_from {valid_from}")
        number, short = doc.get("number"), doc.get("short") or {}
        if number is None and not short.get("vi"):
            raise ValueError("a plan without a number needs short: {vi: …, en: …}, the name the wall shows")
        return Plan(str(doc["plan"]), None if number is None else str(number), _date(doc, "issued", False),
                    valid_from, valid_to, _targets(doc), str(short.get("vi") or ""),
                    str(short.get("en") or short.get("vi") or ""), str(path))
    except FileNotFoundError:
        raise ConfigError(f"plan file not found: {path}") from None
    except (yaml.YAMLError, TypeError, KeyError, ValueError, AttributeError) as exc:
        raise ConfigError(f"plan file {path}: bad or missing entry: {exc}") from None


@dataclass(frozen=True, slots=True)
class Plans:
    """The plans of a folder, by period; no two periods overlap."""

    plans: tuple[Plan, ...]

    def in_effect(self, day: date) -> Plan | None:
        return next((p for p in self.plans if p.covers(day)), None)

    def require(self, day: date) -> Plan:
        plan = self.in_effect(day)
        if plan is None:
            raise NoPlanInEffect(day, (p.period for p in self.plans))
        return plan


def check_periods(plans: Iterable[Plan]) -> Plans:
    """The plans sorted by period; ``ConfigError`` naming two files whose periods overlap."""
    ordered = sorted(plans, key=lambda p: p.valid_from)
    for before, after in zip(ordered, ordered[1:]):
        if after.valid_from <= before.valid_to:
            raise ConfigError(f"plans {Path(before.source).name} ({before.period}) and {Path(after.source).name} "
                              f"({after.period}) overlap from {after.valid_from.isoformat()}: one day, one plan")
    return Plans(tuple(ordered))


def load_plans(folder: Path = DEFAULT_DIR) -> Plans:
    """Every ``*.yaml`` plan of ``folder``; ``ConfigError`` when there is none, or periods overlap."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(f"plan folder not found: {folder} (IOC_PLAN_DIR)")
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise ConfigError(f"plan folder {folder} holds no *.yaml plan file (IOC_PLAN_DIR)")
    return check_periods(load_plan(f) for f in files)


def check_targets(plan: Plan, values: Mapping[tuple[str, str | None], float | None]) -> list[TargetCheck]:
    """One check per target and measure (one with ``measure=None`` for unmeasured targets)."""
    out = []
    for t in plan.targets:
        if not t.measures:
            out.append(TargetCheck(t, None, None, None))
        for m in t.measures:
            v = values.get((m, t.level))
            out.append(TargetCheck(t, m, v, None if v is None else t.met_by(v)))
    return out
