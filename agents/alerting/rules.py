"""Alert rules from YAML data files, validated on load with errors that name file, rule and field.

A rule watches one indicator per entity::

    - name: service_unavailable
      indicator: health.availability      # see agents/indicators/registry.py
      condition: below                    # below | above
      fire: 0.90                          # breach: value <= fire (below) or >= fire (above)
      clear: 0.97                         # resolved only once value > clear (hysteresis)
      for: 60s                            # breach must last this long before firing
      keep_firing_for: 2m                 # and clear must last this long before resolving
      severity: critical                  # critical | high | medium | low | informational
      labels: {team: noc}
      summary:
        vi: "{entity}: mức sẵn sàng {value:.0%} (ngưỡng {fire:.0%})"
        en: "{entity}: availability {value:.0%} (threshold {fire:.0%})"
      runbook: docs/runbooks.md#service-unavailable
      entities: [dvc, "cam-*"]            # optional: only these entities (names or shell patterns)
      overrides:                          # optional: per entity (or pattern), other thresholds
        lgsp: {fire: 0.95, clear: 0.99, for: 30s, severity: critical}

An entity a rule stops selecting has its open alert resolved; the first matching override applies
(an exact name before a pattern).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from datetime import timedelta
from pathlib import Path
from typing import Any

from streams.core.errors import ConfigError
from streams.core.yamlfile import read_yaml

SEVERITIES = ("critical", "high", "medium", "low", "informational")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}
_NAME = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
_KNOWN = {"name", "indicator", "condition", "fire", "clear", "for", "keep_firing_for", "severity", "labels",
          "summary", "runbook", "flap_window", "flap_transitions", "no_data", "entities", "overrides"}
_OVERRIDABLE = {"fire", "clear", "for", "keep_firing_for", "severity"}


def parse_duration(value: Any) -> timedelta:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return timedelta(seconds=value)
    m = _DURATION.match(str(value))
    if not m:
        raise ValueError(f"not a duration: {value!r} (use 30s, 5m, 1h)")
    return timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])


@dataclass(frozen=True)
class Rule:
    name: str
    indicator: str
    condition: str
    fire: float
    clear: float
    for_: timedelta = timedelta(0)
    keep_firing_for: timedelta = timedelta(0)
    severity: str = "high"
    labels: dict[str, str] = field(default_factory=dict)
    summary: dict[str, str] = field(default_factory=dict)
    runbook: str = ""
    flap_window: timedelta = timedelta(minutes=30)
    flap_transitions: int = 6
    no_data: str = "keep"  # keep | resolve
    entities: tuple[str, ...] = ()  # names or patterns; empty: every entity
    overrides: tuple[tuple[str, dict[str, Any]], ...] = ()  # (name or pattern, Rule fields), exact names first

    def selects(self, entity: str) -> bool:
        return not self.entities or any(fnmatchcase(entity, p) for p in self.entities)

    def for_entity(self, entity: str) -> Rule:
        """The rule with the entity's overrides applied (itself when none matches)."""
        for pattern, fields in self.overrides:
            if fnmatchcase(entity, pattern):
                return replace(self, **fields)
        return self

    def breached(self, value: float) -> bool:
        return value <= self.fire if self.condition == "below" else value >= self.fire

    def cleared(self, value: float) -> bool:
        return value > self.clear if self.condition == "below" else value < self.clear

    def text(self, lang: str, **values: Any) -> str:
        template = self.summary.get(lang) or self.summary.get("vi") or self.name
        values.setdefault("place", values.get("entity"))
        try:
            return template.format(fire=self.fire, clear=self.clear, **values)
        except (KeyError, ValueError, IndexError):
            return template


def parse_rule(doc: Any, where: str) -> Rule:
    if not isinstance(doc, dict):
        raise ConfigError(f"{where}: a rule is a mapping, got {type(doc).__name__}")
    name = doc.get("name")
    at = f"{where}: rule {name!r}" if name else where

    def need(key: str) -> Any:
        if key not in doc:
            raise ConfigError(f"{at}: missing '{key}'")
        return doc[key]

    unknown = set(doc) - _KNOWN
    if unknown:
        raise ConfigError(f"{at}: unknown fields {sorted(unknown)}")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(f"{at}: 'name' must be lower_snake_case, 2-64 characters")
    condition = need("condition")
    if condition not in ("below", "above"):
        raise ConfigError(f"{at}: 'condition' must be 'below' or 'above', got {condition!r}")
    try:
        fire = float(need("fire"))
        clear = float(doc.get("clear", fire))
    except (TypeError, ValueError):
        raise ConfigError(f"{at}: 'fire' and 'clear' must be numbers") from None
    if condition == "below" and clear < fire or condition == "above" and clear > fire:
        raise ConfigError(f"{at}: 'clear' ({clear}) must be on the good side of 'fire' ({fire}) for '{condition}'")
    severity = doc.get("severity", "high")
    if severity not in SEVERITIES:
        raise ConfigError(f"{at}: 'severity' must be one of {', '.join(SEVERITIES)}, got {severity!r}")
    try:
        durations = {k: parse_duration(doc.get(k, d)) for k, d in
                     (("for", 0), ("keep_firing_for", 0), ("flap_window", "30m"))}
    except ValueError as exc:
        raise ConfigError(f"{at}: {exc}") from None
    summary = doc.get("summary") or {}
    if not isinstance(summary, dict) or not summary.get("vi") or not summary.get("en"):
        raise ConfigError(f"{at}: 'summary' needs both 'vi' and 'en'")
    for lang, template in summary.items():
        try:
            str(template).format(entity="x", place="x", value=1.0, fire=1.0, clear=1.0)
        except (KeyError, IndexError, ValueError) as exc:
            raise ConfigError(f"{at}: summary {lang}: {type(exc).__name__} {exc} (fields: {{entity}}, {{place}}, "
                              "{value}, {fire}, {clear})") from None
    labels = doc.get("labels") or {}
    if not isinstance(labels, dict):
        raise ConfigError(f"{at}: 'labels' must be a mapping")
    no_data = doc.get("no_data", "keep")
    if no_data not in ("keep", "resolve"):
        raise ConfigError(f"{at}: 'no_data' must be 'keep' or 'resolve'")
    entities = doc.get("entities") or []
    if not isinstance(entities, list) or not all(isinstance(e, str) and e for e in entities):
        raise ConfigError(f"{at}: 'entities' must be a list of entity names or patterns")
    overrides = _overrides(doc.get("overrides") or {}, condition, severity, at)
    from agents.indicators.registry import INDICATORS  # the registry of what a rule may watch

    indicator = need("indicator")
    if indicator not in INDICATORS:
        raise ConfigError(f"{at}: unknown indicator {indicator!r}; known: {', '.join(sorted(INDICATORS))}")
    rule = Rule(
        name=name, indicator=indicator, condition=condition, fire=fire, clear=clear,
        for_=durations["for"], keep_firing_for=durations["keep_firing_for"], severity=severity,
        labels={str(k): str(v) for k, v in labels.items()}, summary={k: str(v) for k, v in summary.items()},
        runbook=str(doc.get("runbook", "")), flap_window=durations["flap_window"],
        flap_transitions=int(doc.get("flap_transitions", 6)), no_data=no_data, entities=tuple(entities),
        overrides=overrides,
    )
    for pattern, fields in overrides:
        r = replace(rule, **fields)
        if r.condition == "below" and r.clear < r.fire or r.condition == "above" and r.clear > r.fire:
            raise ConfigError(f"{at}: overrides.{pattern}: 'clear' ({r.clear}) must be on the good side of "
                              f"'fire' ({r.fire}) for '{r.condition}'")
    return rule


def _overrides(doc: Any, condition: str, severity: str, at: str) -> tuple[tuple[str, dict[str, Any]], ...]:
    if not isinstance(doc, dict):
        raise ConfigError(f"{at}: 'overrides' must map an entity (or pattern) to fields")
    out = []
    for pattern, fields in doc.items():
        where = f"{at}: overrides.{pattern}"
        if not isinstance(fields, dict) or not fields or set(fields) - _OVERRIDABLE:
            raise ConfigError(f"{where}: a mapping of {', '.join(sorted(_OVERRIDABLE))}")
        values: dict[str, Any] = {}
        try:
            for key in ("fire", "clear"):
                if key in fields:
                    values[key] = float(fields[key])
            for key, attr in (("for", "for_"), ("keep_firing_for", "keep_firing_for")):
                if key in fields:
                    values[attr] = parse_duration(fields[key])
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: {exc}") from None
        if "severity" in fields:
            if fields["severity"] not in SEVERITIES:
                raise ConfigError(f"{where}: 'severity' must be one of {', '.join(SEVERITIES)}")
            values["severity"] = fields["severity"]
        out.append((str(pattern), values))
    # exact names before patterns, so a system's own line wins over "cam-*"
    out.sort(key=lambda item: any(c in item[0] for c in "*?["))
    return tuple(out)


def load_rules(paths: list[Path]) -> list[Rule]:
    """Every rule of the YAML files (a list of rules, or ``{rules: [...]}``); names are unique."""
    rules: list[Rule] = []
    for path in paths:
        doc = read_yaml(path, "rule file", "IOC_ALERT_RULES")
        items = doc.get("rules") if isinstance(doc, dict) else doc
        if not isinstance(items, list):
            raise ConfigError(f"{path}: expected a list of rules (or 'rules:' with a list)")
        for i, item in enumerate(items):
            rules.append(parse_rule(item, f"{path}#{i + 1}"))
    seen: set[str] = set()
    for r in rules:
        if r.name in seen:
            raise ConfigError(f"rule name {r.name!r} is used twice")
        seen.add(r.name)
    return rules
