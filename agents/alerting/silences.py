"""Silences by matcher (table ``alert_silence``): quiet for alerts that match, fired or not yet.

A silence names a rule and an entity, each a name or a shell pattern (``*`` any, ``cam-hatien-*``),
and optionally labels that must all be equal.  While it is in force a matching alert is stored and
shown as usual, but no one is notified and it does not escalate.  Pure: the store reads the rows.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any

from streams.core.errors import InputError
from streams.core.inputs import storable

MAX_PATTERN = 120


@dataclass(frozen=True, slots=True)
class Silence:
    id: int
    rule: str
    entity: str
    starts_at: datetime
    ends_at: datetime
    labels: Mapping[str, str] = field(default_factory=dict)
    ended_at: datetime | None = None

    def active(self, now: datetime) -> bool:
        end = min(self.ends_at, self.ended_at) if self.ended_at else self.ends_at
        return self.starts_at <= now < end

    def matches(self, rule: str, entity: str, labels: Mapping[str, Any] | None = None) -> bool:
        labels = labels or {}
        return (fnmatchcase(rule, self.rule) and fnmatchcase(entity, self.entity)
                and all(str(labels.get(k)) == v for k, v in self.labels.items()))


def silence_from_row(row: Mapping[str, Any]) -> Silence:
    return Silence(row["id"], row["rule"], row["entity"], row["starts_at"], row["ends_at"],
                   {str(k): str(v) for k, v in (row.get("labels") or {}).items()}, row.get("ended_at"))


def silencing(silences: Iterable[Silence], rule: str, entity: str, labels: Mapping[str, Any] | None,
              now: datetime) -> Silence | None:
    """The first silence in force at ``now`` that matches the alert, or None."""
    return next((s for s in silences if s.active(now) and s.matches(rule, entity, labels)), None)


def check_matchers(rule: str, entity: str, labels: Mapping[str, str], starts_at: datetime, ends_at: datetime,
                   comment: str) -> None:
    """``InputError`` for a silence that cannot be stored or would silence everything by mistake."""
    for what, value in (("rule", rule), ("entity", entity), ("comment", comment), *labels.items()):
        storable(value, what)
        if len(value) > (500 if what == "comment" else MAX_PATTERN):
            raise InputError(f"{what}: too long")
    if not rule or not entity:
        raise InputError("a silence needs a rule and an entity (a name or a pattern, '*' for any)")
    if rule.strip("*") == "" and entity.strip("*") == "" and not labels:
        raise InputError("a silence of every rule and every entity would silence the whole centre: "
                         "name a rule, an entity or a label")
    if not comment.strip():
        raise InputError("a silence needs a comment: why, and who to ask")
    if ends_at <= starts_at:
        raise InputError("a silence must end after it starts")
