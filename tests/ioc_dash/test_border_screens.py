"""The border page at 1920×1080 in Chromium, with the rows a night intrusion at Giang Thành leaves:
tracks rising in the zone, cam-phumy-02 tampered then offline, the zone's alert firing.  The picture
goes to .run/screenshots/wall/border-drill-1920x1080.png; the test checks that nothing is cut off
and that no text on the page is smaller than 20 px.
"""
from __future__ import annotations

import uuid

import pytest

from ioc_dash.app import create_app
from streams.core.geography import load_province
from tests.ioc_dash import screens
from tests.ioc_dash.test_screenshots import OUT, png_size

RUN = uuid.uuid4().hex[:8]


@pytest.fixture
def drill_rows(test_settings, db, undo):
    """What the worker and the alert engine write during the drill, three quarters through it."""
    province = load_province(test_settings.province_file)
    undo("DELETE FROM camera_event WHERE event_id LIKE %s", f"screen-{RUN}-%")
    gt = [c.code for c in province.cameras if c.zone == "bz-giangthanh"]
    other = [c.code for c in province.cameras if c.zone and c.zone != "bz-giangthanh"]
    for i in range(40):  # rising: most in the last minutes
        camera = gt[i % len(gt)]
        label = ("person", "person", "motorcycle", "person")[i % 4]
        ago = f"{int(55 * (1 - (i / 40) ** 0.5)) + 1} minutes"
        snapshot = f"{camera}/screen-{RUN}-{i}.jpg" if i % 3 == 0 else None
        db.execute("""INSERT INTO camera_event (time, id, type, camera, event_id, phase, rule, label, score, zones,
                                                attrs)
                      VALUES (now() - %s::interval, %s, 'CameraDetection', %s, %s, 'new',
                              'FieldDetector/ObjectsInside', %s, %s, '["border_strip"]',
                              jsonb_strip_nulls(jsonb_build_object('snapshot', %s::text)))""",
                   (ago, f"screen-{RUN}-{i}:1", camera, f"screen-{RUN}-{i}", label, 0.6 + (i % 7) / 20, snapshot))
    # a vendor's rule and class the catalogue does not know, with long names: they end inside their cells
    db.execute("""INSERT INTO camera_event (time, id, type, camera, event_id, phase, rule, label, score, zones)
                  VALUES (now() - interval '30 seconds', %s, 'CameraDetection', %s, %s, 'new',
                          'VendorPerimeterAnalyticsEngineV2/ObjectsInsideRestrictedArea',
                          'unregistered_motorised_watercraft_class', 0.91, '["border_strip"]')""",
               (f"screen-{RUN}-long:1", gt[0], f"screen-{RUN}-long"))
    for i, camera in enumerate(other * 2):  # the rest of the border: a calm night, and yesterday's hour
        db.execute("""INSERT INTO camera_event (time, id, type, camera, event_id, phase, rule, label, score, zones)
                      VALUES (now() - %s::interval, %s, 'CameraDetection', %s, %s, 'new', 'LineDetector/Crossed',
                              %s, 0.7, '["trail"]')""",
                   (f"{(i * 37) % 1500 + 2} minutes", f"screen-{RUN}-o{i}:1", camera, f"screen-{RUN}-o{i}",
                    ("boat", "person", "car")[i % 3]))
    made = db.execute("""INSERT INTO camera_state (camera, state, since, observed, observed_since, last_seen)
                         SELECT c, 'online', now() - interval '3 hours', 'online', now() - interval '3 hours', now()
                         FROM unnest(%s::text[]) c
                         ON CONFLICT (camera) DO NOTHING RETURNING camera""",
                      ([c.code for c in province.cameras],)).fetchall()
    undo("DELETE FROM camera_state WHERE camera = ANY(%s)", [m[0] for m in made] + ["cam-phumy-02", "cam-myduc-03"])
    db.execute("""INSERT INTO camera_state (camera, state, since, observed, observed_since, last_seen, conditions)
                  VALUES ('cam-phumy-02', 'offline', now() - interval '2 minutes', 'offline',
                          now() - interval '2 minutes', now(), '["VideoSource/GlobalSceneChange"]'),
                         ('cam-myduc-03', 'online', now() - interval '1 hour', 'online', now() - interval '1 hour',
                          now(), '["VideoSource/ImageTooDark"]')
                  ON CONFLICT (camera) DO UPDATE SET state = excluded.state, observed = excluded.observed,
                      since = excluded.since, observed_since = excluded.observed_since, last_seen = now(),
                      conditions = excluded.conditions, flapping_since = NULL""")
    for rule, entity, severity, vi in (
            ("border_intrusions", "bz-giangthanh", "high", "Vùng Biên giới Giang Thành (bz-giangthanh): 31 lần xâm nhập"),
            ("camera_offline", "cam-phumy-02", "medium", "Camera Đường biên Phú Mỹ – 2 (cam-phumy-02) mất kết nối")):
        row = db.execute("""INSERT INTO alert (rule, entity, severity, state, started_at, fired_at, summary_vi,
                                               summary_en, drill)
                            VALUES (%s, %s, %s, 'firing', now() - interval '3 minutes', now() - interval '2 minutes',
                                    %s, %s, 'border-night-intrusion') RETURNING id""",
                         (rule, entity, severity, vi, vi)).fetchone()
        undo("DELETE FROM alert WHERE id = %s", row[0])


def test_border_page_during_the_night_intrusion(test_settings, drill_rows):
    with screens.signed_in(create_app(test_settings), test_settings.dsn, f"wall-border-{RUN}") as (base, shots):
        out = shots.shoot(f"{base}/border?lang=vi", OUT / "border-drill-1920x1080.png", (1920, 1080))
        assert png_size(out) == (1920, 1080)
        assert "Biên giới Giang Thành" in shots.inner_text("#border-zones-table")
        assert "Bị che/xoay" in shots.inner_text("#border-attention") and "cam-myduc-03" in shots.inner_text("#border-attention")
        assert "cam-phumy-02" in shots.inner_text("#border-attention")
        assert "31 lần xâm nhập" in shots.inner_text("#border-alerts")
        assert "VendorPerimeterAnalyticsEngineV2" in shots.inner_text("#border-tracks-table")
        assert "rule_" not in shots.inner_text("#border-tracks-table")
        assert shots.small_texts("#page-border") == []
        assert shots.clipped("#page-border") == []
        assert shots.driver.execute_script("return document.documentElement.scrollWidth") <= 1920
        assert not shots.errors()
        shots.shoot(f"{base}/border?lang=en", OUT / "border-drill-en-1920x1080.png", (1920, 1080))
