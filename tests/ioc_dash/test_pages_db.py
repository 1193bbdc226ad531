"""One test per wall page: rows inserted into the run's database come back through the page's callback.

The run shares one database with other tests, so rows use their own names or overwrite their keys,
the checks look for what these rows say, and each test deletes its rows when it ends (a firing
alert left behind would be escalated by the alert store's tests).
"""
import uuid
from datetime import datetime, timezone

import pytest

from streams.core import sketch
from agents.indicators.dossier_kpi import local_month_start
from ioc_dash.app import create_app
from tests.ioc_dash.wall_support import call, text, wall_client
from tests.support import PLAN_2023


@pytest.fixture
def wall(test_settings):
    app = create_app(test_settings)
    return app, wall_client(app, test_settings)


def uniq(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def firing(db, undo, rule: str, entity: str, summary: str, severity: str = "critical") -> None:
    row = db.execute("""INSERT INTO alert (rule, entity, severity, state, started_at, fired_at, summary_vi, summary_en)
                        VALUES (%s, %s, %s, 'firing', now(), now(), %s, %s) RETURNING id""",
                     (rule, entity, severity, summary, summary)).fetchone()
    undo("DELETE FROM alert WHERE id = %s", row[0])


def test_systems_page_sparklines_and_timeline(wall, db, undo):
    app, client = wall
    for back, ok, errors in ((3, 0, 10), (2, 0, 10), (1, 6, 2)):
        db.execute(
            """INSERT INTO health_window (time, window_s, system, endpoint, probes, probes_ok, requests, errors,
                                          latency_hist, last_event)
               VALUES (date_trunc('minute', now()) - make_interval(mins => %(back)s), 60, 'ndxp', '*', 6, %(ok)s,
                       20, %(errors)s, %(hist)s, now())
               ON CONFLICT (system, endpoint, window_s, time) DO UPDATE
               SET probes = 6, probes_ok = %(ok)s, requests = 20, errors = %(errors)s, latency_hist = %(hist)s""",
            {"back": back, "ok": ok, "errors": errors, "hist": sketch.from_values([2500] * 10)})
    undo("""DELETE FROM health_window WHERE system = 'ndxp' AND window_s = 60 AND endpoint = '*'
            AND time >= date_trunc('minute', now()) - interval '5 minutes'""")
    out = call(client, app, "sys-table.children", {"lang.data": "en"})
    table = text(out["sys-table"])
    assert "Link to the national data exchange platform (NDXP)" in table and "Latency p95, 1 h" in table
    timeline = out["sys-timeline"]["figure"]["data"][0]
    row = timeline["y"].index("Link to the national data exchange platform (NDXP)")
    assert timeline["z"][row][-3:] == [0, 0, 1]  # down, down (no probe answered), degraded (10 % errors, slow)
    assert '"type": "spark-errors"' in table and "0.5" in table and "0.1" in table  # error rates of the minutes


def test_security_page_findings_sources_and_attack_rate(wall, db, undo):
    app, client = wall
    ip = f"198.51.100.{uuid.uuid4().int % 250 + 1}"
    undo("DELETE FROM security_finding WHERE subject = %s", ip)
    undo("DELETE FROM auth_failure_window WHERE src_ip = %s", ip)
    for k in range(4):  # the same brute force over four 5-minute buckets: one row on the page
        db.execute("""INSERT INTO security_finding (time, kind, subject, target, severity, layer, value, threshold,
                                                    detail, first_seen, last_seen)
                      VALUES (now() - %s * interval '5 minutes', 'brute_force', %s, 'eoffice',
                              CASE WHEN %s = 0 THEN 'critical' ELSE 'high' END, 3, 500, 20, '',
                              now() - %s * interval '5 minutes', now() - %s * interval '5 minutes')""",
                   (k, ip, k, k, k))
    db.execute("""INSERT INTO auth_failure_window (time, src_ip, target, failures, last_event)
                  VALUES (date_trunc('minute', now()), %s, 'eoffice', 100000, now())""", (ip,))
    entity = uniq("sys")
    undo("DELETE FROM security_window WHERE entity = %s", entity)
    db.execute("""INSERT INTO security_window (time, window_s, entity, type, severity, layer, events, blocked, last_event)
                  VALUES (date_trunc('minute', now()) - interval '1 minute', 60, %s, 'WafHit', 'critical', 2,
                          12345, 12000, now())""", (entity,))
    out = call(client, app, "sec-tiles.children", {"lang.data": "en"})
    findings = text(out["sec-findings"])
    assert findings.count(ip) == 1 and "Brute force" in findings and '"4"' in findings  # grouped: 4 times
    sources = text(out["sec-sources"])
    assert ip in sources and "100 000" in sources and '"1"' in sources  # one finding names the source
    layers = out["sec-layers"]["children"]["props"]["children"][1]["props"]["children"]  # the table's rows
    layer3 = [c["props"]["children"] for c in layers[2]["props"]["children"]]
    assert layer3[0] == "Layer 3: inspection" and int(layer3[1]["props"]["children"]) >= 1  # critical
    rate = {tr["name"]: tr for tr in out["sec-rate"]["figure"]["data"]}
    assert max(rate["Critical"]["y"]) >= 12345


def test_map_page_cameras_reports_and_incidents(wall, db, undo):
    app, client = wall
    undo("DELETE FROM camera_state WHERE camera = 'cam-vinhdieu-04'")
    db.execute("""INSERT INTO camera_state (camera, state, since, observed, observed_since, last_seen)
                  VALUES ('cam-vinhdieu-04', 'offline', now(), 'offline', now(), now())
                  ON CONFLICT (camera) DO UPDATE SET state = 'offline', observed = 'offline', since = now(),
                      observed_since = now(), last_seen = now(), flapping_since = NULL""")
    report = uniq("R")
    undo("DELETE FROM citizen_report WHERE report_id = %s", report)
    db.execute("""INSERT INTO citizen_report (report_id, category, unit_code, lon, lat, agency, deadline, reported_at,
                                              status)
                  VALUES (%s, 'flooding', '899', 105.0123, 10.0234, 'cn-kg', now() - interval '1 hour',
                          now() - interval '2 days', 'assigned')""", (report,))
    summary = uniq("Mặn vượt ngưỡng")
    firing(db, undo, uniq("salinity_test"), "sal-goquao", summary)
    out = call(client, app, "map-graph.figure")
    traces = {tr.get("name", "").split(" (")[0]: tr for tr in out["map-graph"]["figure"]["data"]}
    assert 104.79 in [round(x, 2) for x in traces["Camera mất tín hiệu"]["x"]]
    assert 105.0123 in traces["Phản ánh quá hạn"]["x"]
    assert 9.75 in traces["Sự cố: Nghiêm trọng"]["y"]  # sal-goquao's latitude
    assert summary in text(out["map-incidents"])
    assert any(tr.get("fill") == "toself" for tr in out["map-graph"]["figure"]["data"])  # the outline


def test_environment_page_stations_with_status(wall, db, undo):
    app, client = wall
    undo("DELETE FROM sensor_latest WHERE station = 'sal-goquao' AND metric = 'salinity'")
    undo("""DELETE FROM sensor_window WHERE station = 'rain-hondat' AND metric = 'precipitation'
            AND time >= now() - interval '20 minutes'""")
    db.execute("""INSERT INTO sensor_latest (station, metric, type, area, lon, lat, value, observed_at)
                  VALUES ('sal-goquao', 'salinity', 'WaterQualityObserved', '907', 105.27, 9.75, 7.7, now())
                  ON CONFLICT (station, metric) DO UPDATE SET value = 7.7, observed_at = now()""")
    db.execute("""INSERT INTO sensor_window (time, window_s, station, metric, n, sum, last_event)
                  VALUES (date_trunc('minute', now()) - interval '5 minutes', 600, 'rain-hondat', 'precipitation',
                          1, 61.5, now())
                  ON CONFLICT (station, metric, window_s, time) DO UPDATE SET sum = 61.5""")
    summary = uniq("Độ mặn cao")
    firing(db, undo, "salinity_high", uniq("sal"), summary)
    out = call(client, app, "env-water_level.children")
    salinity = text(out["env-salinity"])
    assert "Sông Cái Lớn tại Gò Quao" in salinity and "7.7" in salinity and "Nguy hiểm" in salinity
    rain = text(out["env-rain"])
    assert "Trạm đo mưa Hòn Đất" in rain and "61.5" in rain
    assert "Sông Cái Lớn tại Gò Quao" in text(out["env-water_level"])
    assert summary in text(out["env-alerts"])


def test_services_page_dossiers_plan_and_agencies(db, undo, test_settings, tmp_path):
    # a plan folder of its own (IOC_PLAN_DIR) whose plan is in effect whatever today is
    (tmp_path / "plan.yaml").write_text(PLAN_2023.read_text(encoding="utf-8").replace(
        "valid_from: 2023-01-01", "valid_from: 2000-01-01").replace("valid_to: 2023-12-31", "valid_to: 2999-12-31"),
        encoding="utf-8")
    settings = test_settings.model_copy(update={"plan_dir": tmp_path})
    app = create_app(settings)
    client = wall_client(app, settings)
    start = local_month_start(datetime.now(timezone.utc))
    dossier, report = uniq("D"), uniq("R")
    undo("DELETE FROM dossier_day WHERE unit_code = '909' AND channel = 'online' AND time = %s", start)
    undo("DELETE FROM dossier_state WHERE dossier_id LIKE %s", f"{dossier}%")
    undo("DELETE FROM citizen_report WHERE report_id = %s", report)
    db.execute("""INSERT INTO dossier_day (time, unit_code, level, channel, online_kind, received, online, digitised)
                  VALUES (%s, '909', 'district', 'online', 'full_process', 40, 40, 10)
                  ON CONFLICT (unit_code, level, channel, online_kind, time) DO UPDATE SET received = 40""", (start,))
    # more dossiers due soon than any unit of the run's simulated feeds has, so An Minh tops the list
    db.execute("""INSERT INTO dossier_state (dossier_id, procedure_code, unit_code, level, channel, received_date,
                                             due_date, status, origin)
                  SELECT %s || '-' || n, 'KG.XD.01', '909', 'district', 'online', now() - interval '14 days',
                         now() + interval '2 hours', 'in_progress', 'received' FROM generate_series(1, 500) n""",
               (dossier,))
    db.execute("""INSERT INTO citizen_report (report_id, category, unit_code, agency, deadline, reported_at, status)
                  VALUES (%s, 'electricity', '899', 'pc-kg', now() - interval '3 hours', now() - interval '1 day',
                          'assigned')""", (report,))
    out = call(client, app, "svc-kpis.children", {"lang.data": "en"})
    assert "Targets of plan 274/KH-UBND · 01/01/2000–31/12/2999" in text(out["svc-plan-title"])  # IOC_PLAN_DIR's
    plan = text(out["svc-plan"])
    assert "Dossiers resolved online" in plan and "≥ 50%" in plan
    units = text(out["svc-units"])
    assert "An Minh" in units
    assert "Công ty Điện lực An Giang" in text(out["svc-agencies"])
    assert "svc-received" in text(out["svc-kpis"])


def test_sources_page_shows_each_producer_and_the_workers(wall, db, undo):
    app, client = wall
    station = uniq("wall-test-station")
    undo("DELETE FROM producer_window WHERE producer = %s", station)
    db.execute("""INSERT INTO producer_window (time, family, producer, received, accepted, invalid, last_event,
                                               last_arrival)
                  VALUES (now() - interval '1 minute', 'sensor', %s, 400, 300, 100, now(), now())""", (station,))
    worker = uniq("wall-test-worker")
    undo("DELETE FROM worker_heartbeat WHERE worker = %s", worker)
    db.execute("INSERT INTO worker_heartbeat (worker, started_at, last_seen) VALUES (%s, now(), now())", (worker,))
    out = call(client, app, "src-producers.children", {"lang.data": "en"})
    table = text(out["src-producers"])
    assert station in table and "75%" in table and "Sensors" in table  # a quarter of what it sent was invalid
    assert worker in text(out["src-workers"]) and "Running" in text(out["src-workers"])
