"""The border page against the database: per-zone counts as the database has them, camera states,
the newest tracks; and who may see a track's snapshot, each view audited.

Rows are the run's own (ids of this module's run), deleted when each test ends.
"""
from __future__ import annotations

import json
import re
import uuid
from collections import Counter

import pytest

from ioc_dash.app import create_app
from streams.core.geography import load_province
from tests.ioc_dash.conftest import PASSWORD, client_for, login
from tests.ioc_dash.wall_support import call, text, wall_client

RUN = uuid.uuid4().hex[:8]
#: (camera, class, how long ago): tracks the zone tables must count
TRACKS = [("cam-anthoi-01", "boat", "10 minutes"), ("cam-anthoi-02", "boat", "20 minutes"),
          ("cam-ganhdau-03", "person", "5 minutes"), ("cam-anthoi-01", "person", "24 hours 30 minutes"),
          ("cam-baithom-02", "boat", "6 hours"), ("cam-phumy-01", "person", "2 minutes"),
          ("cam-rg-center-01", "car", "3 minutes")]  # a town camera: in no zone


def add_track(db, camera: str, label: str, ago: str, *, snapshot: str | None = None, ended: bool = False) -> str:
    """A track's ``new`` message (and its ``end``) as the worker stores them; returns its event id."""
    event_id = f"border-{RUN}-{uuid.uuid4().hex[:8]}"
    attrs = {"snapshot": snapshot} if snapshot else {}
    db.execute("""INSERT INTO camera_event (time, id, type, camera, event_id, phase, rule, label, score, zones, attrs)
                  VALUES (now() - %s::interval, %s, 'CameraDetection', %s, %s, 'new', 'FieldDetector/ObjectsInside',
                          %s, 0.81, '["border_strip"]', %s::jsonb)""",
               (ago, f"{event_id}:1", camera, event_id, label, json.dumps(attrs)))
    if ended:
        db.execute("""INSERT INTO camera_event (time, id, type, camera, event_id, phase, rule, label, score, zones,
                                                attrs)
                      VALUES (now() - %s::interval + interval '95 seconds', %s, 'CameraDetection', %s, %s, 'end',
                              'FieldDetector/ObjectsInside', %s, 0.9, '["border_strip"]', %s::jsonb)""",
                   (ago, f"{event_id}:2", camera, event_id, label, json.dumps(attrs)))
    return event_id


@pytest.fixture
def tracks(db, undo):
    undo("DELETE FROM camera_event WHERE event_id LIKE %s", f"border-{RUN}-%")
    return [add_track(db, *t) for t in TRACKS]


def zone_counts_in_db(db, province) -> dict[str, tuple[int, int, int]]:
    """Zone -> (last hour, same hour yesterday, 24 h), counted here independently of the wall's SQL."""
    zone_of = {c.code: c.zone for c in province.cameras if c.zone}
    rows = db.execute("""SELECT camera,
                                count(*) FILTER (WHERE time > now() - interval '1 hour'),
                                count(*) FILTER (WHERE time > now() - interval '25 hours'
                                                   AND time <= now() - interval '24 hours'),
                                count(*) FILTER (WHERE time > now() - interval '24 hours')
                         FROM camera_event WHERE type = 'CameraDetection' AND phase = 'new'
                           AND time > now() - interval '25 hours' AND time <= now()
                         GROUP BY camera""").fetchall()
    out: dict[str, list[int]] = {}
    for camera, hour, yesterday, day in rows:
        if camera in zone_of:
            acc = out.setdefault(zone_of[camera], [0, 0, 0])
            acc[0] += hour
            acc[1] += yesterday
            acc[2] += day
    return {z: tuple(v) for z, v in out.items()}


def _spans(node):
    """(kind, zone, value) of every span whose id is border-<kind>-<zone>."""
    if isinstance(node, dict):
        props = node.get("props", node)
        ident = props.get("id") if isinstance(props, dict) else None
        if isinstance(ident, str):
            m = re.fullmatch(r"border-(hour|yesterday|day)-(.+)", ident)
            if m:
                yield m.group(1), m.group(2), props["children"]
        for value in node.values():
            yield from _spans(value)
    elif isinstance(node, list):
        for value in node:
            yield from _spans(value)


def test_zone_counts_on_the_page_are_the_databases(test_settings, db, tracks):
    app = create_app(test_settings)
    client = wall_client(app, test_settings)
    out = call(client, app, "border-areas.children", {"lang.data": "en"})
    province = load_province(test_settings.province_file)
    shown = {zone: (int(v["hour"]), int(v["yesterday"]), int(v["day"])) for zone, v in _by_zone(out["border-zones"])}
    expected = zone_counts_in_db(db, province)
    zones = [z.code for z in province.border_zones if z.kind == "zone"]
    assert set(shown) == set(zones)
    for zone in zones:
        assert shown[zone] == expected.get(zone, (0, 0, 0)), zone
    # this test's tracks are among them: three boats and a person in Phú Quốc, one person yesterday
    assert shown["bz-phuquoc"][0] >= 3 and shown["bz-phuquoc"][1] >= 1 and shown["bz-phuquoc"][2] >= 4
    assert shown["bz-giangthanh"][0] >= 1
    table = text(out["border-zones"])
    assert "Boat" in table and "Person" in table and "Car" not in table  # the town camera's car is in no zone
    assert "Same hour yesterday" in table


def _by_zone(zones_output):
    found: dict[str, dict[str, int]] = {}
    for kind, zone, value in _spans(zones_output):
        found.setdefault(zone, {})[kind] = value
    return found.items()


def test_camera_states_per_area_and_the_newest_tracks(test_settings, db, undo, tracks):
    undo("DELETE FROM camera_state WHERE camera IN ('cam-vinhdieu-03', 'cam-vinhdieu-04')")
    db.execute("""INSERT INTO camera_state (camera, state, since, observed, observed_since, last_seen, conditions)
                  VALUES ('cam-vinhdieu-03', 'offline', now(), 'offline', now(), now(), '[]'),
                         ('cam-vinhdieu-04', 'online', now(), 'online', now(), now(),
                          '["VideoSource/GlobalSceneChange"]')
                  ON CONFLICT (camera) DO UPDATE SET state = excluded.state, observed = excluded.observed,
                      since = now(), observed_since = now(), last_seen = now(), flapping_since = NULL,
                      conditions = excluded.conditions""")
    app = create_app(test_settings)
    client = wall_client(app, test_settings)
    out = call(client, app, "border-areas.children", {"lang.data": "en"})
    areas = text(out["border-areas"])
    assert "Giang Thành" in areas and '"border-total-tampered"' in areas
    attention = text(out["border-alerts"])  # the border cameras to look at, under the alerts
    assert "cam-vinhdieu-04" in attention and "cam-vinhdieu-03" in attention
    assert attention.index("cam-vinhdieu-03") < attention.index("cam-vinhdieu-04")  # offline first, then tampered
    shown = text(out["border-tracks"])
    assert "cam-phumy-01" in shown and "Person" in shown and "0.81" in shown
    assert "cam-rg-center-01" not in shown  # not a border camera
    assert "Bờ biển Phú Quốc" in shown
    names = [tr.get("name", "") for tr in out["border-map"]["figure"]["data"]]
    assert any(n.startswith("Offline") for n in names) and any(n.startswith("Tampered") for n in names)
    assert sum(tr.get("fill") == "toself" for tr in out["border-map"]["figure"]["data"]) >= 7  # outline and zones


# --- snapshots ------------------------------------------------------------------------------------

JPEG = b"\xff\xd8\xff\xe0" + b"border-test" * 10 + b"\xff\xd9"


@pytest.fixture
def snapshot_site(web_settings, tmp_path, db, undo):
    """An app whose snapshot folder holds one track's picture, and that track's event id."""
    folder = tmp_path / "snapshots"
    (folder / "cam-phumy-02").mkdir(parents=True)
    (folder / "cam-phumy-02" / f"{RUN}.jpg").write_bytes(JPEG)
    settings = web_settings.model_copy(update={"snapshot_dir": folder})
    undo("DELETE FROM camera_event WHERE event_id LIKE %s", f"border-{RUN}-%")
    event_id = add_track(db, "cam-phumy-02", "person", "4 minutes", snapshot=f"cam-phumy-02/{RUN}.jpg", ended=True)
    return settings, event_id


def viewed(db, event_id: str) -> Counter:
    rows = db.execute("SELECT kind, actor FROM auth_event WHERE subject = %s",
                      (f"cam-phumy-02/{event_id}",)).fetchall()
    return Counter(rows)


@pytest.mark.parametrize("role, status", [("viewer", 403), ("operator", 200), ("admin", 200)])
def test_snapshot_for_each_role(snapshot_site, users, uniq, db, role, status):
    settings, event_id = snapshot_site
    app = create_app(settings)
    name = uniq(role)
    users.add_user(name, role, PASSWORD, actor="tests")
    client = client_for(app)
    assert login(client, name).status_code == 302
    resp = client.get(f"/snapshots/cam-phumy-02/{event_id}")
    assert resp.status_code == status
    if status == 200:
        assert resp.data == JPEG and resp.mimetype == "image/jpeg"
        assert resp.headers["Cache-Control"] == "no-store"
        assert viewed(db, event_id)[("snapshot_viewed", name)] == 1
    else:
        assert JPEG not in resp.data
        assert viewed(db, event_id)[("snapshot_refused", name)] == 1
    # the page links the snapshot for those who may see it, never to where the camera keeps it
    out = call(client, app, "border-areas.children", {"lang.data": "en"})
    tracks = text(out["border-tracks"])
    assert f"{RUN}.jpg" not in tracks
    assert (f"/snapshots/cam-phumy-02/{event_id}" in tracks) == (status == 200)
    assert ("Available" in tracks) == (status != 200)


def test_snapshot_not_for_a_wall_screen_unless_allowed(snapshot_site, db):
    settings, event_id = snapshot_site
    for allowed, status in ((False, 403), (True, 200)):
        app = create_app(settings.model_copy(update={"dash_wall_snapshots": allowed}))
        client = wall_client(app, settings)
        resp = client.get(f"/snapshots/cam-phumy-02/{event_id}")
        assert resp.status_code == status, allowed
    kinds = Counter(kind for kind, _ in viewed(db, event_id).elements())
    assert kinds["snapshot_refused"] >= 1 and kinds["snapshot_viewed"] >= 1


def test_snapshot_needs_a_sign_in_and_stays_in_its_folder(snapshot_site, users, uniq, db):
    settings, event_id = snapshot_site
    app = create_app(settings)
    anonymous = client_for(app)
    assert anonymous.get(f"/snapshots/cam-phumy-02/{event_id}").status_code == 302  # to /login
    name = uniq("operator")
    users.add_user(name, "operator", PASSWORD, actor="tests")
    client = client_for(app)
    assert login(client, name).status_code == 302
    assert client.get(f"/snapshots/cam-phumy-02/{RUN}-none").status_code == 404
    outside = add_track(db, "cam-phumy-02", "person", "3 minutes", snapshot="../../etc/passwd.jpg")
    assert client.get(f"/snapshots/cam-phumy-02/{outside}").status_code == 502
    assert ("snapshot_viewed", name) not in viewed(db, outside)


def test_night_watch_puts_a_zone_above_its_usual_hour_first(test_settings, db, undo):
    from datetime import datetime

    from streams.core.clock import LOCAL_TZ

    undo("DELETE FROM camera_event WHERE event_id LIKE %s", f"border-{RUN}-%")
    undo("""DELETE FROM camera_window WHERE camera = 'cam-honchong-01' AND rule = 'LoiteringDetector'
            AND window_s = 3600""")
    for weeks_ago in (1, 2, 3, 4):  # one track in this hour of each of the four weeks before
        db.execute("""INSERT INTO camera_window (time, window_s, camera, zone, rule, tracks, last_event)
                      VALUES (date_trunc('hour', now() - interval '30 minutes') - %s * interval '7 days', 3600,
                              'cam-honchong-01', 'trail', 'LoiteringDetector', 1, now())
                      ON CONFLICT (camera, zone, rule, window_s, time) DO UPDATE SET tracks = 1""", (weeks_ago,))
    for i in range(6):
        add_track(db, ("cam-honchong-01", "cam-bahon-02")[i % 2], "boat", f"{i + 1} minutes")
    hour = datetime.now(LOCAL_TZ).hour
    for night, spec in ((True, f"{hour}-{(hour + 1) % 24}"), (False, f"{(hour + 1) % 24}-{(hour + 2) % 24}")):
        app = create_app(test_settings.model_copy(update={"night_watch_hours": spec}))
        out = call(wall_client(app, test_settings), app, "border-areas.children", {"lang.data": "en"})
        zones = text(out["border-zones"])
        assert "Above usual (1.0 usually)" in zones  # 6 tracks where one is usual: marked, by night or day
        rows = re.findall(r'"id": "border-zone-([\w-]+)"', zones)
        assert (rows[0] == "bz-kienluong") == night, rows  # first at night; in the province file's order by day
        assert ("Night watch" in zones) == night
        colours = {tr["text"]: tr["line"]["color"] for tr in out["border-map"]["figure"]["data"]
                   if isinstance(tr.get("text"), str)}
        assert colours["Border zone: Bờ biển Kiên Lương: 6"] == "#e5484d"


def test_a_cameras_field_of_view_is_its_zone_and_the_watched_places_it_names(tmp_path):
    from ioc_dash.figures_border import covered
    from streams.core.errors import ConfigError
    from streams.core.geography import load_province
    from streams.core.settings import Settings

    source = Settings().province_file
    province = load_province(source)
    cams = {c.code: c for c in province.cameras}
    assert cams["cam-xaxia-01"].covers == ("bz-hatien", "gate-xaxia")
    assert cams["cam-myduc-01"].covers == ("bz-hatien",)  # its zone alone
    assert cams["cam-rg-center-01"].covers == ()  # a town camera watches no border place
    names = {z.code: z.name for z in province.border_zones}
    assert covered(cams["cam-xaxia-01"], names) == f"{names['bz-hatien']}, {names['gate-xaxia']}"

    text = source.read_text(encoding="utf-8").replace("covers: [gate-xaxia]", "covers: [gate-nowhere]")
    bad = tmp_path / source.name
    bad.write_text(text, encoding="utf-8")
    for extra in source.parent.glob("*.geojson"):  # the outline the file names, next to it
        (tmp_path / extra.name).write_bytes(extra.read_bytes())
    with pytest.raises(ConfigError, match="covers 'gate-nowhere'"):
        load_province(bad)


def test_past_its_rows_the_area_table_sums_the_quiet_areas_and_lists_every_troubled_one():
    from ioc_dash.figures_border import area_table
    from streams.core.geography import load_province
    from streams.core.settings import Settings

    province = load_province(Settings().province_file)
    quiet = dict(offline=0, tampered=0, flapping=0, online=4, unknown=0)
    per_area = {u.code: dict(quiet) for u in province.units[:6]}
    per_area[province.units[5].code].update(offline=2, online=2)
    per_area[province.units[4].code].update(tampered=1, online=3)
    table = area_table(per_area, province, "en", limit=4)
    ids = [getattr(row, "id", None) for row in table.children[1].children]
    assert ids[:3] == ["border-area-total", f"border-area-{province.units[5].code}",
                       f"border-area-{province.units[4].code}"]  # the troubled ones first, always
    assert ids[-1] == "border-area-others" and len(ids) == 5 and "+3 areas" in repr(table)
    assert len([r for r in area_table(per_area, province, "en", limit=6).children[1].children]) == 7  # all fit
