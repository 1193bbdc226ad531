"""Pure figure functions of the shared pieces, systems, alerts and sources: no database."""
from datetime import datetime, timedelta, timezone

from streams.core import sketch
from agents.alerting.rules import load_rules
from agents.indicators.health import load_status_rules
from ioc_dash import figures
from ioc_dash.figures_alerts import (alert_list, critical_alerts, needs_attention, page_of, rule_pages,
                                     severity_counts)
from agents.indicators.producers import UNKNOWN, Counts, producer_health
from ioc_dash.figures_sources import family_blocks, fit, producer_columns, split
from ioc_dash.figures_systems import minute_status, minutes, series, sparkline, status_table, timeline
from ioc_dash.repository import Snapshot
from streams.core.geography import load_province
from streams.core.settings import Settings
from tests.ioc_dash.wall_support import text

NOW = datetime(2026, 11, 27, 3, 0, 30, tzinfo=timezone.utc)  # 10:00:30 in Asia/Ho_Chi_Minh
PROVINCE = load_province(Settings().province_file)
RULES = load_status_rules()


def minute(system, at, *, probes=6, ok=6, requests=10, errors=0, latency=100):
    return {"system": system, "time": at, "probes": probes, "probes_ok": ok, "requests": requests, "errors": errors,
            "latency_hist": sketch.from_values([latency] * 10), "last_event": at + timedelta(seconds=50)}


def alert(id, severity="critical", state="firing", rule="system_unavailable", entity="lgsp", at=NOW, **kw):
    return {"id": id, "rule": rule, "entity": entity, "severity": severity, "state": state, "started_at": at,
            "fired_at": at, "summary_vi": f"cảnh báo {id}", "summary_en": f"alert {id}", "suppressed_by": None,
            "silenced_until": None, "acknowledged_by": None, **kw}


# --- shared pieces ---------------------------------------------------------------------------------


def test_times_are_shown_in_ho_chi_minh_and_ages_in_words():
    assert figures.local_time(NOW) == "10:00:30 27/11/2026"
    assert figures.ago(NOW - timedelta(days=2, hours=1), NOW, "vi") == "2 ngày trước"
    assert figures.ago(NOW - timedelta(minutes=5), NOW, "en") == "5 min ago"
    assert figures.ago(None, NOW, "vi") == "chưa có"


def test_figure_layout_merges_axes_and_scales_fonts():
    layout = figures.figure_layout(2.0, yaxis={"type": "log"})
    assert layout["yaxis"] == {"gridcolor": figures.COLORS["grid"], "zeroline": False, "type": "log"}
    assert layout["font"]["size"] == layout["legend"]["font"]["size"] == 40  # 20 px at 1920×1080, twice on 4K
    assert figures.rgba("#e5484d", 0.5) == "rgba(229,72,77,0.5)"


def test_a_table_without_rows_says_so():
    table = figures.data_table(["a", "b"], [], id="t", empty="Không có")
    assert "Không có" in text(table)


# --- information systems -------------------------------------------------------------------------


def test_every_system_is_listed_worst_first():
    snap = Snapshot(NOW, systems=[
        {"system": "dvc", "probes": 10, "probes_ok": 0, "requests": 50, "errors": 30,
         "latency_hist": sketch.from_values([90] * 50), "last_event": NOW - timedelta(seconds=5)},
        {"system": "eoffice", "probes": 10, "probes_ok": 10, "requests": 50, "errors": 0,
         "latency_hist": sketch.from_values([40] * 50), "last_event": NOW - timedelta(seconds=5)}])
    statuses = figures.system_statuses(snap, PROVINCE, rules=RULES)
    assert {s.system for s in statuses} == {s.code for s in PROVINCE.systems}
    assert statuses[0].system == "dvc" and statuses[0].status == "down"
    assert next(s for s in statuses if s.system == "gis").status == "stale"


def test_a_minute_is_judged_like_the_live_status():
    assert minute_status(minute("dvc", NOW), RULES).status == "ok"
    assert minute_status(minute("dvc", NOW, ok=0), RULES).status == "down"
    assert minute_status(minute("dvc", NOW, latency=3000), RULES).status == "degraded"
    failing = {**minute("dvc", NOW, ok=3), "last_ok": NOW + timedelta(seconds=25), "last_failed": NOW + timedelta(seconds=55)}
    assert minute_status(failing, RULES).status == "down"  # probes failed for the last half of the minute


def test_the_timeline_covers_the_last_hour_of_complete_minutes():
    xs = minutes(NOW)
    assert len(xs) == 60 and xs[-1] == datetime(2026, 11, 27, 2, 59, tzinfo=timezone.utc)
    history = {"dvc": [minute("dvc", xs[-1], ok=0), minute("dvc", xs[-2])]}
    got_xs, rows = timeline(history, ["dvc", "gis"], NOW, RULES)
    assert got_xs == xs
    assert rows[0][-1] == "down" and rows[0][-2] == "ok" and rows[0][0] == "stale"
    assert set(rows[1]) == {"stale"}


def test_sparklines_show_p95_and_error_rate_per_minute():
    rows = [minute("dvc", NOW - timedelta(minutes=2), latency=100),
            minute("dvc", NOW - timedelta(minutes=1), errors=5, latency=400)]
    xs, p95 = series(rows, "p95_ms")
    assert xs == ["09:58", "09:59"] and abs(p95[1] - 400) / 400 < 0.05
    assert series(rows, "error_rate")[1] == [0.0, 0.5]
    fig = sparkline(xs, [None, None], "#4ea1f2", y_floor=0.05)
    assert fig["layout"]["yaxis"]["range"][1] > 0  # an empty series still draws an axis


def test_the_status_table_has_uptime_and_sparklines():
    statuses = figures.system_statuses(Snapshot(NOW), PROVINCE, rules=RULES)
    table = status_table(statuses, PROVINCE, NOW, "en", {"lgsp": (0.9995, 0.98)},
                         {"lgsp": [minute("lgsp", NOW - timedelta(minutes=1))]})
    out = text(table)
    assert "Uptime 24 h" in out and "99.95%" in out and "98.00%" in out and "spark-p95" in out


# --- alerts --------------------------------------------------------------------------------------


def test_rules_belong_to_the_page_of_their_indicator():
    pages = rule_pages(load_rules(Settings().alert_rule_files()))
    assert pages["system_unavailable"] == "systems" and pages["water_level_danger"] == "environment"
    assert pages["camera_offline"] == "border" and pages["dossiers_late"] == "services"
    assert pages["feed_silent"] == "sources" and pages["brute_force_source"] == "security"
    assert page_of({"rule": "unknown"}, pages) == "overview"


def test_only_firing_unsuppressed_unsilenced_alerts_need_attention():
    assert needs_attention(alert(1), NOW)
    assert not needs_attention(alert(2, state="pending"), NOW)
    assert not needs_attention(alert(3, suppressed_by=1), NOW)
    assert not needs_attention(alert(4, silenced_until=NOW + timedelta(minutes=5)), NOW)
    assert needs_attention(alert(5, silenced_until=NOW - timedelta(minutes=5)), NOW)


def test_critical_alerts_newest_first_and_counts_by_severity():
    alerts = [alert(1, at=NOW - timedelta(minutes=5)), alert(2), alert(3, "high"), alert(4, suppressed_by=1)]
    assert [a["id"] for a in critical_alerts(alerts, NOW)] == [2, 1]
    assert severity_counts(alerts, NOW) == {"critical": 2, "high": 1, "medium": 0, "low": 0, "informational": 0}


def test_the_alert_list_is_worst_first_in_the_language_with_a_more_line():
    alerts = [alert(1, "medium"), alert(2, "critical"), alert(3, "high", acknowledged_by="an")]
    out = text(alert_list(alerts, NOW, "en", limit=2))
    assert out.index("alert 2") < out.index("alert 3") and "alert 1" not in out
    assert "acknowledged: an" in out and "and 1 more" in out
    only = text(alert_list(alerts + [alert(9, rule="salinity_high")], NOW, "vi", page="environment",
                           pages={"salinity_high": "environment"}))
    assert "cảnh báo 9" in only and "cảnh báo 2" not in only


def test_the_drill_banner_names_each_running_drill_and_its_time_left():
    run = {"scenario": "dvc-ddos", "title_vi": "Tấn công DDoS vào Cổng dịch vụ công", "title_en": "DDoS on dvc",
           "started_at": NOW - timedelta(minutes=1), "ends_at": NOW + timedelta(seconds=245)}
    def said(banner):
        return "".join(c.children for c in banner.children)
    vi = figures.drill_banner([run], NOW, "vi")
    assert said(vi) == "DIỄN TẬP · Tấn công DDoS vào Cổng dịch vụ công (dvc-ddos) · còn 4:05"
    assert "hidden" not in vi.className
    assert said(figures.drill_banner([run], NOW, "en")) == "DRILL · DDoS on dvc (dvc-ddos) · 4:05 left"
    # over (its run not yet closed, or a dead process's): no banner
    assert "hidden" in figures.drill_banner([run], NOW + timedelta(seconds=246), "vi").className
    assert "hidden" in figures.drill_banner([], NOW, "vi").className


def test_a_drill_alert_says_so_on_the_wall():
    out = text(alert_list([alert(1, drill="dvc-ddos"), alert(2)], NOW, "vi"))
    assert "diễn tập dvc-ddos" in out and out.count("diễn tập") == 1


# --- sources ---------------------------------------------------------------------------------------


def producer(family, code, *, last_s=5.0, received=600, invalid=0, duplicates=0, expected=600.0, received_last=600):
    return producer_health(family, code, recent=Counts(received=received, accepted=received - invalid - duplicates,
                                                       duplicates=duplicates, invalid=invalid),
                           received_last=received_last, last_event=NOW - timedelta(seconds=last_s),
                           last_arrival=NOW - timedelta(seconds=last_s), expected_now=expected,
                           expected_last=expected, now=NOW)


def test_each_producer_shows_its_four_checks_under_its_family():
    healths = [producer("health", "dvc", invalid=60), producer("health", "email", last_s=1200),
               producer("sensor", "st-1", received_last=100), producer("security", UNKNOWN, invalid=4, received=4)]
    out = text(producer_columns(healths, ["health", "security", "camera", "sensor"], {"dvc": "Cổng DVC"}, NOW, "vi"))
    assert "Hệ thống thông tin" in out and "Cảm biến" in out and "Camera" not in out  # no camera producer
    assert "Cổng DVC" in out and "90%" in out  # its name; 10 % of what it sent was invalid
    assert "20 phút" in out and "✗" in out  # e-mail silent for 20 minutes, 200 of its 600 an hour missed
    assert "17%" in out  # the station sent 100 of its 600 in the last complete hour
    assert "Không xác định" in out and "1/2" in out


def test_producers_worst_first_and_the_rest_summed_up_so_that_the_rows_fit():
    healths = [producer("sensor", f"st-{i:02d}") for i in range(30)] + [producer("sensor", "st-99", last_s=3600)]
    healths += [producer("health", s) for s in ("a", "b", "c")]
    (column,) = family_blocks(healths, ["health", "sensor"], rows=12, columns=1)
    assert [(b.family, b.shown, len(b.hidden)) for b in column] == [("health", 3, 0), ("sensor", 6, 25)]
    assert column[1].producers[0].producer == "st-99"  # the silent one first
    assert sum(b.rows for b in column) == 12
    out = text(producer_columns(healths, ["health", "sensor"], {}, NOW, "vi"))
    assert "+ 14 đơn vị khác: tốt" in out  # two columns of 19 rows: health in one, 17 of the 31 stations in the other


def test_fit_and_split():
    assert fit([3, 30], 12) == [3, 6] and fit([0, 2], 12) == [0, 2] and fit([5, 5], 6) == [1, 1] and fit([5, 5], 4) == [0, 0]
    assert split([10, 13, 9, 25, 16, 13, 34]) == [0, 4] and split([5]) == [0]
