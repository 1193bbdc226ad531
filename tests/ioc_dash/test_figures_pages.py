"""Pure figure functions of the security, map, environment and services pages: no database."""
from datetime import datetime, timedelta, timezone

from streams.core import sketch
from agents.indicators.dossier_kpi import local_month_start
from agents.indicators.plan import load_plan
from tests.support import PLAN_2023
from agents.indicators.sensor_kpi import load_sensor_rules
from ioc_dash.figures_env import kind_table, kind_views, station_views, status_counts
from ioc_dash.figures_map import (camera_points, incident_points, map_figure, outline_traces, point_traces,
                                  report_points)
from ioc_dash.figures_security import (attack_rate_figure, by_layer, findings_table, layer_table,
                                       severity_counts, soc_link_tile, top_sources_table)
from ioc_dash.figures_services import Notes, agency_table, late_units_table, plan_rows, services_view
from ioc_dash.geo import load_outline, locations, outline_path
from ioc_dash.repository import Snapshot
from streams.core.geography import load_province
from streams.core.settings import Settings
from tests.ioc_dash.wall_support import text

NOW = datetime(2026, 11, 27, 3, 0, 30, tzinfo=timezone.utc)
SETTINGS = Settings()
PROVINCE = load_province(SETTINGS.province_file)
RULES = load_sensor_rules()


def finding(subject, severity="high", layer=2, kind="brute_force", ago_s=60):
    return {"kind": kind, "subject": subject, "target": "eoffice", "severity": severity, "layer": layer,
            "value": 50.0, "threshold": 20.0, "detail": "", "first_seen": NOW - timedelta(seconds=ago_s),
            "last_seen": NOW - timedelta(seconds=ago_s)}


# --- security --------------------------------------------------------------------------------------


def test_findings_by_layer_and_severity_stack_only_what_exists():
    counts = [{"severity": "high", "layer": 2, "n": 40}, {"severity": "critical", "layer": 2, "n": 1},
              {"severity": "medium", "layer": 4, "n": 3}, {"severity": "high", "layer": 0, "n": 5}]
    assert by_layer(counts)[2]["high"] == 40 and by_layer(counts)[4]["medium"] == 3
    assert severity_counts(counts)["high"] == 45  # layer unknown still counts by severity
    table = layer_table(counts, "vi").children[1].children  # the body: a row per layer
    cells = [[c.children for c in row.children] for row in table]
    assert [r[0] for r in cells] == ["Lớp 1: tại chỗ", "Lớp 2: giám sát, bảo vệ", "Lớp 3: kiểm tra độc lập",
                                     "Lớp 4: giám sát quốc gia"]
    assert cells[1][1].children == "1" and "badge-down" in cells[1][1].className  # layer 2: one critical
    assert cells[1][2].children == "40" and cells[3][3].children == "3" and cells[0][1:] == ["·"] * 4
    table = text(findings_table([finding("1.1.1.1", ago_s=10), finding("2.2.2.2", "critical", ago_s=99)], NOW, "en"))
    assert table.index("2.2.2.2") < table.index("1.1.1.1")  # worst first


def test_attack_rate_is_stacked_per_minute_by_severity():
    m1, m2 = NOW - timedelta(minutes=2), NOW - timedelta(minutes=1)
    rows = [{"time": m1, "severity": "low", "events": 40, "blocked": 40},
            {"time": m2, "severity": "low", "events": 60, "blocked": 50},
            {"time": m2, "severity": "critical", "events": 2, "blocked": 0}]
    fig = attack_rate_figure(rows, "en")
    by_name = {tr["name"]: tr for tr in fig["data"]}
    assert by_name["Low"]["y"] == [40, 60] and by_name["Critical"]["y"] == [0, 2]
    assert by_name["Low"]["x"] == ["09:58", "09:59"] and by_name["Low"]["stackgroup"] == "one"


def test_top_sources_count_findings_about_them_and_the_layer4_link_shows_its_health():
    sources = [{"src_ip": "45.12.3.4", "failures": 120, "targets": 2, "last_event": NOW, "findings": 2}]
    out = text(top_sources_table(sources, NOW, "en"))
    assert "45.12.3.4" in out and "120" in out and '"2"' in out
    down = soc_link_tile([{"up": False, "last_success_at": NOW - timedelta(minutes=3)}], NOW, "en")
    assert "Down" in text(down) and "3 min ago" in text(down) and "tile-down" in text(down)
    assert "Not configured" in text(soc_link_tile([], NOW, "en"))


# --- environment -----------------------------------------------------------------------------------


def reading(station, metric, value, ago_s=30, **kw):
    return {"station": station, "metric": metric, "type": "x", "value": value, "text_value": None,
            "observed_at": NOW - timedelta(seconds=ago_s), "rise_per_h": None, "alert_level": None,
            "danger_level": None, **kw}


def test_stations_get_their_worst_status_rain_and_staleness():
    # 5.2 ‰ is the sea at an estuary (sal-caibe: its own lines, 26 / 30 ‰) and ruin for rice inland
    snap = Snapshot(NOW, sensors=[reading("sal-caibe", "salinity", 5.2), reading("sal-goquao", "salinity", 5.2),
                                  reading("wl-rachgia", "waterLevel", 0.95),
                                  reading("rain-tanhiep", "precipitation", 2.0),
                                  reading("aq-pq-anthoi", "airQualityIndex", 160, ago_s=7200)],
                    rain_1h={"rain-tanhiep": 55.0})
    views = {v.station.code: v for v in station_views(snap, PROVINCE, RULES)}
    assert views["sal-goquao"].state == "danger" and views["sal-caibe"].state == "normal"
    assert views["wl-rachgia"].state == "alert" and views["wl-rachgia"].levels == (0.9, 1.2)
    assert views["rain-tanhiep"].state == "danger" and views["rain-tanhiep"].rain_mm == 55.0
    assert views["aq-pq-anthoi"].state == "stale" and views["aq-pq-anthoi"].status == "alert"
    assert views["wx-thochu"].state == "stale"  # never heard from
    counts = status_counts(list(views.values()))
    assert counts["danger"] == 2 and counts["alert"] == 1
    salinity = kind_views(list(views.values()), "salinity")
    assert salinity[0].station.code == "sal-goquao"  # worst first
    out = text(kind_table(list(views.values()), "salinity", NOW, "en"))
    assert "5.2" in out and "Danger" in out and "Stale" in out


# --- map -----------------------------------------------------------------------------------------------


def test_map_points_from_cameras_reports_and_incidents():
    cam = next(c for c in PROVINCE.cameras if c.heartbeat_s == 300)
    slow = next(c for c in PROVINCE.cameras if c.heartbeat_s == 600)
    rows = [{"camera": c.code, "state": "online", "since": NOW, "observed": "online", "observed_since": NOW,
             "last_seen": NOW - timedelta(minutes=12), "flapping_since": None, "conditions": []} for c in (cam, slow)]
    cams = {p.label: p.state for p in camera_points(rows, PROVINCE, NOW)}
    assert cams[cam.name] == "offline"  # silent for 12 minutes: 2 missed 300-s heartbeats + 60 s
    assert cams[slow.name] == "online"  # a 600-s camera has missed only one
    assert len(cams) == len({c.name for c in PROVINCE.cameras})
    report = {"report_id": "R1", "category": "flooding", "lat": 10.0, "lon": 105.08, "status": "assigned",
              "reported_at": NOW - timedelta(hours=30), "deadline": NOW - timedelta(hours=1), "responded_at": None}
    states = [p.state for p in report_points([report, {**report, "responded_at": NOW}, {**report, "lat": None}], NOW)]
    assert states == ["late", "answered"]
    alerts = [{"id": 1, "rule": "salinity_high", "entity": "sal-caibe", "severity": "critical", "state": "firing",
               "started_at": NOW, "fired_at": NOW, "summary_vi": "Mặn", "summary_en": "Salty"},
              {"id": 2, "rule": "system_unavailable", "entity": "dvc", "severity": "critical", "state": "firing",
               "started_at": NOW, "fired_at": NOW}]
    incidents = incident_points(alerts, locations(PROVINCE), NOW, "en")
    assert [(p.label, p.lat) for p in incidents] == [("Salty", 9.9)]  # a system has no place on the map


def test_the_map_draws_the_shipped_outline_and_a_trace_per_layer_and_state():
    outline = load_outline(outline_path(SETTINGS.province_file, PROVINCE))
    traces = outline_traces(outline)
    assert [tr.get("fill") for tr in traces[:2]] == ["toself", "toself"] and traces[-1]["line"]["dash"] == "dash"
    cams = camera_points([], PROVINCE, NOW)
    fig = map_figure(outline, PROVINCE, cams, "vi")
    names = [tr.get("name") for tr in fig["data"] if tr.get("name")]
    assert names == [f"Camera chưa rõ ({len(PROVINCE.cameras)})"]
    assert fig["layout"]["yaxis"]["scaleanchor"] == "x" and 1.01 < fig["layout"]["yaxis"]["scaleratio"] < 1.02
    assert "mapbox" not in text(fig) and all(tr["type"] == "scatter" for tr in fig["data"])
    incident = point_traces(incident_points([{"id": 1, "rule": "r", "entity": "899", "severity": "high",
                                              "state": "firing", "started_at": NOW}], locations(PROVINCE), NOW,
                                            "en"), "en")
    assert incident[0]["name"] == "Incident: High (1)" and incident[0]["marker"]["symbol"] == "circle-open"


# --- services ------------------------------------------------------------------------------------------


def day_row(unit, level, **counts):
    base = dict(received=0, carried_over=0, resolved_early=0, resolved_on_time=0, resolved_late=0, returned=0,
                withdrawn=0, digitised=0, results_digitised=0, online=0, full_process=0)
    return {"time": local_month_start(NOW), "unit_code": unit, "level": level, **{**base, **counts}}


def test_services_kpis_against_the_plan_and_backlogs():
    start = local_month_start(NOW)
    snap = Snapshot(NOW, month_start=start, dossier_days=[
        day_row("906", "district", received=10, online=6, digitised=3, resolved_on_time=4, resolved_late=1,
                full_process=3, full_process_received=4, auth_reported=6, auth_vneid=5),
        day_row("30787", "commune", received=10, online=4)],
        dossier_open=[{"unit_code": "906", "level": "district", "received_date": NOW - timedelta(days=9),
                       "due_date": NOW + timedelta(hours=5), "status": "in_progress"}],
        citizen_open=[{"report_id": "R1", "agency": "cong-an", "status": "assigned", "reported_at": NOW - timedelta(days=2),
                       "deadline": NOW - timedelta(days=1), "responded_at": None}],
        citizen_service=[{"agency": "cong-an", "responded": 4, "responded_late": 1, "ratings": 4, "rating_sum": 16,
                          "satisfied": 3, "response_minutes_hist": sketch.from_values([60] * 4)}],
        document_month=[{"level": "district", "documents_sent": 40, "documents_sent_electronic": 38,
                         "work_records": 20, "work_records_online": 18},
                        {"level": "commune", "documents_sent": 10, "documents_sent_electronic": 10,
                         "work_records": 10, "work_records_online": 5}])
    view = services_view(snap, load_plan(PLAN_2023), procedures=PROVINCE.procedures)
    assert view.whole.received == 20 and view.whole.online_share == 0.5 and view.satisfaction == 0.75
    assert view.by_unit["906"].in_progress_due_soon == 1
    met = {(c.target.key, c.target.level, c.measure): c.met for c in view.checks}
    assert met[("dossiers_online", None, "dossier.online_share")] is True
    assert met[("satisfaction", None, "citizen.satisfaction_share")] is False  # 75 % is not > 90 %
    values = {c.measure: c.value for c in view.checks if c.target.level is None}
    assert values["dossier.full_process_online_share"] == 0.75  # 3 of the 4 full-process dossiers online
    assert values["dossier.vneid_share"] == 5 / 6
    fp = [p.online for p in PROVINCE.procedures]
    assert values["procedure.full_process_share"] == fp.count("full_process") / len(fp)
    assert met[("e_id_auth", None, "dossier.vneid_share")] is True  # 83 % against 80 %
    notes = Notes()
    rows, classes = plan_rows(view.checks, "vi", notes)
    # two targets with two measures each (digitisation; full-process: the catalogue and the dossiers),
    # the levels of a measure side by side in one row
    assert classes.count("plan-group") == 2 and classes.count("plan-sub") == 4
    digitised = next(r for r in rows if '"children": "số hóa hồ sơ"' in text(r[0]))
    assert digitised[2] == "— / 30% / 0%"  # province (no dossier: its reason is not a note) / district / commune
    assert "Chưa đạt" in text(digitised[3])  # the commune's 0 % is not 15 %
    assert values["office.electronic_documents_share"] == 48 / 50  # the e-office's tallies, all levels
    documents = next(r for r in rows if "Văn bản trao đổi" in text(r[0]))
    assert documents[2] == "96.0%" and "Chưa đạt" in text(documents[3])  # not 100 %
    work = next(r for r in rows if "Hồ sơ công việc" in text(r[0]))
    assert work[2] == "— / 90% / 50%" and "Chưa đạt" in text(work[3])  # the commune's 50 % is not 60 %
    unmeasured = next(r for r in rows if "tự động nhập" in text(r[0]))
    assert unmeasured[2] == "—¹" and "Chưa đo" in text(unmeasured[3])
    # auto-filled forms: no feed says it; the register was not read
    assert notes.reasons == ["Chưa có nguồn dữ liệu nào báo chỉ tiêu này", "Chưa đọc được sổ đăng ký an toàn thông tin"]
    no_rating = services_view(Snapshot(NOW, month_start=start), load_plan(PLAN_2023))
    notes = Notes()
    plan_rows(no_rating.checks, "vi", notes)
    assert set(notes.reasons) == {"Chưa có hồ sơ trong tháng", "Tệp dữ liệu tỉnh chưa có danh mục thủ tục",
                                  "Hệ thống một cửa chưa báo cách đăng nhập trong tháng",
                                  "Chưa có nguồn dữ liệu nào báo chỉ tiêu này", "Chưa có đánh giá của người dân trong tháng",
                                  "Chưa đọc được sổ đăng ký an toàn thông tin",
                                  "Hệ thống quản lý văn bản chưa gửi số liệu trong tháng"}
    units = text(late_units_table(view, PROVINCE, "vi"))
    assert "Giồng Riềng" in units
    agencies = text(agency_table(view, PROVINCE, "en"))
    assert "Công an tỉnh" in agencies and "75%" in agencies
