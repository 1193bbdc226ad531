import pytest

from agents.alerting.rules import load_rules, parse_duration, parse_rule
from streams.core.errors import ConfigError

GOOD = {"name": "ok_rule", "indicator": "health.availability", "condition": "below", "fire": 0.9, "clear": 0.95,
        "summary": {"vi": "a", "en": "b"}}


def test_durations():
    assert parse_duration("90s").total_seconds() == 90
    assert parse_duration("5m").total_seconds() == 300
    assert parse_duration(30).total_seconds() == 30
    with pytest.raises(ValueError):
        parse_duration("soon")


@pytest.mark.parametrize("change,message", [
    ({"condition": "sideways"}, "'condition'"),
    ({"clear": 0.5}, "good side"),
    ({"severity": "urgent"}, "'severity'"),
    ({"indicator": "health.mood"}, "unknown indicator"),
    ({"summary": {"vi": "a"}}, "'summary'"),
    ({"for": "soon"}, "not a duration"),
    ({"colour": "red"}, "unknown fields"),
    ({"name": "Bad Name"}, "lower_snake_case"),
    ({"summary": {"vi": "{plcae}: {value}", "en": "x"}}, "summary vi: KeyError 'plcae'"),
    ({"summary": {"vi": "x", "en": "{value:.0q}"}}, "summary en: ValueError"),
])
def test_bad_rules_name_the_field(change, message):
    with pytest.raises(ConfigError, match=message) as err:
        parse_rule({**GOOD, **change}, "rules.yaml#3")
    assert "rules.yaml#3" in str(err.value)


def test_files_and_unique_names(tmp_path):
    f = tmp_path / "r.yaml"
    f.write_text("rules:\n  - {name: a_rule, indicator: health.error_rate, condition: above, fire: 0.3, clear: 0.1,"
                 " summary: {vi: x, en: y}}\n")
    assert [r.name for r in load_rules([f])] == ["a_rule"]
    with pytest.raises(ConfigError, match="used twice"):
        load_rules([f, f])
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules: [")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_rules([bad])


def test_summaries_name_the_place():
    rule = parse_rule({**GOOD, "summary": {"vi": "Vùng {place}: {value:.0f}", "en": "Zone {place}"}}, "r")
    assert rule.text("vi", entity="bz-hatien", value=4, place="Biên giới Hà Tiên (bz-hatien)") == \
        "Vùng Biên giới Hà Tiên (bz-hatien): 4"
    assert rule.text("en", entity="bz-x", value=1) == "Zone bz-x"  # no name known: the code


def test_overrides_per_entity_and_selectors():
    rule = parse_rule({**GOOD, "entities": ["dvc", "lgsp", "cam-*"], "overrides": {
        "cam-*": {"fire": 0.5, "clear": 0.6}, "cam-hatien-01": {"fire": 0.7, "for": "2m", "severity": "critical"}}}, "r")
    assert rule.selects("dvc") and rule.selects("cam-x") and not rule.selects("gis")
    assert (rule.for_entity("dvc").fire, rule.for_entity("dvc").clear) == (0.9, 0.95)
    assert (rule.for_entity("cam-x").fire, rule.for_entity("cam-x").clear) == (0.5, 0.6)
    exact = rule.for_entity("cam-hatien-01")  # the exact name wins over the pattern written first
    assert (exact.fire, exact.clear, exact.for_.total_seconds(), exact.severity) == (0.7, 0.95, 120, "critical")
    assert parse_rule(GOOD, "r").selects("anything")


@pytest.mark.parametrize("change,message", [
    ({"entities": "dvc"}, "'entities'"),
    ({"overrides": {"dvc": {"colour": 1}}}, "overrides.dvc"),
    ({"overrides": {"dvc": {"fire": 0.99}}}, "overrides.dvc: 'clear'"),
    ({"overrides": {"dvc": {"severity": "urgent"}}}, "overrides.dvc: 'severity'"),
    ({"overrides": {"dvc": {"for": "soon"}}}, "overrides.dvc: not a duration"),
])
def test_bad_overrides_name_the_entity(change, message):
    with pytest.raises(ConfigError, match=message):
        parse_rule({**GOOD, **change}, "rules.yaml#1")
