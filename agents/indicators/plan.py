"""The plan's targets (``agents/indicators/data/plan_274_2023.yaml``) and how live values compare with them.

``load_plan`` reads the file; ``check_targets(plan, values)`` takes live values keyed by
(indicator, level) — level ``None`` for the whole province — and says for each target and
indicator whether it is met (``None`` when there is no value, or the target is not measured by
any feed).  The file is data: a new year's plan is a new file.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

from streams.core.errors import ConfigError

DEFAULT_PLAN = Path(__file__).with_name("data") / "plan_274_2023.yaml"
OPS = (">=", ">")


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
    number: str
    issued: date
    year: int
    targets: tuple[Target, ...]


@dataclass(frozen=True, slots=True)
class TargetCheck:
    target: Target
    measure: str | None
    value: float | None
    met: bool | None  # None: no live value


def load_plan(path: Path = DEFAULT_PLAN) -> Plan:
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        targets: list[Target] = []
        for t in doc["targets"]:
            common = dict(key=str(t["key"]), vi=str(t["vi"]), en=str(t["en"]), op=str(t.get("op", ">=")),
                          measures=tuple(t.get("measures") or ()), due=t.get("due"))
            if common["op"] not in OPS:
                raise ValueError(f"target {common['key']}: op must be one of {', '.join(OPS)}")
            levels = t["by_level"].items() if "by_level" in t else [(None, t["value"])]
            targets.extend(Target(value=float(v), level=lvl, **common) for lvl, v in levels)
        return Plan(str(doc["plan"]), str(doc["number"]), doc["issued"], int(doc["year"]), tuple(targets))
    except FileNotFoundError:
        raise ConfigError(f"plan file not found: {path}") from None
    except (yaml.YAMLError, TypeError, KeyError, ValueError) as exc:
        raise ConfigError(f"plan file {path}: bad or missing entry: {exc}") from None


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
