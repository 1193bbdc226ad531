"""The map's outline: shipped with the province file, small, and in the right place."""
import pytest

from ioc_dash.geo import features, load_outline, locations, outline_path, rings
from streams.core.geography import load_province
from streams.core.errors import ConfigError
from streams.core.settings import Settings

SETTINGS = Settings()
PROVINCE = load_province(SETTINGS.province_file)
OUTLINE = load_outline(outline_path(SETTINGS.province_file, PROVINCE))


def inside(lon, lat, ring):
    """Ray casting: is the point inside the ring?"""
    hit = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
        if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
            hit = not hit
    return hit


def test_the_outline_is_small_and_has_land_province_and_border():
    assert OUTLINE is not None
    points = sum(len(r) for f in OUTLINE["features"] for r in rings(f["geometry"]))
    assert 200 <= points <= 1500
    assert features(OUTLINE, "land") and features(OUTLINE, "province") and features(OUTLINE, "border")


def test_every_unit_lies_in_the_province_outline():
    province_rings = [r for f in features(OUTLINE, "province") for r in rings(f["geometry"])]
    mainland = max(province_rings, key=len)
    for unit in PROVINCE.units:
        if unit.island:
            continue
        assert inside(unit.lon, unit.lat, mainland), unit.name
    phu_quoc = next(u for u in PROVINCE.units if u.name == "Đặc khu Phú Quốc")
    assert any(inside(phu_quoc.lon, phu_quoc.lat, r) for r in province_rings)


def test_nothing_of_the_province_lies_beyond_the_national_border():
    # border cameras and zones sit on the Vietnamese side of the drawn line, not in Cambodia: south of it
    # where it runs west to east (Hà Tiên – Giang Thành), inside the mainland where it turns north
    (line,) = [f["geometry"]["coordinates"] for f in features(OUTLINE, "border")]
    mainland = max((r for f in features(OUTLINE, "province") for r in rings(f["geometry"])), key=len)
    checked = []
    for code, (lat, lon) in locations(PROVINCE).items():
        if lon > 104.88:
            if lat > 10.45:
                assert inside(lon, lat, mainland), f"{code} at {lat}, {lon} is outside the province"
                checked.append(code)
            continue
        for (x1, y1), (x2, y2) in zip(line, line[1:]):
            if min(x1, x2) <= lon <= max(x1, x2) and x1 != x2:
                border_lat = y1 + (lon - x1) * (y2 - y1) / (x2 - x1)
                if lat > border_lat - 0.1:  # near the border: on its south side
                    checked.append(code)
                    assert lat < border_lat, f"{code} at {lat}, {lon} is north of the border ({border_lat:.4f})"
    assert {"cam-giangthanh-ck-01", "cam-phumy-01", "cam-vinhdieu-01", "cam-xaxia-01", "bz-giangthanh"} <= set(checked)
    assert {"cam-tinhbien-ck-01", "cam-vinhxuong-ck-01", "cam-khanhbinh-01", "bz-anphu", "gate-tinhbien"} <= set(checked)


def test_places_of_entities(tmp_path):
    places = locations(PROVINCE)
    assert places["sal-caibe"] == (9.9, 105.1) and places["bz-hatien"] == (10.42, 104.462)
    assert places["30787"] == (10.27, 104.625)  # a commune at its point
    assert places["net-phuquoc"] == places["31078"] and "cam-xaxia-01" in places and "cam-xaxia" in places
    bad = tmp_path / "bad.geojson"
    bad.write_text('{"type": "Feature"}')
    with pytest.raises(ConfigError, match="FeatureCollection"):
        load_outline(bad)
    with pytest.raises(ConfigError, match="not found"):
        load_outline(tmp_path / "missing.geojson")
    assert load_outline(None) is None
