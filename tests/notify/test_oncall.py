from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from streams.core.errors import ConfigError
from agents.alerting.notify.oncall import load_oncall, oncall_of, parse_oncall
from streams.core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
AM = "http://127.0.0.1:9193"


def doc(**over):
    d = {
        "receivers": {
            "am": {"channel": "alertmanager"},
            "hook": {"channel": "webhook", "url": "https://noc.example/ioc"},
            "duty": {"channel": "email", "to": ["a@kiengiang.gov.vn", "b@kiengiang.gov.vn"]},
            "tg": {"channel": "telegram", "chat_id": -1001234},
        },
        "levels": [{"after": "0s", "receivers": ["am", "hook"]}, {"after": "15m", "receivers": ["duty", "tg"]}],
    }
    d.update(over)
    return d


def test_the_shipped_file_is_valid():
    oncall = oncall_of(Settings(alertmanager_url=AM))
    assert oncall.receivers_for(0)[0] == ("alertmanager", "alertmanager")
    assert oncall.receiver("alertmanager").address == AM
    assert oncall.level_delays[0] == timedelta(0)


def test_receivers_for_gives_channel_and_receiver_pairs():
    oncall = parse_oncall(doc(), "f.yaml", alertmanager_url=AM)
    assert oncall.receivers_for(0) == [("alertmanager", "am"), ("webhook", "hook")]
    assert [tuple(r) for r in oncall.receivers_for(1)] == [("email", "duty"), ("telegram", "tg")]
    assert oncall.receivers_for(7) == oncall.receivers_for(1)  # past the last level: the last one
    assert oncall.level_delays == [timedelta(0), timedelta(minutes=15)]
    assert oncall.receiver("duty").recipients == ["a@kiengiang.gov.vn", "b@kiengiang.gov.vn"]
    assert oncall.receiver("tg").address == "-1001234"
    with pytest.raises(ValueError):
        oncall.receivers_for(-1)


def receiver(name, value):
    return lambda d: d["receivers"].__setitem__(name, value)


def levels(value):
    return lambda d: d.__setitem__("levels", value)


@pytest.mark.parametrize("change, message", [
    (receiver("x", {"channel": "sms", "to": "1"}), "f.yaml: receivers.x: 'channel' must be one of"),
    (receiver("hook", {"channel": "webhook"}), "f.yaml: receivers.hook: missing 'url'"),
    (receiver("hook", {"channel": "webhook", "url": "ftp://x"}), "receivers.hook: 'url' must be an http(s) URL"),
    (receiver("hook", {"channel": "webhook", "url": "http://x", "secret": 1}), "unknown fields ['secret']"),
    (receiver("duty", {"channel": "email", "to": ["not-an-address"]}), "'to' has invalid e-mail addresses"),
    (receiver("tg", {"channel": "telegram", "chat_id": "chat one"}), "'chat_id' must be a numeric chat id"),
    (receiver("Bad Name", {"channel": "alertmanager"}), "receivers.Bad Name: a receiver name is"),
    (levels([]), "'levels' must be a non-empty list"),
    (levels([{"after": "5m", "receivers": ["am"]}]), "levels[0]: 'after' must be 0"),
    (levels([{"receivers": ["am"]}, {"after": "soon", "receivers": ["am"]}]), "levels[1]: 'after': not a duration"),
    (levels([{"receivers": ["nobody"]}]), "levels[0]: unknown receivers ['nobody']"),
    (levels([{"receivers": ["am"]}, {"after": "0s", "receivers": ["hook"]}]), "levels[1]: 'after' (0:00:00) must be"),
    (levels([{"receivers": []}]), "levels[0]: 'receivers' must be a non-empty list"),
    (lambda d: d.__setitem__("extra", 1), "unknown top-level fields ['extra']"),
    (lambda d: d.__setitem__("drill", {"receivers": ["nobody"]}), "f.yaml: drill.receivers: unknown receivers ['nobody']"),
    (lambda d: d.__setitem__("drill", {"receivers": "hook"}), "f.yaml: drill.receivers: must be a list"),
    (lambda d: d.__setitem__("drill", {"receivers": ["hook"], "notify_oncall": "yes"}),
     "f.yaml: drill.notify_oncall: must be true or false"),
    (lambda d: d.__setitem__("drill", {"receivers": ["hook"], "levels": []}), "f.yaml: drill: unknown fields ['levels']"),
])
def test_errors_name_file_entry_and_field(change, message):
    d = doc()
    change(d)
    with pytest.raises(ConfigError) as err:
        parse_oncall(d, "f.yaml", alertmanager_url=AM)
    assert message in str(err.value)


def test_alertmanager_receiver_needs_a_url_when_there_is_no_default():
    with pytest.raises(ConfigError, match="receivers.am: missing 'url'"):
        parse_oncall(doc(), "f.yaml", alertmanager_url=None)


def test_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="on-call file not found"):
        load_oncall(tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("receivers: [unclosed")
    with pytest.raises(ConfigError, match=f"{bad}: not valid YAML"):
        load_oncall(bad)
    ok = tmp_path / "ok.yaml"
    ok.write_text(yaml.safe_dump(doc()))
    assert load_oncall(ok, alertmanager_url=AM).source == str(ok)


def test_drill_alerts_go_to_the_drill_receivers_only_unless_configured():
    oncall = parse_oncall(doc(receivers={**doc()["receivers"], "drill-hook": {"channel": "webhook",
                                                                               "url": "http://127.0.0.1:9/d"}},
                              drill={"receivers": ["drill-hook"]}), "f.yaml", alertmanager_url=AM)
    assert oncall.receivers_for(0, drill="dvc-ddos") == [("webhook", "drill-hook")]
    assert oncall.receivers_for(3, drill="dvc-ddos") == [("webhook", "drill-hook")]  # escalations too
    assert oncall.receivers_for(0) == [("alertmanager", "am"), ("webhook", "hook")]  # real alerts unchanged
    assert oncall.hears_drills("drill-hook") and not oncall.hears_drills("am")
    both = parse_oncall(doc(drill={"receivers": ["hook"], "notify_oncall": True}), "f.yaml", alertmanager_url=AM)
    assert both.receivers_for(0, drill="x") == [("webhook", "hook"), ("alertmanager", "am")]  # no one twice
    assert both.receivers_for(1, drill="x") == [("webhook", "hook"), ("email", "duty"), ("telegram", "tg")]
    assert both.hears_drills("am") and both.hears_drills("tg")


def test_without_a_drill_section_drill_alerts_call_nobody():
    oncall = parse_oncall(doc(), "f.yaml", alertmanager_url=AM)
    assert oncall.receivers_for(0, drill="dvc-ddos") == []
    assert not oncall.hears_drills("am")


def test_the_shipped_file_sends_drills_to_their_own_receiver():
    oncall = oncall_of(Settings(alertmanager_url=AM))
    assert oncall.receivers_for(0, drill="dvc-ddos") == [("webhook", "dien-tap-webhook")]
    real = {r for level in range(len(oncall.levels)) for _, r in oncall.receivers_for(level)}
    assert "dien-tap-webhook" not in real


def test_the_shipped_file_posts_to_the_receiver_of_the_settings_in_effect():
    default = oncall_of(Settings())
    assert default.receiver("noc-webhook").address == "http://127.0.0.1:9194/ioc"
    second = oncall_of(Settings(demo_receiver_port=19194))
    assert {r.address for r in second.by_channel("webhook")} == {"http://127.0.0.1:19194/ioc",
                                                                   "http://127.0.0.1:19194/ioc-drill"}


def test_a_placeholder_must_name_a_setting_and_never_a_secret(tmp_path):
    path = tmp_path / "oncall.yaml"
    for name in ("no_such_setting", "webhook_secret"):
        path.write_text(yaml.safe_dump({"receivers": {"hook": {"channel": "webhook", "url": f"{{{name}}}/x"}},
                                        "levels": [{"after": "0s", "receivers": ["hook"]}]}))
        with pytest.raises(ConfigError, match=f"{{{name}}} names no setting that may be written out"):
            oncall_of(Settings(oncall_file=path))
