"""Texts of e-mail and Telegram notifications: Vietnamese first, the English summary below (pure)."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from agents.alerting.notify.alertmanager import page_url, runbook_url
from streams.core.clock import LOCAL_TZ

SEVERITY_VI = {"critical": "Nghiêm trọng", "high": "Cao", "medium": "Trung bình", "low": "Thấp",
               "informational": "Thông tin"}
EVENT_VI = {"firing": "CẢNH BÁO", "resolved": "ĐÃ KHẮC PHỤC", "escalated": "CHUYỂN CẤP",
            "acknowledged": "ĐÃ TIẾP NHẬN"}
EVENT_EN = {"firing": "FIRING", "resolved": "RESOLVED", "escalated": "ESCALATED", "acknowledged": "ACKNOWLEDGED"}
ICON = {"firing": "🔴", "resolved": "✅", "escalated": "⏫", "acknowledged": "👤"}
TELEGRAM_MAX = 4096


def vn_time(iso: str | None, zone: str = " (giờ VN)") -> str:
    if not iso:
        return "—"
    return datetime.fromisoformat(iso).astimezone(LOCAL_TZ).strftime("%H:%M:%S %d/%m/%Y") + zone


def event_titles(payload: Mapping[str, Any]) -> tuple[str, str]:
    event = payload.get("event", "firing")
    vi, en = EVENT_VI.get(event, event.upper()), EVENT_EN.get(event, event.upper())
    if event == "escalated":
        vi, en = f"{vi} {payload.get('level', 0)}", f"{en} TO LEVEL {payload.get('level', 0)}"
    drill = payload["alert"].get("drill")
    if drill:  # an exercise: said first, so nobody takes it for a real incident
        vi, en = f"DIỄN TẬP {drill} · {vi}", f"DRILL {drill} · {en}"
    return vi, en


def _value(v: Any) -> str:
    return "—" if v is None else f"{v:.6g}" if isinstance(v, float) else str(v)


def _facts(payload: Mapping[str, Any], url_template: str) -> list[str]:
    a = payload["alert"]
    lines = [
        f"Quy tắc: {a['rule']}",
        f"Đối tượng: {a['entity']}",
        f"Mức độ: {SEVERITY_VI.get(a['severity'], a['severity'])}",
        f"Giá trị: {_value(a.get('value'))}",
        f"Bắt đầu: {vn_time(a.get('fired_at') or a.get('started_at'))}",
    ]
    if a.get("resolved_at"):
        lines.append(f"Kết thúc: {vn_time(a['resolved_at'])}")
    if payload.get("actor"):
        lines.append(f"Người xử lý: {payload['actor']}")
    if payload.get("comment"):
        lines.append(f"Ghi chú: {payload['comment']}")
    if a.get("runbook"):
        lines.append(f"Hướng dẫn xử lý: {runbook_url(a['runbook'], url_template)}")
    lines.append(f"Chi tiết: {page_url(url_template, a['id'])}")
    return lines


def email_message(payload: Mapping[str, Any], url_template: str, *, ack_url: str = "",
                  ack_until: str | None = None, province: str = "") -> tuple[str, str]:
    """(subject, body) of the e-mail for an outbox payload; with ``ack_url``, its acknowledge link
    (single use, working until ``ack_until``, ISO) comes right below the summary.  ``province``: the
    name of the province the centre watches (its province file's)."""
    a = payload["alert"]
    vi, en = event_titles(payload)
    summary = a.get("summary") or {}
    severity = SEVERITY_VI.get(a["severity"], a["severity"])
    ioc = f"IOC {province}" if province else "IOC"
    subject = f"[{ioc}][{vi}][{severity}] {summary.get('vi') or a['rule']}"
    ack = [f"Tiếp nhận cảnh báo (không cần đăng nhập; dùng một lần, đến {vn_time(ack_until)}):", ack_url, ""] \
        if ack_url else []
    body = "\n".join([
        f"{vi}: {summary.get('vi', '')}",
        "",
        *ack,
        *_facts(payload, url_template),
        "",
        "-- ",
        f"English: [{en}] {summary.get('en', '')}",
        *([f"Acknowledge (no sign-in; works once, until {vn_time(ack_until, ' (UTC+7)')}): {ack_url}"]
          if ack_url else []),
        "",
        "Thư gửi tự động từ Trung tâm Giám sát, điều hành đô thị thông minh (IOC)"
        + (f" tỉnh {province}." if province else "."),
    ])
    return " ".join(subject.split())[:250], body + "\n"


def telegram_text(payload: Mapping[str, Any], url_template: str) -> str:
    a = payload["alert"]
    vi, en = event_titles(payload)
    summary = a.get("summary") or {}
    text = "\n".join([
        f"{ICON.get(payload.get('event', ''), '•')} {vi} · {SEVERITY_VI.get(a['severity'], a['severity'])}",
        summary.get("vi", ""),
        "",
        *_facts(payload, url_template),
        "",
        f"🇬🇧 [{en}] {summary.get('en', '')}",
    ])
    return text if len(text) <= TELEGRAM_MAX else text[: TELEGRAM_MAX - 1] + "…"
