"""The security page in Chromium with the sample security register (simulators/data/register_sample.csv)
imported, findings on registered systems and elsewhere, failed logins, attack events and two alerts.
Pictures at 1920×1080 (Vietnamese and English) and 3840×2160 go to .run/screenshots/wall/security-register-*;
the test checks the four-layer grid and the weighted findings are drawn, that nothing is cut off and
that no text is smaller than 20 px (40 px on the 4K wall); then that the services page measures the
plan's "systems classified and approved" from the register (services-register-vi-1920x1080.png).
"""
from __future__ import annotations

import uuid

import pytest

from ioc_dash.app import create_app
from streams.core.geography import load_province
from tests.ioc_dash import screens
from tests.ioc_dash.register_support import register_entries, sample_entries
from tests.ioc_dash.test_screenshots import OUT, png_size

RUN = uuid.uuid4().hex[:8]
NET = f"198.51.{uuid.uuid4().int % 200 + 20}"
#: kind, subject, target, severity, layer, minutes ago: the register's systems and one device outside it
FINDINGS = (("brute_force", f"{NET}.7", "datacenter", "high", 2, 3),
            ("ids", f"{NET}.9", "eoffice", "high", 2, 1),
            ("port_scan", f"{NET}.11", "dvc", "medium", 2, 6),
            ("malware", f"Trojan.Agent-{RUN}", "10.20.1.15", "high", 1, 9),
            ("national", f"{NET}.13", "lgsp", "low", 4, 12))


@pytest.fixture
def security_rows(test_settings, db, undo):
    province = load_province(test_settings.province_file)
    undo("DELETE FROM security_finding WHERE subject LIKE %s OR subject = %s", f"{NET}.%", f"Trojan.Agent-{RUN}")
    for kind, subject, target, severity, layer, ago in FINDINGS:
        db.execute("""INSERT INTO security_finding (time, kind, subject, target, severity, layer, value, threshold,
                                                    detail, first_seen, last_seen)
                      VALUES (now() - %s * interval '1 minute', %s, %s, %s, %s, %s, 120, 20, '',
                              now() - %s * interval '1 minute', now() - %s * interval '1 minute')""",
                   (ago, kind, subject, target, severity, layer, ago + 20, ago))
    undo("DELETE FROM auth_failure_window WHERE src_ip LIKE %s", f"{NET}.%")
    for i in range(6):
        db.execute("""INSERT INTO auth_failure_window (time, src_ip, target, failures, last_event)
                      VALUES (date_trunc('minute', now()) - %s * interval '1 minute', %s, 'datacenter', %s, now())""",
                   (i, f"{NET}.{7 + 2 * i}", 400 - 50 * i))
    entity = f"screen-{RUN}"
    undo("DELETE FROM security_window WHERE entity = %s", entity)
    for minute in range(1, 50):
        db.execute("""INSERT INTO security_window (time, window_s, entity, type, severity, layer, events, blocked,
                                                   last_event)
                      VALUES (date_trunc('minute', now()) - %s * interval '1 minute', 60, %s, 'WafHit', %s, 2, %s,
                              %s, now())""",
                   (minute, entity, "high" if minute % 7 == 0 else "low", 40 + minute % 9 * 5, 30))
    for rule, entity, severity, vi, en in (
            ("register_inspection_overdue", "datacenter", "medium",
             "Trung tâm dữ liệu tỉnh quá hạn kiểm tra độc lập", "Provincial data centre: independent inspection overdue"),
            ("brute_force_source", f"{NET}.7", "high", f"{NET}.7 dò mật khẩu Trung tâm dữ liệu tỉnh",
             f"{NET}.7 brute-forcing the provincial data centre")):
        row = db.execute("""INSERT INTO alert (rule, entity, severity, state, started_at, fired_at, summary_vi,
                                               summary_en)
                            VALUES (%s, %s, %s, 'firing', now() - interval '5 minutes', now() - interval '4 minutes',
                                    %s, %s) RETURNING id""", (rule, entity, severity, vi, en)).fetchone()
        undo("DELETE FROM alert WHERE id = %s", row[0])
    with register_entries(test_settings.dsn, sample_entries([s.code for s in province.systems]),
                          actor=f"screen-{RUN}"):
        yield province


def test_security_page_with_the_register(test_settings, security_rows):
    with screens.signed_in(create_app(test_settings), test_settings.dsn, f"wall-security-{RUN}") as (base, shots):
        for lang, size, min_px in (("vi", (1920, 1080), 19.5), ("en", (1920, 1080), 19.5), ("vi", (3840, 2160), 39)):
            out = shots.shoot(f"{base}/security?lang={lang}", OUT / f"security-register-{lang}-{size[0]}x{size[1]}.png",
                              size)
            assert png_size(out) == size
            grid = shots.inner_text("#coverage-table")
            assert all(s.code in grid for s in security_rows.systems)
            assert len(shots.driver.find_elements("css selector", "#coverage-table td.cov-cell")) == 4 * len(
                security_rows.systems)
            findings = shots.inner_text("#findings-table")
            assert ("Cao → Nghiêm trọng" if lang == "vi" else "High → Critical") in findings  # datacenter: level 4
            assert "Trần Minh Khoa – 0913 200 411" in findings  # its on-site contact
            assert shots.small_texts("#page-security", min_px) == []
            assert shots.clipped("#page-security") == []
            assert shots.driver.execute_script("return document.documentElement.scrollWidth") <= size[0]
            assert not shots.errors()
        shots.shoot(f"{base}/services?lang=vi", OUT / "services-register-vi-1920x1080.png", (1920, 1080))
        classified = next(line for line in shots.inner_text("#plan-table").splitlines() if "phân loại" in line)
        assert "88.9%" in classified and "Chưa đạt" in classified  # 8 of the sample's 9 approved (not baocao)
