from datetime import datetime, timedelta, timezone

import pytest

from agents.alerting.engine import AlertEngine, RuleSet
from streams.core.errors import ConfigError

T0 = datetime(2026, 11, 27, 4, 0, tzinfo=timezone.utc)
RULE = """rules:
  - name: errs
    indicator: health.error_rate
    condition: above
    fire: {fire}
    clear: 0.01
    summary: {{vi: a, en: b}}
"""


class FakeStore:
    """The store's interface, in memory: values in, rounds recorded."""

    def __init__(self, values):
        self.values = values
        self.states = {}
        self.rounds = []

    def read_values(self, indicators):
        return {k: v for k, v in self.values.items() if k in indicators}

    def load_states(self):
        return dict(self.states)

    def apply_round(self, rules, states, transitions, now, **kw):
        self.states = states
        self.rounds.append(transitions)
        return len([t for t in transitions if t.notify])

    def escalate(self, now, levels, receivers_for):
        return 0


def test_rules_reload_when_the_file_changes_and_bad_edits_keep_the_old(tmp_path):
    f = tmp_path / "rules.yaml"
    f.write_text(RULE.format(fire=0.5))
    rs = RuleSet([f])
    assert rs.refresh() and rs.rules[0].fire == 0.5
    assert not rs.refresh()  # unchanged
    f.write_text(RULE.format(fire=0.2))
    import os
    os.utime(f, ns=(1, 10**18))
    assert rs.refresh() and rs.rules[0].fire == 0.2
    f.write_text("rules: [{name: broken}]")
    os.utime(f, ns=(1, 2 * 10**18))
    assert not rs.refresh() and rs.rules[0].fire == 0.2 and "missing" in rs.error
    with pytest.raises(ConfigError):
        RuleSet([f]).refresh()  # no good rules to fall back on


def test_round_uses_store_values_and_derived_indicators(tmp_path):
    f = tmp_path / "rules.yaml"
    f.write_text(RULE.format(fire=0.5))
    store = FakeStore({"health.error_rate": {"dvc": 0.9}})
    engine = AlertEngine(store, RuleSet([f]), derived=[lambda now: {"health.error_rate": {"dvc": 0.9, "gis": 0.7}}])
    result = engine.run_once(T0)
    assert result.firing == 2 and result.queued == 2
    store.values = {}
    result = engine.run_once(T0 + timedelta(seconds=10))
    assert result.transitions == 0  # still firing (derived says so)
