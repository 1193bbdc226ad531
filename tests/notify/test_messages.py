from datetime import timedelta

from agents.alerting.payload import build_payload
from agents.alerting.notify.messages import TELEGRAM_MAX, email_message, telegram_text, vn_time
from tests.notify.conftest import T0, alert_row

URL = "http://wall.ioc/alerts/{id}"


def test_email_is_vietnamese_with_the_english_summary_below():
    subject, body = email_message(build_payload(alert_row(7), "firing"), URL, province="An Giang")
    assert subject == "[IOC An Giang][CẢNH BÁO][Nghiêm trọng] eoffice: mức sẵn sàng 82% (ngưỡng 90%)"
    assert "Đối tượng: eoffice" in body and "Mức độ: Nghiêm trọng" in body
    assert "Bắt đầu: 15:00:00 01/03/2025 (giờ VN)" in body  # 08:00 UTC
    assert "Chi tiết: http://wall.ioc/alerts/7" in body
    assert body.rstrip().endswith("(IOC) tỉnh An Giang.")  # the province file's name
    assert body.index("Đối tượng") < body.index("English: [FIRING] eoffice: availability 82% (threshold 90%)")


def test_escalation_and_acknowledgement_say_level_and_who():
    subject, _ = email_message(build_payload(alert_row(), "escalated", level=2), URL)
    assert "[CHUYỂN CẤP 2]" in subject
    _, body = email_message(build_payload(alert_row(), "acknowledged", actor="truc.ca", comment="đang xử lý"), URL)
    assert "Người xử lý: truc.ca" in body and "Ghi chú: đang xử lý" in body


def test_resolved_shows_the_end_time():
    row = alert_row(state="resolved", resolved_at=T0 + timedelta(minutes=30))
    text = telegram_text(build_payload(row, "resolved"), URL)
    assert text.startswith("✅ ĐÃ KHẮC PHỤC · Nghiêm trọng")
    assert "Kết thúc: 15:30:00 01/03/2025 (giờ VN)" in text
    assert text.rstrip().endswith("[RESOLVED] eoffice: availability 82% (threshold 90%)")


def test_telegram_text_fits_one_message():
    row = alert_row(summary_vi="x" * 5000)
    assert len(telegram_text(build_payload(row, "firing"), URL)) == TELEGRAM_MAX


def test_vn_time_of_nothing():
    assert vn_time(None) == "—"


def test_vn_time_is_utc_plus_7_whatever_the_offset_given():
    assert vn_time("2025-12-31T20:30:00+00:00") == "03:30:00 01/01/2026 (giờ VN)"
    assert vn_time("2025-06-01T08:00:00+02:00") == "13:00:00 01/06/2025 (giờ VN)"


def test_a_drill_alert_says_so_first():
    payload = build_payload(alert_row(7, drill="dvc-ddos", drill_run=3), "firing")
    assert payload["alert"]["drill"] == "dvc-ddos"
    subject, body = email_message(payload, URL, province="An Giang")
    assert subject.startswith("[IOC An Giang][DIỄN TẬP dvc-ddos · CẢNH BÁO][Nghiêm trọng]")
    assert "English: [DRILL dvc-ddos · FIRING]" in body
    assert telegram_text(payload, URL).startswith("🔴 DIỄN TẬP dvc-ddos · CẢNH BÁO")
    assert "DIỄN TẬP" not in email_message(build_payload(alert_row(7), "firing"), URL)[0]
