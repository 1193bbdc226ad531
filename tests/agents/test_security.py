from datetime import datetime, timedelta, timezone

from agents.indicators.security import (
    AUTH_FAILURE_WINDOW,
    SECURITY_EVENT,
    SECURITY_WINDOW,
    Baseline,
    DetectorConfig,
    findings_from,
    national,
    port_scans,
    request_spikes,
    sensor_scans,
    spike_limit,
    security_increments,
    worst,
)
from streams.core.contracts.security import AuthFailure, WafHit

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
        "baseline_week": [("dvc", 900.0, 120.0), ("gis", 280.0, 30.0)],
        "fanout": [("5.5.5.5", "gis", 1200, 443, 1, 0, T0), ("6.6.6.6", "dvc", 3, 445, 1, 0, T0)],
        "malware": [("pc-soyte-12", "Emotet", "high", "detected", None, T0)],
        "national": [("10.91.3.4", "email", "critical", 2, T0, "Kết nối tới máy chủ điều khiển mã độc APT")],
    }
    found = {(f.kind, f.subject): f for f in findings_from(inputs, CFG)}
    assert found[("brute_force", "45.77.1.2")].severity == "high"
    assert found[("brute_force", "2.2.2.2")].severity == "medium"
    assert ("brute_force", "1.1.1.1") not in found
    assert found[("request_spike", "dvc")].severity == "critical"
    assert ("request_spike", "gis") not in found
    assert found[("port_scan", "5.5.5.5")].value == 1200 and found[("port_scan", "5.5.5.5")].target == "gis"
    assert ("port_scan", "6.6.6.6") not in found
    assert found[("malware", "Emotet")].severity == "critical"  # not quarantined
    assert found[("malware", "Emotet")].target == "pc-soyte-12"  # the device to clean
    nat = found[("national", "10.91.3.4")]
    assert (nat.severity, nat.layer, nat.target, nat.value) == ("critical", 4, "email", 2)
    assert all(f.layer in (1, 2, 3, 4) for f in found.values())
    assert worst(found.values()) == "critical"


def test_spike_needs_a_minimum_rate_on_quiet_systems():
    assert request_spikes({"baocao": (50, T0)}, {"baocao": Baseline(2.0, 1.0, True)}, CFG) == []
    assert request_spikes({"baocao": (5000, T0)}, {}, CFG)[0].kind == "request_spike"
    assert request_spikes({"dvc": (2000, T0)}, {}, CFG) == []  # no history yet: a busy portal is no spike


def test_spike_severity_grows_with_the_rate_over_the_weekly_limit():
    base = Baseline(1000.0, 50.0, True)
    limit = spike_limit(base, CFG)
    assert limit == 1250.0  # mean + 5 × spread
    sev = {r: [f.severity for f in request_spikes({"dvc": (r, T0)}, {"dvc": base}, CFG)] for r in (1200, 1300, 2600, 5100)}
    assert sev == {1200: [], 1300: ["medium"], 2600: ["high"], 5100: ["critical"]}


def test_without_weekly_history_the_recent_mean_needs_a_conservative_factor():
    recent, weekly = Baseline(800.0, 20.0, False), Baseline(800.0, 20.0, True)
    # the office day's ×2.5 step at 07:30 or 13:30 is no spike against the recent past
    assert request_spikes({"eoffice": (2000, T0)}, {"eoffice": recent}, CFG) == []
    # but it is against a weekly baseline that says this hour is usually quiet
    assert request_spikes({"eoffice": (2000, T0)}, {"eoffice": weekly}, CFG)[0].severity == "high"
    assert spike_limit(recent, CFG) == 3200.0


def test_weekly_baseline_wins_over_the_recent_one():
    inputs = {"requests": [("dvc", 2000, T0)], "baseline_recent": [("dvc", 800.0, 20.0)],
              "baseline_week": [("dvc", 1900.0, 40.0)]}
    assert findings_from(inputs, CFG) == []  # usual for this hour of the week
    del inputs["baseline_week"]
    assert findings_from(inputs, CFG) == []  # and within 4 × the recent mean


def scan(ports=1, hosts=1, answered=0, src="7.7.7.7"):
    return (src, "dvc", ports, 445, hosts, answered, T0)


def test_a_scan_needs_fan_out_and_grows_with_it_and_with_success():
    sev = lambda row: [(f.severity, f.target) for f in port_scans([row], CFG)]  # noqa: E731
    assert sev(scan(ports=1)) == []  # one probe of one host is the Internet's background
    assert sev(scan(ports=19, hosts=9)) == []
    assert sev(scan(ports=20)) == [("low", "dvc")]  # twenty ports of one host, all refused
    assert sev(scan(hosts=10)) == [("low", "port 445")]  # a sweep of ten hosts on one port
    assert sev(scan(ports=200)) == [("medium", "dvc")]  # wide
    assert sev(scan(ports=25, answered=1)) == [("medium", "dvc")]  # a service answered
    assert sev(scan(ports=25, answered=3)) == [("high", "dvc")]  # three services exposed to it
    assert all(f.severity != "critical" for f in port_scans([scan(ports=60000, hosts=500, answered=900)], CFG))


def test_sensor_scans_keep_the_sensors_verdict_and_drop_its_background():
    rows = [("8.8.4.4", "gis", 1500, "low", T0), ("9.9.9.9", "gis", 300, "medium", T0)]
    assert [(f.subject, f.severity) for f in sensor_scans(rows)] == [("9.9.9.9", "medium")]


def test_national_alerts_are_layer_4_findings_at_the_centres_severity():
    rows = [("10.91.1.1", "dvc", "low", 1, T0, "Dịch vụ công khai lỗ hổng đã biết"),
            (None, "national-soc", "high", 3, T0, "Địa chỉ IP trong mạng nằm trong danh sách botnet")]
    out = national(rows)
    assert [(f.kind, f.subject, f.target, f.severity, f.layer) for f in out] == [
        ("national", "10.91.1.1", "dvc", "low", 4), ("national", "-", "national-soc", "high", 4)]
    assert out[1].detail.startswith("Địa chỉ IP")
