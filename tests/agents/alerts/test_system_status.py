"""The wall and the pager judge a system with one definition (agents/indicators/data/status.yaml).

For counter fixtures, the wall's status (``ioc_dash.figures.system_statuses``) and the verdict of
the engine (the health.* indicators of ``derived.health_values`` against the system rules of
``deploy/rules/ioc.yaml``) must agree; and over probe sequences of the drills, the pager's
hysteresis pages ``system_unavailable`` while the system is still down, once per outage.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from streams.core import sketch
from agents.alerting.derived import health_values
from agents.alerting.evaluate import evaluate
from agents.alerting.rules import load_rules
from agents.alerting.state import FIRING
from agents.indicators.health import STATUSES, load_status_rules
from ioc_dash import figures
from ioc_dash.repository import Snapshot
from streams.core.geography import load_province
from streams.core.settings import Settings
from tests.agents.health_sequences import T0, counters_at, probes

ROOT = Path(__file__).resolve().parents[3]
RULES = load_status_rules()
SYSTEM_RULES = [r for r in load_rules([ROOT / "deploy" / "rules" / "ioc.yaml"]) if r.indicator.startswith("health.")]
PROVINCE = load_province(Settings().province_file)
NOW = T0 + timedelta(minutes=10)


def verdicts(values, code: str) -> set[str]:
    """The statuses the pager's rules find breached for one system now."""
    out = set()
    for rule in SYSTEM_RULES:
        value = values.get(rule.indicator, {}).get(code)
        if value is not None and rule.breached(value):
            out.add(rule.indicator.split(".", 1)[1])
    return out


def test_the_pager_watches_the_statuses_themselves():
    """Every system rule watches a status indicator, and every status but ok has its rule: no
    second set of thresholds can creep into the rule file."""
    assert {r.indicator for r in SYSTEM_RULES} == {f"health.{s}" for s in STATUSES if s != "ok"}
    assert all(r.condition == "above" and r.fire == 1 and 0 < r.clear < 1 for r in SYSTEM_RULES)


def _row(system, *, probes=60, ok=60, requests=200, errors=0, p95=100.0, age_s=5.0, last_ok=None, last_failed=None):
    last = NOW - timedelta(seconds=age_s)
    return {"system": system, "probes": probes, "probes_ok": ok, "requests": requests, "errors": errors,
            "latency_hist": sketch.from_values([p95] * 50), "last_event": last,
            "last_ok": last_ok if last_ok is not None else (last if ok else None),
            "last_failed": last_failed if last_failed is not None else (last if ok < probes else None)}


def _fixtures() -> list[dict]:
    """Hand-made rows at and around every threshold, and rows read from probe sequences."""
    r = RULES
    q = lambda s: NOW - timedelta(seconds=s)  # noqa: E731
    rows = [
        _row("dvc"),
        _row("dvc", ok=int(60 * r.degraded_availability)),  # exactly at the availability threshold
        _row("dvc", ok=int(60 * r.degraded_availability) + 1),
        _row("dvc", requests=200, errors=int(200 * r.degraded_error_rate)),
        _row("dvc", requests=200, errors=int(200 * r.degraded_error_rate) - 1),
        _row("dvc", requests=200, errors=200),
        _row("dvc", requests=r.min_requests - 1, errors=r.min_requests - 1),
        _row("dvc", p95=r.degraded_p95_ms * 1.1),
        _row("dvc", p95=r.degraded_p95_ms * 0.9),
        _row("dvc", ok=0),
        _row("dvc", ok=59, last_ok=q(5 + r.down_no_success_s), last_failed=q(5)),
        _row("dvc", ok=59, last_ok=q(4 + r.down_no_success_s), last_failed=q(5)),
        _row("dvc", age_s=r.stale_after_s),
        _row("dvc", age_s=r.stale_after_s + 1),
        _row("dvc", ok=0, age_s=r.stale_after_s + 30),
    ]
    dies = T0 + timedelta(seconds=200)
    back = dies + timedelta(seconds=90)
    events = probes("dvc", ["/", "/api"], T0, T0 + timedelta(seconds=500), lambda at: not dies <= at < back)
    rows += [{"system": "dvc", **counters_at(events, at, r.window_s), "_now": at}
             for at in (T0 + timedelta(seconds=s) for s in range(150, 520, 7))]
    return rows


@pytest.mark.parametrize("row", _fixtures())
def test_the_wall_and_the_engine_agree(row):
    row = dict(row)
    now = row.pop("_now", NOW)
    (wall,) = [s for s in figures.system_statuses(Snapshot(now, systems=[row]), PROVINCE, rules=RULES)
               if s.system == "dvc"]
    engine = verdicts(health_values([row], [s.code for s in PROVINCE.systems], now, RULES), "dvc")
    assert engine == ({wall.status} - {"ok"}), (wall, engine)


def test_every_status_is_reached_by_the_fixtures():
    seen = set()
    for row in _fixtures():
        now = row.pop("_now", NOW)
        seen |= {s.status for s in figures.system_statuses(Snapshot(now, systems=[row]), PROVINCE, rules=RULES)}
    assert seen == set(STATUSES)


def test_systems_without_data_are_stale_for_both_and_unknown_systems_still_alert():
    values = health_values([_row("e2e-x")], ["gis"], NOW, RULES)
    assert values["health.stale"] == {"gis": 1.0, "e2e-x": 0.0}
    assert values["health.down"]["gis"] is None and values["health.down"]["e2e-x"] == 0.0


# --- the pager's hysteresis over the drills' outages --------------------------------------------------


def pager(events, system: str, start: datetime, end: datetime, *, every_s: int = 10, phase_s: int = 0):
    """Runs the engine's rounds over a probe sequence: (time, rule, transition) of each change."""
    states: dict = {}
    out = []
    at = start + timedelta(seconds=phase_s)
    while at <= end:
        values = health_values([{"system": system, **counters_at(events, at, RULES.window_s)}], [system], at, RULES)
        states, transitions = evaluate(SYSTEM_RULES, values, states, at)
        out += [(t.at, t.rule, t.new) for t in transitions]
        at += timedelta(seconds=every_s)
    return out


@pytest.mark.parametrize("phase_s", range(0, 10, 3))
@pytest.mark.parametrize("system,endpoints,down_s", [
    ("dvc", ["/", "/api/hoso", "/api/thanhtoan", "/dang-nhap"], 90),  # dvc-ddos: 90 s without an answer
    ("ndxp", ["/ndxp/ping", "/ndxp/csdlqg-dancu"], 300),  # lgsp-ndxp-outage: 5 minutes
    ("email", ["/webmail"], 60),
])
def test_system_unavailable_fires_while_the_system_is_still_down(system, endpoints, down_s, phase_s):
    dies = T0 + timedelta(seconds=400)
    back = dies + timedelta(seconds=down_s)
    events = probes(system, endpoints, T0, back + timedelta(minutes=10), lambda at: not dies <= at < back)
    changes = pager(events, system, T0 + timedelta(seconds=60), back + timedelta(minutes=9), phase_s=phase_s)
    fired = [at for at, rule, new in changes if rule == "system_unavailable" and new == FIRING]
    assert len(fired) == 1 and dies < fired[0] < back, changes
    resolved = [at for at, rule, new in changes if rule == "system_unavailable" and new == "resolved"]
    assert len(resolved) == 1 and resolved[0] >= back + next(r for r in SYSTEM_RULES
                                                             if r.name == "system_unavailable").keep_firing_for
    # the minutes after it came back are amber on the wall, but too short to page as degraded
    assert not [c for c in changes if c[1] == "system_degraded" and c[2] == FIRING], changes


def test_a_flapping_system_pages_once():
    down = [(400, 460), (490, 550), (575, 640)]  # down a minute, back for half a minute, down again …
    events = probes("dvc", ["/", "/api"], T0, T0 + timedelta(minutes=20),
                    lambda at: not any(T0 + timedelta(seconds=a) <= at < T0 + timedelta(seconds=b) for a, b in down))
    changes = pager(events, "dvc", T0 + timedelta(seconds=60), T0 + timedelta(minutes=19))
    assert [new for _, rule, new in changes if rule == "system_unavailable" and new in (FIRING, "resolved")] == [
        FIRING, "resolved"]
