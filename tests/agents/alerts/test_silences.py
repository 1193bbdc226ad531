from datetime import datetime, timedelta, timezone

import pytest

from agents.alerting.silences import Silence, check_matchers, silencing
from streams.core.errors import InputError

T0 = datetime(2026, 12, 2, 3, 0, tzinfo=timezone.utc)
H = timedelta(hours=1)


def test_matchers_by_name_pattern_and_labels():
    s = Silence(1, "camera_*", "cam-hatien-*", T0, T0 + H, {"team": "camera"})
    assert s.matches("camera_offline", "cam-hatien-03", {"team": "camera", "layer": "2"})
    assert not s.matches("camera_offline", "cam-hatien-03", {"team": "noc"})
    assert not s.matches("camera_offline", "cam-rachgia-01", {"team": "camera"})
    assert not s.matches("system_down", "cam-hatien-03", {"team": "camera"})
    assert Silence(2, "system_degraded", "*", T0, T0 + H).matches("system_degraded", "gis")


def test_in_force_between_its_times_unless_ended():
    s = Silence(1, "*", "gis", T0, T0 + H)
    assert silencing([s], "x", "gis", {}, T0) is s
    assert silencing([s], "x", "gis", {}, T0 - timedelta(seconds=1)) is None
    assert silencing([s], "x", "gis", {}, T0 + H) is None
    ended = Silence(1, "*", "gis", T0, T0 + H, ended_at=T0 + timedelta(minutes=5))
    assert silencing([ended], "x", "gis", {}, T0 + timedelta(minutes=6)) is None


@pytest.mark.parametrize("args,message", [
    (("*", "*", {}, "why"), "whole centre"),
    (("*", "", {}, "why"), "needs a rule and an entity"),
    (("x", "*", {}, ""), "comment"),
    (("x\x00", "*", {}, "why"), "NUL"),
])
def test_a_silence_that_cannot_be_right_is_refused(args, message):
    rule, entity, labels, comment = args
    with pytest.raises(InputError, match=message):
        check_matchers(rule, entity, labels, T0, T0 + H, comment)
    with pytest.raises(InputError, match="end after"):
        check_matchers("x", "*", {}, T0, T0, "why")
