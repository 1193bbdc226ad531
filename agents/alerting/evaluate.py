"""One evaluation round: indicator values -> state machines -> transitions, plus suppression.

Pure: the caller (``ioc alerts``) reads the values and the saved states, and persists what
comes back.  An entity no longer reported keeps being evaluated while its alert is open, with
value ``None`` ("no data"), so it can resolve by the rule's ``no_data`` policy.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from agents.alerting.rules import Rule
from agents.alerting.state import FIRING, PENDING, AlertState, Transition, step

Values = Mapping[str, Mapping[str, float | None]]  # indicator -> entity -> value
States = dict[tuple[str, str], AlertState]  # (rule, entity) -> state


@dataclass(frozen=True)
class Topology:
    """Parent of each entity (a district link above its cameras, the LGSP above NDXP …)."""

    parents: Mapping[str, str] = field(default_factory=dict)

    def ancestors(self, entity: str) -> list[str]:
        out, seen = [], {entity}
        cur = self.parents.get(entity)
        while cur is not None and cur not in seen:
            out.append(cur)
            seen.add(cur)
            cur = self.parents.get(cur)
        return out


def evaluate(rules: Iterable[Rule], values: Values, states: States, now: datetime) -> tuple[States, list[Transition]]:
    new_states: States = dict(states)
    transitions: list[Transition] = []
    for rule in rules:
        current = values.get(rule.indicator, {})
        open_entities = {e for (r, e), st in states.items() if r == rule.name and st.state in (PENDING, FIRING)}
        for entity in sorted(set(current) | open_entities):
            key = (rule.name, entity)
            if not rule.selects(entity):
                if entity in open_entities:  # no longer watched: its alert resolves
                    st, tr = step(states[key], None, now, replace(rule, no_data="resolve"))
                    new_states[key] = st
                    transitions.extend(tr)
                continue
            st = states.get(key) or AlertState(rule.name, entity)
            st, tr = step(st, current.get(entity), now, rule.for_entity(entity))
            new_states[key] = st
            transitions.extend(tr)
    return new_states, transitions


def suppressor(entity: str, firing: set[str], topology: Topology) -> str | None:
    """The nearest ancestor of ``entity`` that has a firing alert: its alert stands for both."""
    for ancestor in topology.ancestors(entity):
        if ancestor in firing:
            return ancestor
    return None


def in_maintenance(entity: str, now: datetime, windows: Iterable[tuple[str | None, datetime, datetime]],
                   topology: Topology) -> bool:
    """Whether a maintenance window covers the entity (or one of its ancestors, or everything) now."""
    scope = {entity, *topology.ancestors(entity)}
    return any((system is None or system in scope) and start <= now < end for system, start, end in windows)
