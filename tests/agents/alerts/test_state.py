from datetime import datetime, timedelta, timezone

from agents.alerting.rules import parse_rule
from agents.alerting.state import FIRING, INACTIVE, PENDING, RESOLVED, AlertState, step

T0 = datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc)


def rule(**over):
    doc = {"name": "svc_down", "indicator": "health.availability", "condition": "below", "fire": 0.9,
           "clear": 0.97, "for": "60s", "keep_firing_for": "2m", "severity": "critical",
           "summary": {"vi": "{entity} sẵn sàng {value:.0%}", "en": "{entity} at {value:.0%}"}}
    doc.update(over)
    return parse_rule(doc, "test")


CLOCK = [T0]


def run(values, r=None, st=None, every=timedelta(seconds=15)):
    """Feed values every ``every``; time goes on across calls that continue a state."""
    r = r or rule()
    if st is None:
        st = AlertState(r.name, "dvc")
        CLOCK[0] = T0
    log = []
    for v in values:
        st, tr = step(st, v, CLOCK[0], r)
        log.extend(tr)
        CLOCK[0] += every
    return st, log


def test_short_breach_stays_pending_and_never_notifies():
    st, log = run([0.5, 0.5, 0.99])
    assert st.state == INACTIVE
    assert [(t.old, t.new) for t in log] == [(INACTIVE, PENDING), (PENDING, INACTIVE)]
    assert not any(t.notify for t in log)


def test_fires_after_the_for_duration_and_resolves_with_hysteresis():
    st, log = run([0.5] * 6)  # 75 s of breach
    assert st.state == FIRING and log[-1].notify
    # back above fire but below clear: still firing
    st, log2 = run([0.95] * 20, st=st)
    assert st.state == FIRING and log2 == []
    # above clear, but only for a minute: keep firing for 2 min
    st, log3 = run([0.99] * 5, st=st)
    assert st.state == FIRING
    st, log4 = run([0.99] * 4, st=st)
    assert st.state == RESOLVED and [(t.old, t.new) for t in log4] == [(FIRING, RESOLVED)]
    assert log4[0].notify


def test_above_condition_and_immediate_firing():
    r = rule(name="errors", condition="above", fire=0.3, clear=0.1, **{"for": 0, "keep_firing_for": 0})
    st, log = run([0.5], r)
    assert st.state == FIRING and [(t.old, t.new) for t in log] == [(INACTIVE, PENDING), (PENDING, FIRING)]
    st, _ = run([0.2], r, st)
    assert st.state == FIRING  # between clear and fire
    st, _ = run([0.05], r, st)
    assert st.state == RESOLVED


def test_flapping_stops_notifications_until_it_settles():
    r = rule(name="flappy", **{"for": 0, "keep_firing_for": 0, "flap_window": "10m", "flap_transitions": 4})
    st, log = run([0.5, 0.99] * 6, r)
    notified = [t for t in log if t.notify]
    assert len(notified) == 3  # fired, resolved, fired: the 4th change marks it flapping
    assert st.flapping
    st, log2 = run([0.99] * 50, r, st, every=timedelta(minutes=1))  # stable for far more than the window
    assert not st.flapping


def test_no_data_keeps_or_resolves():
    st, _ = run([0.5] * 6)
    kept, _ = run([None, None], st=st)
    assert kept.state == FIRING
    r = rule(no_data="resolve")
    st, _ = run([0.5] * 6, r)
    gone, log = run([None], r, st)
    assert gone.state == RESOLVED


def test_summary_texts():
    r = rule()
    assert r.text("vi", entity="dvc", value=0.5) == "dvc sẵn sàng 50%"
    assert r.text("en", entity="dvc", value=0.5) == "dvc at 50%"
