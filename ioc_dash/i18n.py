"""Vietnamese by default, English switchable.  Keys are English-ish identifiers.

The language of a request: the ``lang`` query parameter, else the ``ioc_lang`` cookie, else
Vietnamese (``lang_from``; ``request_lang`` reads them from the current Flask request).  Other
modules add their strings with ``register``; ``t`` falls back to Vietnamese, then to the key.
"""
from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qs

LANGS = ("vi", "en")
DEFAULT_LANG = "vi"
LANG_PARAM = "lang"
LANG_COOKIE = "ioc_lang"

STRINGS: dict[str, dict[str, str]] = {
    # --- the shell --------------------------------------------------------------------------------
    "title": {"vi": "Trung tâm điều hành đô thị thông minh Kiên Giang", "en": "Kiên Giang Intelligent Operations Centre"},
    "page_overview": {"vi": "Tổng quan", "en": "Overview"},
    "page_systems": {"vi": "Hệ thống thông tin", "en": "Information systems"},
    "page_security": {"vi": "An toàn thông tin", "en": "Security"},
    "page_map": {"vi": "Bản đồ", "en": "Map"},
    "page_environment": {"vi": "Môi trường", "en": "Environment"},
    "page_services": {"vi": "Dịch vụ công", "en": "Public services"},
    "page_sources": {"vi": "Nguồn dữ liệu", "en": "Data sources"},
    "page_wall": {"vi": "Màn hình tường", "en": "Wall"},
    "page_not_found": {"vi": "Không có trang này", "en": "No such page"},
    "lang_vi": {"vi": "Tiếng Việt", "en": "Tiếng Việt"},
    "lang_en": {"vi": "English", "en": "English"},
    "none": {"vi": "Không có", "en": "None"},
    # --- freshness --------------------------------------------------------------------------------
    "never": {"vi": "chưa có", "en": "never"},
    "seconds_ago": {"vi": "{n} giây trước", "en": "{n} s ago"},
    "minutes_ago": {"vi": "{n} phút trước", "en": "{n} min ago"},
    "hours_ago": {"vi": "{n} giờ trước", "en": "{n} h ago"},
    "days_ago": {"vi": "{n} ngày trước", "en": "{n} d ago"},
    "stale_since": {"vi": "Dữ liệu cũ từ {since}", "en": "Data stale since {since}"},
    "drill_banner": {"vi": "DIỄN TẬP", "en": "DRILL"},
    "drill_left": {"vi": "còn {left}", "en": "{left} left"},
    "drill_tag": {"vi": "diễn tập {drill}", "en": "drill {drill}"},
    "no_data_yet": {"vi": "Chưa nhận được dữ liệu", "en": "No data received yet"},
    "stale_no_data": {"vi": "chưa có nguồn nào gửi dữ liệu", "en": "no source has sent data"},
    "stale_data_old": {"vi": "các nguồn không gửi dữ liệu mới", "en": "sources send no new data"},
    "stale_pipeline_stopped": {"vi": "bộ xử lý luồng đã dừng", "en": "the stream worker has stopped"},
    "stale_db_unreachable": {"vi": "không đọc được cơ sở dữ liệu", "en": "the database cannot be read"},
    # --- information systems ----------------------------------------------------------------------
    "systems_title": {"vi": "Tình trạng hệ thống thông tin", "en": "Information systems status"},
    "system": {"vi": "Hệ thống", "en": "System"},
    "status": {"vi": "Trạng thái", "en": "Status"},
    "availability": {"vi": "Sẵn sàng (5 phút)", "en": "Availability (5 min)"},
    "error_rate": {"vi": "Tỷ lệ lỗi", "en": "Error rate"},
    "p95": {"vi": "Độ trễ p95", "en": "Latency p95"},
    "uptime_24h": {"vi": "Hoạt động 24 giờ", "en": "Uptime 24 h"},
    "uptime_30d": {"vi": "Hoạt động 30 ngày", "en": "Uptime 30 d"},
    "last_event": {"vi": "Dữ liệu gần nhất", "en": "Last data"},
    "p95_hour": {"vi": "Độ trễ p95, 1 giờ", "en": "Latency p95, 1 h"},
    "errors_hour": {"vi": "Tỷ lệ lỗi, 1 giờ", "en": "Error rate, 1 h"},
    "timeline_title": {"vi": "Diễn biến trạng thái trong 1 giờ (mỗi phút)", "en": "Status over the last hour (per minute)"},
    "status_ok": {"vi": "Bình thường", "en": "OK"},
    "status_degraded": {"vi": "Suy giảm", "en": "Degraded"},
    "status_down": {"vi": "Mất kết nối", "en": "Down"},
    "status_stale": {"vi": "Không có dữ liệu", "en": "No data"},
    # --- sources ----------------------------------------------------------------------------------
    "sources_title": {"vi": "Nguồn dữ liệu: đúng, đủ, sạch, sống", "en": "Data sources: correct, complete, clean, live"},
    "source": {"vi": "Nguồn", "en": "Source"},
    "rate": {"vi": "Tốc độ (5 phút)", "en": "Rate (5 min)"},
    "expected": {"vi": "Kỳ vọng", "en": "Expected"},
    "rejected": {"vi": "Bị loại", "en": "Rejected"},
    "duplicates": {"vi": "Trùng lặp", "en": "Duplicates"},
    "last_arrival": {"vi": "Nhận gần nhất", "en": "Last arrival"},
    "source_ok": {"vi": "Tốt", "en": "OK"},
    "source_incomplete": {"vi": "Thiếu", "en": "Incomplete"},
    "source_dirty": {"vi": "Lỗi dữ liệu", "en": "Dirty"},
    "source_silent": {"vi": "Im lặng", "en": "Silent"},
    "feed_health": {"vi": "Hệ thống thông tin", "en": "Information systems"},
    "feed_security": {"vi": "An toàn thông tin", "en": "Security"},
    "feed_camera": {"vi": "Camera", "en": "Cameras"},
    "feed_sensor": {"vi": "Cảm biến", "en": "Sensors"},
    "feed_dossier": {"vi": "Hồ sơ TTHC", "en": "Public-service dossiers"},
    "feed_citizen": {"vi": "Phản ánh hiện trường", "en": "Citizen reports"},
    "workers_title": {"vi": "Bộ xử lý luồng", "en": "Stream workers"},
    "worker": {"vi": "Bộ xử lý", "en": "Worker"},
    "started": {"vi": "Khởi động", "en": "Started"},
    "last_seen": {"vi": "Tín hiệu gần nhất", "en": "Last seen"},
    "worker_live": {"vi": "Đang chạy", "en": "Running"},
    "worker_stopped": {"vi": "Đã dừng", "en": "Stopped"},
    # --- alerts -----------------------------------------------------------------------------------
    "alerts_title": {"vi": "Cảnh báo đang mở", "en": "Open alerts"},
    "severity_critical": {"vi": "Nghiêm trọng", "en": "Critical"},
    "severity_high": {"vi": "Cao", "en": "High"},
    "severity_medium": {"vi": "Trung bình", "en": "Medium"},
    "severity_low": {"vi": "Thấp", "en": "Low"},
    "severity_informational": {"vi": "Thông tin", "en": "Info"},
    "alert_unacknowledged": {"vi": "chưa có người tiếp nhận", "en": "not acknowledged"},
    "alert_acknowledged": {"vi": "đã tiếp nhận: {who}", "en": "acknowledged: {who}"},
    "no_open_alerts": {"vi": "Không có cảnh báo nào đang mở", "en": "No open alerts"},
    "more_alerts": {"vi": "… và {n} cảnh báo khác", "en": "… and {n} more"},
    # --- overview tiles ---------------------------------------------------------------------------
    "kpi_title": {"vi": "Chỉ số chính", "en": "Key indicators"},
    "kpi_cameras_offline": {"vi": "Camera mất tín hiệu", "en": "Cameras offline"},
    "kpi_sensors_alert": {"vi": "Trạm vượt ngưỡng", "en": "Stations over threshold"},
    "kpi_dossiers_late": {"vi": "Hồ sơ trễ hạn (tháng)", "en": "Dossiers late (month)"},
    "kpi_reports_overdue": {"vi": "Phản ánh quá hạn", "en": "Reports overdue"},
    "kpi_findings": {"vi": "Phát hiện ATTT (24 giờ)", "en": "Security findings (24 h)"},
    "of_total": {"vi": "trên {n}", "en": "of {n}"},
}


def register(strings: Mapping[str, Mapping[str, str]]) -> None:
    """Add strings (``{key: {"vi": …, "en": …}}``); pages and the console call it at import.
    A key may be registered again only with the same texts."""
    for key, entry in strings.items():
        if "vi" not in entry:
            raise ValueError(f"string {key!r} has no Vietnamese text")
        if key in STRINGS and STRINGS[key] != dict(entry):
            raise ValueError(f"string {key!r} is already registered with other texts: {STRINGS[key]}")
        STRINGS[key] = dict(entry)


def t(key: str, lang: str = DEFAULT_LANG) -> str:
    entry = STRINGS.get(key)
    if entry is None:
        return key
    return entry.get(lang) or entry["vi"]


def pick_lang(*candidates: str | None) -> str:
    """The first candidate that is a known language, else Vietnamese."""
    for c in candidates:
        if c in LANGS:
            return c  # type: ignore[return-value]
    return DEFAULT_LANG


def query_lang(search: str | Mapping[str, str] | None) -> str | None:
    """The ``lang`` of a query string (``?lang=en``) or of parsed query arguments, if any."""
    if not search:
        return None
    if isinstance(search, str):
        values = parse_qs(search.lstrip("?")).get(LANG_PARAM)
        return values[-1] if values else None
    return search.get(LANG_PARAM)


def lang_from(search: str | Mapping[str, str] | None = None, cookies: Mapping[str, str] | None = None) -> str:
    """``?lang=`` wins, then the ``ioc_lang`` cookie, then Vietnamese."""
    return pick_lang(query_lang(search), (cookies or {}).get(LANG_COOKIE))


def request_lang(search: str | None = None) -> str:
    """The language of the current Flask request (a page, or a Dash callback with the page's query)."""
    from flask import has_request_context, request

    if not has_request_context():
        return lang_from(search)
    return lang_from(search if search is not None else request.args, request.cookies)
