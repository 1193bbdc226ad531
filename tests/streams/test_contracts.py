import json
from datetime import datetime, timezone
from pathlib import Path

import orjson
import pytest

from streams.core.geography import load_province
from streams.core.families import CONTRACTS, MODELS
from streams.core.contracts.dossier import outcome_of
from streams.core.contracts.security import severity_from_cap, severity_from_priority, severity_rank
from streams.core.contracts.sensor import flood_status
from streams.core.schemas import family_schema, render, write_schemas
from streams.core.settings import Settings
from streams.core.validation import Decoder

NOW = datetime(2026, 11, 27, 3, 0, 0, tzinfo=timezone.utc)
BOUNDS = load_province(Settings().province_file).bounds
AT = "2026-11-27T09:30:00+07:00"
RACH_GIA = {"type": "Point", "coordinates": [105.081, 10.012]}

#: one valid event of every type, by family
GOOD = {
    "security": [
        {"id": "s1", "type": "AuthFailure", "dateObserved": AT, "system": "eoffice", "src_ip": "113.161.4.20",
         "service": "sso", "username": "vanthu", "action": "blocked", "severity": "informational", "layer": 1},
        {"id": "s2", "type": "AuthFailure", "dateObserved": AT, "device": "cam-xaxia-01", "src_ip": "10.92.1.5",
         "service": "onvif", "rule": "AuthFailed", "action": "blocked", "severity": "low"},
        {"id": "s3", "type": "FirewallLog", "dateObserved": AT, "device": "fw-gw-vnpt", "system": "dvc",
         "src_ip": "45.12.3.4", "src_port": 51234, "dst_ip": "203.0.113.14", "dst_port": 22, "protocol": "tcp",
         "action": "blocked", "direction": "inbound", "rule": "deny-default", "severity": "low", "layer": 1},
        {"id": "s4", "type": "IdsAlert", "dateObserved": AT, "device": "ncsc-l4", "src_ip": "2001:db8::1",
         "dst_ip": "203.0.113.14", "rule": "Kết nối tới máy chủ điều khiển mã độc APT", "action": "detected",
         "severity": "critical", "layer": 4},
        {"id": "s5", "type": "WafHit", "dateObserved": AT, "system": "dvc", "src_ip": "45.12.3.4", "attack": "sqli",
         "rule": "942100 SQL injection", "uri": "/api/hoso?id=1'", "action": "blocked", "severity": "high", "layer": 2},
        {"id": "s6", "type": "MalwareDetection", "dateObserved": AT, "device": "pc-899-001", "malware": "Ransom.LockBit",
         "file_path": "C:\\Users\\vanthu\\Công văn.exe", "sha256": "a" * 64, "action": "quarantined", "severity": "medium"},
        {"id": "s7", "type": "PortScan", "dateObserved": AT, "device": "ids-soc", "system": "gis", "src_ip": "45.12.3.4",
         "dst_ip": "203.0.113.17", "ports_scanned": 1200, "window_s": 60, "action": "detected", "severity": "low"},
        {"id": "s8", "type": "DdosAlert", "dateObserved": AT, "system": "dvc", "requests_per_s": 25000.0,
         "baseline_per_s": 120.0, "sources": 4000, "action": "detected", "severity": "critical"},
    ],
    "camera": [
        {"id": "c1", "type": "CameraDetection", "event_id": "1764210600.1-ab12", "camera": "cam-xaxia-01",
         "dateObserved": AT, "phase": "new", "rule": "FieldDetector/ObjectsInside", "label": "person", "score": 0.82,
         "zones": ["border_strip"], "start_time": AT, "location": {"type": "Point", "coordinates": [104.458, 10.424]}},
        {"id": "c2", "type": "CameraDetection", "event_id": "1764210600.1-ab12", "camera": "cam-xaxia-01",
         "dateObserved": "2026-11-27T09:31:00+07:00", "phase": "end", "rule": "LineDetector/Crossed", "label": "boat",
         "score": 0.9, "start_time": AT, "end_time": "2026-11-27T09:31:00+07:00"},
        {"id": "c3", "type": "CameraHealth", "camera": "cam-rg-center-03", "dateObserved": AT, "condition": "offline",
         "reason": "mất kết nối RTSP"},
        {"id": "c4", "type": "CameraHealth", "camera": "cam-rg-center-03", "dateObserved": AT,
         "condition": "VideoSource/ImageTooDark", "active": False},
    ],
    "sensor": [
        {"id": "o1", "type": "WaterObserved", "dateObserved": AT, "location": RACH_GIA, "refDevice": "wl-rachgia",
         "areaServed": "899", "waterLevel": -0.35},
        {"id": "o2", "type": "FloodMonitoring", "dateObserved": AT, "location": RACH_GIA, "refDevice": "wl-rachgia",
         "measuredDistance": 3.05, "referenceLevel": 4.0, "currentLevel": 0.95, "alertLevel": 0.9, "dangerLevel": 1.2,
         "floodLevelStatus": "alert"},
        {"id": "o3", "type": "WaterQualityObserved", "dateObserved": AT, "location": RACH_GIA, "refDevice": "sal-caibe",
         "salinity": 12.5, "temperature": 29.1, "pH": 7.4, "turbidity": 45.0, "conductivity": 1.98},
        {"id": "o4", "type": "AirQualityObserved", "dateObserved": AT, "location": RACH_GIA, "refDevice": "aq-rachgia-center",
         "pm25": 21.5, "pm10": 36.6, "no2": 30, "so2": 6.1, "o3": 55.0, "co": 1200, "airQualityIndex": 43},
        {"id": "o5", "type": "WeatherObserved", "dateObserved": AT, "location": RACH_GIA, "refDevice": "wx-rachgia",
         "precipitation": 0.0, "temperature": 31.2, "relativeHumidity": 0.71, "windSpeed": 3.4},
        {"id": "o6", "type": "Device", "dateObserved": AT, "location": RACH_GIA, "refDevice": "wx-rachgia",
         "deviceState": "low_battery", "batteryLevel": 0.14, "dateLastValueReported": "2026-11-27T02:25:00Z",
         "name": "Trạm khí tượng Rạch Giá"},
    ],
    "dossier": [
        {"id": "d1", "type": "DossierReceived", "dateObserved": AT, "dossier_id": "30850-261127-000001",
         "procedure_code": "KG.HT.01", "procedure_name": "Đăng ký khai sinh", "unit_code": "30850", "level": "commune",
         "channel": "online", "online_kind": "full_process", "received_date": AT,
         "due_date": "2026-11-30T17:00:00+07:00", "digitised": True, "auth_method": "vneid"},
        {"id": "d2", "type": "DossierProcessed", "dateObserved": AT, "dossier_id": "899-261120-000007",
         "procedure_code": "KG.XD.01", "unit_code": "899", "level": "district", "channel": "in_person",
         "online_kind": "partial", "received_date": "2026-11-20T08:00:00+07:00",
         "due_date": "2026-12-11T17:00:00+07:00", "step": "Thụ lý, thẩm định hồ sơ"},
        {"id": "d3", "type": "DossierResolved", "dateObserved": AT, "dossier_id": "SO-TP-261101-000009",
         "procedure_code": "KG.TP.01", "unit_code": "so-tp", "level": "province", "channel": "postal",
         "received_date": "2026-11-01T08:00:00+07:00", "due_date": "2026-11-14T17:00:00+07:00",
         "resolved_date": AT, "outcome": "late", "result_digitised": True},
        {"id": "d4", "type": "DossierReturned", "dateObserved": AT, "dossier_id": "899-261126-000011",
         "procedure_code": "KG.DD.02", "unit_code": "899", "level": "district", "channel": "in_person",
         "received_date": "2026-11-26T08:00:00+07:00", "due_date": "2027-01-08T17:00:00+07:00",
         "reason": "Hồ sơ chưa đầy đủ thành phần"},
        {"id": "d5", "type": "DossierWithdrawn", "dateObserved": AT, "dossier_id": "899-261126-000012",
         "procedure_code": "KG.DD.02", "unit_code": "899", "level": "district", "channel": "in_person",
         "received_date": "2026-11-26T08:00:00+07:00", "due_date": "2027-01-08T17:00:00+07:00"},
        {"id": "d6", "type": "DossierCarriedOver", "dateObserved": AT, "dossier_id": "899-261126-000013",
         "procedure_code": "KG.DD.02", "unit_code": "899", "level": "district", "channel": "in_person",
         "received_date": "2026-11-26T08:00:00+07:00", "due_date": "2027-01-08T17:00:00+07:00"},
    ],
    "citizen": [
        {"id": "r1", "type": "ReportCreated", "dateObserved": AT, "report_id": "PAHT-261127-000001",
         "category": "flooding", "unit_code": "899", "reported_at": AT, "location": RACH_GIA,
         "title": "Ngập nước kéo dài sau mưa", "description": "Đường Nguyễn Trung Trực ngập sâu 40 cm.",
         "photos": ["pakn/2026/11/27/ab.jpg"], "channel": "app"},
        {"id": "r2", "type": "ReportAssigned", "dateObserved": AT, "report_id": "PAHT-261127-000001",
         "category": "flooding", "unit_code": "899", "reported_at": AT, "agency": "cn-kg",
         "deadline": "2026-11-30T09:30:00+07:00"},
        {"id": "r3", "type": "ReportResponded", "dateObserved": AT, "report_id": "PAHT-261127-000001",
         "category": "flooding", "unit_code": "899", "reported_at": AT, "agency": "cn-kg",
         "response": "Đã nạo vét cống thoát nước."},
        {"id": "r4", "type": "ReportRated", "dateObserved": AT, "report_id": "PAHT-261127-000001",
         "category": "flooding", "unit_code": "899", "reported_at": AT, "rating": 4},
        {"id": "r5", "type": "ReportClosed", "dateObserved": AT, "report_id": "PAHT-261127-000001",
         "category": "flooding", "unit_code": "899", "reported_at": AT, "resolution": "resolved"},
    ],
    "network": [
        {"id": "n1", "type": "LinkStatus", "link": "tsl-902", "dateObserved": AT, "up": True, "utilisation": 0.42,
         "packet_loss": 0.001, "latency_ms": 6.5, "capacity_mbps": 200.0},
        {"id": "n2", "type": "Ipv6Check", "system": "dvc", "dateObserved": AT, "aaaa": True, "reachable": True},
    ],
}

OUTSIDE = {"type": "Point", "coordinates": [106.70, 10.78]}  # Hồ Chí Minh City

#: (family, index of the GOOD example, fields to change, the reason it is rejected)
BAD = [
    ("network", 0, {"up": False}, "invalid"),  # a link down carries no traffic nor latency
    ("network", 0, {"utilisation": 1.5}, "invalid"),
    ("network", 0, {"link": "TSL 902"}, "invalid"),
    ("network", 1, {"aaaa": False}, "invalid"),  # reachable over IPv6 without an AAAA record
    ("security", 0, {"src_ip": "999.1.1.1"}, "invalid"),
    ("security", 0, {"severity": "Severe"}, "invalid"),  # CAP words must be mapped first
    ("security", 0, {"layer": 5}, "invalid"),
    ("security", 0, {"system": None}, "invalid"),  # neither system nor device
    ("security", 2, {"src_port": "51234"}, "invalid"),
    ("security", 2, {"src_port": None}, "invalid"),  # tcp without ports
    ("security", 2, {"dst_port": 70000}, "invalid"),
    ("security", 5, {"sha256": "XYZ"}, "invalid"),
    ("security", 7, {"requests_per_s": -1.0}, "invalid"),
    ("camera", 0, {"score": 1.5}, "invalid"),
    ("camera", 0, {"camera": "Cam 1"}, "invalid"),
    ("camera", 0, {"phase": "end"}, "invalid"),  # end without end_time
    ("camera", 0, {"zones": ["z"] * 17}, "invalid"),
    ("camera", 0, {"location": OUTSIDE}, "out_of_area"),
    ("camera", 1, {"end_time": "2026-11-27T09:00:00+07:00"}, "invalid"),  # before start_time
    ("camera", 2, {"condition": "Online"}, "invalid"),
    ("camera", 2, {"active": False}, "invalid"),
    ("sensor", 0, {"waterLevel": "0.5"}, "invalid"),
    ("sensor", 0, {"dateObserved": "2026-11-27T09:30:00"}, "invalid"),  # naive
    ("sensor", 0, {"location": OUTSIDE}, "out_of_area"),
    ("sensor", 0, {"location": {"type": "Point", "coordinates": [105.0]}}, "invalid"),
    ("sensor", 1, {"currentLevel": 1.5}, "invalid"),  # not reference - distance
    ("sensor", 1, {"floodLevelStatus": "Báo động 1"}, "invalid"),
    ("sensor", 2, {"pH": 15.0}, "invalid"),
    ("sensor", 2, dict.fromkeys(("salinity", "temperature", "pH", "turbidity", "conductivity")), "invalid"),  # nothing
    ("sensor", 2, {"salinity": -0.1}, "invalid"),
    ("sensor", 3, {"airQualityIndex": 43.5}, "invalid"),
    ("sensor", 4, {"precipitation": -1.0}, "invalid"),
    ("sensor", 4, {"relativeHumidity": 71.0}, "invalid"),  # a percentage, not a fraction
    ("sensor", 5, {"batteryLevel": 1.2}, "invalid"),
    ("sensor", 5, {"dateLastValueReported": "2026-11-27T03:10:00Z"}, "invalid"),  # after dateObserved
    ("dossier", 0, {"online_kind": None}, "invalid"),  # online without its kind
    ("dossier", 0, {"level": "ward"}, "invalid"),
    ("dossier", 0, {"auth_method": "VNeID"}, "invalid"),  # the values are lower-case codes
    ("dossier", 0, {"auth_method": True}, "invalid"),
    ("dossier", 0, {"channel": "email"}, "invalid"),
    ("dossier", 0, {"digitised": "true"}, "invalid"),
    ("dossier", 0, {"due_date": "2026-11-01T17:00:00+07:00"}, "invalid"),  # before received
    ("dossier", 0, {"dossier_id": "hồ sơ 1"}, "invalid"),
    ("dossier", 2, {"outcome": "on_time"}, "invalid"),  # resolved after its due date
    ("dossier", 2, {"resolved_date": "2026-11-27T09:40:00+07:00"}, "invalid"),  # after dateObserved
    ("citizen", 0, {"title": ""}, "invalid"),
    ("citizen", 0, {"title": "Ngập\x00"}, "invalid"),
    ("citizen", 0, {"description": "x" * 4001}, "invalid"),
    ("citizen", 0, {"photos": ["p.jpg"] * 11}, "invalid"),
    ("citizen", 0, {"location": OUTSIDE}, "out_of_area"),
    ("citizen", 0, {"category": "noise"}, "invalid"),
    ("citizen", 1, {"deadline": "2026-11-27T09:00:00+07:00"}, "invalid"),  # before reported_at
    ("citizen", 3, {"rating": 6}, "invalid"),
    ("citizen", 3, {"rating": "4"}, "invalid"),
    ("citizen", 3, {"rating": True}, "invalid"),
    ("citizen", 4, {"reported_at": "2026-11-27T10:00:00+07:00"}, "invalid"),  # after dateObserved
]


def decode(family, value):
    raw = value if isinstance(value, bytes) else orjson.dumps(value)
    return Decoder(family, bounds=BOUNDS, clock=lambda: NOW).decode(raw)


def with_(family, index, changes):
    ev = dict(GOOD[family][index])
    for key, value in changes.items():
        if value is None:
            ev.pop(key, None)
        else:
            ev[key] = value
    return ev


def test_every_type_of_every_family_has_a_valid_example():
    for family, examples in GOOD.items():
        assert {e["type"] for e in examples} == {m.__name__ for m in MODELS[family]}, family
        out = decode(family, examples)
        assert not out.rejected, (family, out.rejected[:1])
        assert [e.id for e in out.events] == [e["id"] for e in examples]


@pytest.mark.parametrize("family,index,changes,reason", BAD,
                         ids=[f"{f}-{GOOD[f][i]['type']}-{'+'.join(c)}" for f, i, c, _ in BAD])
def test_bad_variants_are_rejected_with_their_reason(family, index, changes, reason):
    out = decode(family, with_(family, index, changes))
    assert [r.reason for r in out.rejected] == [reason], out.rejected[0].detail if out.rejected else "accepted"
    if reason == "invalid":  # the detail names the contract (and the field, when one field is wrong)
        assert out.rejected[0].detail.startswith(GOOD[family][index]["type"])


def test_dossiers_without_the_later_optional_fields_are_still_accepted():
    """Producers written before ``auth_method`` existed send dossiers without it: accepted, not reported."""
    old = {k: v for k, v in GOOD["dossier"][0].items() if k != "auth_method"}
    out = decode("dossier", [old, GOOD["dossier"][0], {**old, "id": "d1-null", "auth_method": None}])
    assert not out.rejected
    assert [e.auth_method for e in out.events] == [None, "vneid", None]


@pytest.mark.parametrize("family", list(GOOD))
def test_common_rules_hold_in_every_family(family):
    good = GOOD[family][0]
    assert [r.reason for r in decode(family, {**good, "type": "Nope"}).rejected] == ["unknown_type"]
    assert [r.reason for r in decode(family, {**good, "id": "a\x00b"}).rejected] == ["invalid"]
    assert [r.reason for r in decode(family, {**good, "id": "x" * 129}).rejected] == ["invalid"]
    assert [r.reason for r in decode(family, {**good, "dateObserved": "2026-11-27T11:00:00+07:00"}).rejected] == [
        "future_timestamp"]
    assert decode(family, b"[" + orjson.dumps(good) + b", 1e999]").rejected[0].reason == "not_json"


def test_timestamps_are_kept_in_utc():
    (ev,) = decode("dossier", GOOD["dossier"][0]).events
    assert ev.dateObserved == datetime(2026, 11, 27, 2, 30, tzinfo=timezone.utc)
    assert ev.due_date.tzinfo == timezone.utc and ev.due_date.hour == 10


def test_vietnamese_text_round_trips():
    (created,) = decode("citizen", GOOD["citizen"][0]).events
    assert created.description == "Đường Nguyễn Trung Trực ngập sâu 40 cm."
    again = orjson.loads(orjson.dumps(created.model_dump(mode="json")))
    assert again["title"] == "Ngập nước kéo dài sau mưa"
    (ids,) = decode("security", GOOD["security"][3]).events
    assert ids.rule == "Kết nối tới máy chủ điều khiển mã độc APT"


def test_entity_keys():
    events = {f: decode(f, GOOD[f]).events for f in GOOD}
    assert [e.entity for e in events["security"][:3]] == ["eoffice", "cam-xaxia-01", "dvc"]
    assert {e.entity for e in events["camera"]} == {"cam-xaxia-01", "cam-rg-center-03"}
    assert events["sensor"][0].entity == "wl-rachgia"
    assert events["dossier"][0].entity == "30850-261127-000001"
    assert events["citizen"][0].entity == "PAHT-261127-000001"


def test_severity_mappings():
    assert [severity_from_cap(c) for c in ("Extreme", "Severe", "Moderate", "Minor", "Unknown")] == [
        "critical", "high", "medium", "low", "informational"]
    assert [severity_from_priority(p) for p in (1, 2, 3, 4, 255)] == ["high", "medium", "low", "informational",
                                                                        "informational"]
    assert severity_rank("critical") > severity_rank("high") > severity_rank("informational") == 0
    for bad in (0, -1, True, "1"):
        with pytest.raises(ValueError):
            severity_from_priority(bad)
    with pytest.raises(ValueError, match="CAP"):
        severity_from_cap("severe")


def test_outcome_and_flood_status_rules():
    due = datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc)  # 17:00 local
    assert outcome_of(datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc), due) == "on_time"  # same local day
    assert outcome_of(datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc), due) == "early"
    assert outcome_of(datetime(2026, 11, 27, 10, 0, 1, tzinfo=timezone.utc), due) == "late"
    assert [flood_status(x, 0.9, 1.2) for x in (0.5, 0.9, 1.19, 1.2)] == ["normal", "alert", "alert", "danger"]


def test_schemas_are_written_for_every_family_and_published_up_to_date(tmp_path):
    paths = write_schemas(tmp_path)
    assert sorted(p.name for p in paths) == sorted(f"{f}.schema.json" for f in CONTRACTS)
    published = Path(__file__).resolve().parents[2] / "docs" / "schemas"
    for path in paths:
        schema = json.loads(path.read_text(encoding="utf-8"))
        assert {b.get("type") for b in schema["anyOf"]} == {None, "array"}  # one event, or an array of them
        assert (published / path.name).read_text(encoding="utf-8") == path.read_text(encoding="utf-8"), (
            f"docs/schemas/{path.name} is stale: run `ioc schemas --out docs/schemas`")
    assert "‰" in render(family_schema("sensor"))  # UTF-8 kept, not escaped


def test_cli_writes_the_schemas(tmp_path, capsys):
    from streams.cli.main import main

    assert main(["schemas", "--out", str(tmp_path)]) == 0
    assert f"{len(CONTRACTS)} written" in capsys.readouterr().out
    assert (tmp_path / "camera.schema.json").exists()
