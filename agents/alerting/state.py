"""The alert state machine, per (rule, entity): inactive → pending → firing → resolved.

``step(state, value, now, rule)`` is pure: it returns the new state and the transitions to
record and notify.  Hysteresis: a firing alert resolves only when the value is past ``clear``
(not merely back under ``fire``), and only after ``keep_firing_for``.  Flapping: an alert that
fired and resolved ``flap_transitions`` times within ``flap_window`` is marked flapping; it
stops notifying until it has stayed in one state for a whole window.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from agents.alerting.rules import Rule

INACTIVE, PENDING, FIRING, RESOLVED = "inactive", "pending", "firing", "resolved"


@dataclass(frozen=True)
class AlertState:
    rule: str
    entity: str
    state: str = INACTIVE
    since: datetime | None = None
    breach_since: datetime | None = None
    clear_since: datetime | None = None
    value: float | None = None
    flapping: bool = False
    changes: tuple[datetime, ...] = field(default_factory=tuple)  # firing/resolved transitions, recent


@dataclass(frozen=True)
class Transition:
    rule: str
    entity: str
    old: str
    new: str
    at: datetime
    value: float | None
    notify: bool  # False while flapping
    flapping: bool


def step(st: AlertState, value: float | None, now: datetime, rule: Rule) -> tuple[AlertState, list[Transition]]:
    out: list[Transition] = []

    def move(s: AlertState, new: str) -> AlertState:
        changes = s.changes
        if new in (FIRING, RESOLVED):
            changes = tuple(t for t in changes if now - t < rule.flap_window) + (now,)
        flapping = s.flapping
        if len(changes) >= rule.flap_transitions:
            flapping = True
        s2 = replace(s, state=new, since=now, changes=changes, flapping=flapping)
        out.append(Transition(rule.name, s.entity, s.state, new, now, value, notify=not flapping and new in (
            FIRING, RESOLVED), flapping=flapping))
        return s2

    st = replace(st, value=value)
    if st.flapping and st.changes and now - st.changes[-1] >= rule.flap_window:
        st = replace(st, flapping=False)  # stable for a whole window

    if value is None:
        if rule.no_data == "resolve" and st.state in (PENDING, FIRING):
            st = move(st, RESOLVED if st.state == FIRING else INACTIVE)
        return st, out

    breach = rule.breached(value)
    cleared = rule.cleared(value)
    if st.state == RESOLVED:
        st = replace(st, state=INACTIVE, since=now)  # resolved is shown once, then it is history
    if st.state == INACTIVE:
        if breach:
            st = replace(st, breach_since=now)
            st = move(st, PENDING)
            if rule.for_.total_seconds() == 0:
                st = move(st, FIRING)
    elif st.state == PENDING:
        if not breach:
            st = replace(st, breach_since=None)
            st = move(st, INACTIVE)
        elif now - (st.breach_since or now) >= rule.for_:
            st = move(st, FIRING)
    elif st.state == FIRING:
        if cleared:
            clear_since = st.clear_since or now
            st = replace(st, clear_since=clear_since)
            if now - clear_since >= rule.keep_firing_for:
                st = replace(st, clear_since=None, breach_since=None)
                st = move(st, RESOLVED)
        else:
            st = replace(st, clear_since=None)
    return st, out
