"""Vietnamese by default, English switchable.  Keys are English-ish identifiers."""
from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    "title": {"vi": "Trung tâm điều hành đô thị thông minh Kiên Giang", "en": "Kiên Giang Intelligent Operations Centre"},
    "systems_title": {"vi": "Tình trạng hệ thống thông tin", "en": "Information systems status"},
    "system": {"vi": "Hệ thống", "en": "System"},
    "status": {"vi": "Trạng thái", "en": "Status"},
    "availability": {"vi": "Sẵn sàng (5 phút)", "en": "Availability (5 min)"},
    "error_rate": {"vi": "Tỷ lệ lỗi", "en": "Error rate"},
    "p95": {"vi": "Độ trễ p95", "en": "Latency p95"},
    "uptime_24h": {"vi": "Hoạt động 24 giờ", "en": "Uptime 24 h"},
    "uptime_30d": {"vi": "Hoạt động 30 ngày", "en": "Uptime 30 d"},
    "last_event": {"vi": "Dữ liệu gần nhất", "en": "Last data"},
    "status_ok": {"vi": "Bình thường", "en": "OK"},
    "status_degraded": {"vi": "Suy giảm", "en": "Degraded"},
    "status_down": {"vi": "Mất kết nối", "en": "Down"},
    "status_unknown": {"vi": "Không có dữ liệu", "en": "No data"},
    "never": {"vi": "chưa có", "en": "never"},
    "seconds_ago": {"vi": "{n} giây trước", "en": "{n} s ago"},
    "minutes_ago": {"vi": "{n} phút trước", "en": "{n} min ago"},
    "hours_ago": {"vi": "{n} giờ trước", "en": "{n} h ago"},
    "stale_since": {"vi": "Dữ liệu cũ từ {since}", "en": "Data stale since {since}"},
    "no_data_yet": {"vi": "Chưa nhận được dữ liệu", "en": "No data received yet"},
    "stale_no_data": {"vi": "chưa có nguồn nào gửi dữ liệu", "en": "no source has sent data"},
    "stale_data_old": {"vi": "các nguồn không gửi dữ liệu mới", "en": "sources send no new data"},
    "stale_pipeline_stopped": {"vi": "bộ xử lý luồng đã dừng", "en": "the stream worker has stopped"},
    "stale_db_unreachable": {"vi": "không đọc được cơ sở dữ liệu", "en": "the database cannot be read"},
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
    "updated": {"vi": "Cập nhật", "en": "Updated"},
}


def t(key: str, lang: str = "vi") -> str:
    entry = STRINGS.get(key)
    if entry is None:
        return key
    return entry.get(lang) or entry["vi"]
