from datetime import datetime, timedelta, timezone

from agents.security import (
    AUTH_FAILURE_WINDOW,
    SECURITY_EVENT,
    SECURITY_WINDOW,
    DetectorConfig,
    findings_from,
    request_spikes,
    security_increments,
    worst,
)
from streams.events.security import AuthFailure, WafHit

T0 = datetime(2026, 11, 27, 16, 0, tzinfo=timezone.utc)
CFG = DetectorConfig()


def auth(i, src="45.77.1.2", system="eoffice", at=T0, locked=False):
    return AuthFailure(id=f"a{i}", type="AuthFailure", dateObserved=at, system=system, src_ip=src, service="sso",
                       action="blocked", severity="low", username="admin", account_locked=locked, layer=1)


def test_increments_per_target_and_per_source():
    events = [auth(i, at=T0 + timedelta(seconds=i)) for i in range(30)] + [auth(99, src="1.1.1.1")]
    events.append(WafHit(id="w1", type="WafHit", dateObserved=T0, system="dvc", src_ip="9.9.9.9", rule="942100",
                         attack="sqli", action="blocked", severity="high", layer=2))
    incs = security_increments(events)
    per_target = {(r["entity"], r["type"], r["layer"]): r["events"] for r in incs.rows[SECURITY_WINDOW]}
    assert per_target == {("eoffice", "AuthFailure", 1): 31, ("dvc", "WafHit", 2): 1}
    per_source = {r["src_ip"]: r["failures"] for r in incs.rows[AUTH_FAILURE_WINDOW]}
    assert per_source == {"45.77.1.2": 30, "1.1.1.1": 1}


def test_raw_row_keeps_type_specific_fields_as_json():
    row = SECURITY_EVENT.to_row(auth(1, locked=True))
    assert row[2] == "AuthFailure" and row[5] == "45.77.1.2"
    assert '"account_locked":true' in row[-1] and '"username":"admin"' in row[-1]


def test_detectors():
    inputs = {
        "auth": [("45.77.1.2", "eoffice", 150, T0), ("1.1.1.1", "eoffice", 3, T0), ("2.2.2.2", "dvc", 25, T0)],
        "requests": [("dvc", 40_000, T0), ("gis", 300, T0)],
        "baseline": [("dvc", 900.0, 120.0), ("gis", 280.0, 30.0)],
        "fanout": [("5.5.5.5", 300, 4, T0), ("6.6.6.6", 3, 1, T0), ("5.5.5.5", 1200, 1, T0)],
        "malware": [("pc-soyte-12", "Emotet", "high", "detected", None, T0)],
    }
    found = {(f.kind, f.subject): f for f in findings_from(inputs, CFG)}
    assert found[("brute_force", "45.77.1.2")].severity == "high"
    assert found[("brute_force", "2.2.2.2")].severity == "medium"
    assert ("brute_force", "1.1.1.1") not in found
    assert found[("request_spike", "dvc")].severity == "critical"
    assert ("request_spike", "gis") not in found
    assert found[("port_scan", "5.5.5.5")].value == 1200
    assert ("port_scan", "6.6.6.6") not in found
    assert found[("malware", "Emotet")].severity == "critical"  # not quarantined
    assert found[("malware", "Emotet")].target == "pc-soyte-12"  # the device to clean
    assert all(f.layer in (1, 2, 3, 4) for f in found.values())
    assert worst(found.values()) == "critical"


def test_spike_needs_a_minimum_rate_on_quiet_systems():
    assert request_spikes({"baocao": (50, T0)}, {"baocao": (2.0, 1.0)}, CFG) == []
    assert request_spikes({"baocao": (5000, T0)}, {}, CFG)[0].kind == "request_spike"
