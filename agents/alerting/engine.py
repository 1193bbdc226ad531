"""The alert engine's round: reload rules when their files change, read indicators, evaluate,
persist, escalate.  ``ioc alerts`` runs ``run_once`` every few seconds.

Only one engine evaluates at a time: ``ioc alerts`` holds a PostgreSQL advisory lock, so a
second instance waits as a hot standby.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from agents.alerting.evaluate import Topology, evaluate
from agents.alerting.rules import Rule, load_rules
from agents.alerting.state import FIRING
from streams.core.errors import ConfigError

log = logging.getLogger(__name__)

Derived = Callable[[datetime], dict[str, dict[str, float | None]]]


@dataclass
class RuleSet:
    """Rules from files, reloaded when a file changes; a bad edit keeps the last good rules."""

    paths: Sequence[Path]
    rules: list[Rule] = field(default_factory=list)
    error: str | None = None
    _stamp: tuple = ()

    def _current_stamp(self) -> tuple:
        return tuple((str(p), p.stat().st_mtime_ns if p.exists() else None) for p in self.paths)

    def refresh(self) -> bool:
        """Reload if a file changed; True when the rules changed."""
        stamp = self._current_stamp()
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        try:
            rules = load_rules(list(self.paths))
        except ConfigError as exc:
            self.error = str(exc)
            log.error("alert rules not reloaded, keeping the %s rules in force: %s", len(self.rules), exc)
            if not self.rules:
                raise
            return False
        self.error = None
        self.rules = rules
        log.info("alert rules loaded: %s", ", ".join(r.name for r in rules))
        return True


@dataclass
class RoundResult:
    transitions: int
    queued: int
    escalated: int
    firing: int


class AlertEngine:
    def __init__(self, store, ruleset: RuleSet, *, topology: Topology = Topology(),
                 receivers_for=lambda level, drill=None: (), levels: Sequence[timedelta] = (timedelta(0),),
                 derived: Sequence[Derived] = ()) -> None:
        self.store = store
        self.ruleset = ruleset
        self.topology = topology
        self.receivers_for = receivers_for
        self.levels = list(levels)
        self.derived = list(derived)

    def run_once(self, now: datetime) -> RoundResult:
        self.ruleset.refresh()
        rules = self.ruleset.rules
        values = self.store.read_values({r.indicator for r in rules})
        for fn in self.derived:
            values.update(fn(now))
        states = self.store.load_states()
        states, transitions = evaluate(rules, values, states, now)
        queued = self.store.apply_round({r.name: r for r in rules}, states, transitions, now,
                                        topology=self.topology, receivers_for=self.receivers_for)
        escalated = self.store.escalate(now, self.levels, self.receivers_for)
        firing = sum(1 for st in states.values() if st.state == FIRING)
        return RoundResult(len(transitions), queued, escalated, firing)
