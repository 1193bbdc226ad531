"""History figures (pure): the resolution said on every chart, values from rollup rows, the range's figures."""
from datetime import date, datetime, timedelta, timezone

from agents.indicators.history import HistoryRange, custom_range
from agents.indicators.sla import MonthSla, Outage
from ioc_dash import figures_history as fh
from streams.core import sketch
from streams.core.clock import LOCAL_TZ

T0 = datetime(2026, 11, 1, 17, tzinfo=timezone.utc)
MONTH = custom_range(date(2026, 11, 1), date(2026, 11, 30), LOCAL_TZ)
WEEK = HistoryRange("7d", T0, T0 + timedelta(days=7))


def system_rows():
    hist = sketch.from_values([50.0] * 18 + [800.0] * 2)
    return [{"at": T0, "probes": 100, "probes_ok": 100, "requests": 10, "errors": 0, "latency_hist": hist},
            {"at": T0 + timedelta(days=1), "probes": 100, "probes_ok": 50, "requests": 10, "errors": 5,
             "latency_hist": hist}]


def test_every_chart_says_its_resolution():
    assert fh.titled("hist_availability", MONTH, "vi") == "Sẵn sàng (theo ngày)"
    assert fh.titled("hist_availability", WEEK, "vi") == "Sẵn sàng (theo giờ)"
    for title, _ in fh.system_figures(system_rows(), MONTH, 1.0, "vi"):
        assert title.endswith("(theo ngày)")


def test_a_systems_availability_and_errors_per_bucket():
    (_, avail), (_, p95) = fh.system_figures(system_rows(), MONTH, 1.0, "vi")
    assert avail["data"][0]["y"] == [1.0, 0.5] and avail["data"][1]["y"] == [0.0, 0.5]
    assert avail["layout"]["xaxis"]["tickformat"] == "%d/%m"
    assert p95["data"][0]["y"][0] == sketch.quantile(system_rows()[0]["latency_hist"], 0.95)


def test_the_systems_heatmap_has_a_row_per_system_in_percent():
    rows = [{"at": T0, "system": "a", "probes": 10, "probes_ok": 9},
            {"at": T0, "system": "b", "probes": 10, "probes_ok": 10},
            {"at": T0 + timedelta(days=1), "system": "a", "probes": 0, "probes_ok": 0}]
    fig = fh.systems_figure(rows, {"a": "Hệ thống A"}, MONTH, 1.0, "vi")
    trace = fig["data"][0]
    assert trace["y"] == ["Hệ thống A", "b"]
    assert trace["z"] == [[90.0, None], [100.0, None]]  # no probe: no colour, never 0 %


def test_no_rows_draw_a_note_not_an_empty_axis():
    fig = fh.sources_figure([], {}, MONTH, 1.0, "vi")
    assert fig["data"] == [] and fig["layout"]["annotations"][0]["text"] == "Không có dữ liệu trong khoảng này"


def test_the_ranges_figures():
    assert fh.summary("system", system_rows(), "vi")[0] == ("Sẵn sàng", "75.00%")
    source = [{"received": 10, "accepted": 9, "rejected": 1}, {"received": 5, "accepted": 5, "rejected": 0}]
    assert fh.summary("source", source, "vi") == [("Nhận", "15"), ("Chấp nhận", "14"), ("Từ chối", "1")]
    station = [{"n": 2, "total": 3.0, "min": 1.0, "max": 2.0}, {"n": 2, "total": 5.0, "min": 2.0, "max": 3.0}]
    assert fh.summary("station", station, "vi") == [("Thấp nhất", "1.00"), ("Trung bình", "2.00"), ("Cao nhất", "3.00")]


def test_service_levels_and_outages_per_month():
    outage = Outage(T0, T0 + timedelta(minutes=12), alert_id=42)
    rows = [MonthSla("dvc", date(2026, 11, 1), 0.995, 43200, 43000, 12, 188, 0, (outage,))]
    sla = fh.sla_table(rows, "vi")
    assert "11/2026" in str(sla) and "99.972%" in str(sla)
    outages = fh.outages_table(rows, "vi")
    assert "/console/alert?id=42" in str(outages) and "12 phút" in str(outages)


def test_alerts_are_shaded_on_the_chart():
    (_, avail), _ = fh.system_figures(system_rows(), MONTH, 1.0, "vi")
    alerts = [{"started_at": T0, "resolved_at": T0 + timedelta(hours=2), "severity": "critical"},
              {"started_at": T0 + timedelta(days=1), "resolved_at": None, "severity": "high"}]
    shapes = fh.mark_alerts(avail, alerts, MONTH.until)["layout"]["shapes"]
    assert [(s["x0"], s["x1"]) for s in shapes] == [(T0, T0 + timedelta(hours=2)), (T0 + timedelta(days=1), MONTH.until)]
    assert fh.mark_alerts({"data": []}, alerts, MONTH.until) == {"data": []}  # no chart, nothing to shade
