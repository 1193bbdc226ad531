"""Units through time: the validity model, the province files' history, the loader's errors, the
decoder's check of an event's unit."""
from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path

import orjson
import pytest
import yaml

from streams.core.clock import LOCAL_TZ
from streams.core.divisions import Divisions, DivisionsError, Succession, UnitRejected
from streams.core.errors import ConfigError
from streams.core.geography import Unit, load_province
from streams.core.settings import Settings
from streams.core.validation import Decoder
from tests.support import ROOT

DATA = ROOT / "simulators" / "data"
CHANGE = date(2025, 7, 1)
EVE = date(2025, 6, 30)


def unit(code, name=None, frm=None, to=None, lat=10.0, lon=105.0):
    return Unit(code, name or code, "district", lat, lon, valid_from=frm, valid_to=to)


def small() -> Divisions:
    return Divisions(
        [unit("d1", "old one", date(2000, 1, 1), EVE), unit("d2", "old two", date(2000, 1, 1), EVE),
         unit("t1", "town", date(2000, 1, 1), EVE),
         unit("c1", "new one", CHANGE, lat=10.1), unit("c2", "new two", CHANGE, lat=10.5), unit("t1", "commune", CHANGE)],
        {"d1": Succession("d1", ("c1", "c2")), "d2": Succession("d2", ("c2",)), "t1": Succession("t1", ("t1",))})


def test_a_code_names_the_unit_valid_on_the_day():
    d = small()
    assert d.unit_on("d1", EVE).name == "old one" and d.unit_on("d1", CHANGE) is None
    assert d.unit_on("c1", EVE) is None and d.unit_on("c1", CHANGE).name == "new one"
    assert d.unit_on("t1", EVE).name == "town" and d.unit_on("t1", CHANGE).name == "commune"  # a code that came back
    assert {u.code for u in d.on(EVE)} == {"d1", "d2", "t1"} and {u.code for u in d.on(CHANGE)} == {"c1", "c2", "t1"}


def test_successors_current_units_seats_and_places():
    d = small()
    assert d.successors("d1") == ("c1", "c2") and d.successors("c1") == ()
    assert [u.code for u in d.current("d1", CHANGE)] == ["c1", "c2"]
    assert [u.code for u in d.current("d1", EVE)] == ["d1"]  # still itself that day
    assert d.primary("d1", CHANGE) == "c1" and d.primary("nope", CHANGE) == "nope"
    assert d.place(105.0, 10.45, CHANGE).code == "c2" and d.place(105.0, 10.45, EVE).code in {"d1", "d2", "t1"}


def test_an_event_s_unit_is_kept_mapped_or_refused():
    d = small()
    assert d.admit("d1", EVE) == "d1" and d.admit("c1", CHANGE) == "c1" and d.admit("t1", CHANGE) == "t1"
    assert d.admit("so-tp", CHANGE) == "so-tp"  # not a unit: an agency's code is kept
    assert d.admit("d2", CHANGE) == "c2"  # one successor: recorded under it
    with pytest.raises(UnitRejected, match="ended 2025-06-30; on 2025-07-01 it is one of c1 new one, c2 new two") as e:
        d.admit("d1", CHANGE)
    assert e.value.reason == "unit_ended"
    with pytest.raises(UnitRejected, match="valid from 2025-07-01, not on 2025-06-30") as e:
        d.admit("c1", EVE)
    assert e.value.reason == "unit_not_yet_valid"


@pytest.mark.parametrize("units,successions,says", [
    ([unit("a", frm=date(2000, 1, 1), to=CHANGE), unit("a", frm=CHANGE)], {}, "unit a: validity .* overlaps"),
    ([unit("a", frm=CHANGE, to=EVE)], {}, "valid_to 2025-06-30 is before valid_from 2025-07-01"),
    ([unit("a", to=EVE), unit("b", frm=CHANGE)], {"a": Succession("a", ("x",))}, "successors of a: unknown unit 'x'"),
    ([unit("a", to=EVE), unit("b", frm=date(2026, 1, 1))], {"a": Succession("a", ("b",))},
     "unit b is not valid on 2025-07-01, the day after a ended"),
    ([unit("a")], {"a": Succession("a", ("a",))}, "no unit a has ended"),
    ([unit("a", to=EVE)], {"a": Succession("a", ())}, "the list is empty"),
])
def test_divisions_that_do_not_fit_together_are_refused(units, successions, says):
    with pytest.raises(DivisionsError, match=says):
        Divisions(units, successions)


def test_the_merged_province_carries_the_former_one_s_units_and_their_successors():
    province = load_province(Settings().province_file)
    assert (province.code, province.name, province.valid_from) == ("91", "An Giang", CHANGE)
    assert len(province.units) == 102 and {u.kind for u in province.units} == {"commune", "ward", "special_zone"}
    assert all(u.valid_on(date(2026, 12, 1)) for u in province.units)
    former = load_province(DATA / "kien_giang.yaml")
    for u in former.divisions.units:  # every former unit, district or town, has today's units to go to
        assert u.valid_to == EVE and province.current_unit(u.code, CHANGE), u
    assert [u.name for u in province.current_unit("900", CHANGE)] == ["Phường Hà Tiên", "Phường Tô Châu", "Xã Tiên Hải"]
    assert province.unit_on("899", EVE).name == "Rạch Giá" and province.unit_on("899", CHANGE) is None
    # what the IOC watches names units valid today
    today = date(2026, 12, 1)
    for group in (province.cameras, province.stations, province.networks, province.border_zones):
        assert all(province.unit_on(x.unit, today) for x in group)
    assert province.names()["899"] == "Rạch Giá"  # history keeps its names
    assert (province.name_on(EVE), province.name_on(CHANGE)) == ("Kiên Giang", "An Giang")


def test_the_units_block_is_what_the_package_lists():
    tool = ROOT / "deploy" / "tools" / "divisions.py"
    out = subprocess.run([sys.executable, str(tool), "--check", str(DATA / "an_giang.yaml")], capture_output=True,
                         text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr


def copy_with(tmp_path: Path, change) -> Path:
    """The default province file and its predecessor in ``tmp_path``, the former changed by ``change``."""
    doc = yaml.safe_load((DATA / "an_giang.yaml").read_text(encoding="utf-8"))
    change(doc)
    for before in ("kien_giang.yaml", "kien_giang_outline.geojson"):
        (tmp_path / before).write_bytes((DATA / before).read_bytes())
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def _unit(doc, code):
    return next(u for u in doc["units"] if u["code"] == code)


@pytest.mark.parametrize("change,says", [
    (lambda d: d["successors"].pop("906"), r"unit 906 \(Giồng Riềng\) ended 2025-06-30 and has no successors listed"),
    (lambda d: d["successors"]["906"]["units"].append("99999"), "successors of 906: unknown unit '99999'"),
    (lambda d: _unit(d, "30742").update(valid_to=date(2025, 6, 1)), "unit 30742: valid_to 2025-06-01 is before"),
    (lambda d: _unit(d, "30787").update(valid_from=date(2025, 6, 30)), "unit 30787: .* overlaps"),
    (lambda d: d["province"].update(predecessors=["p.yaml"]), "is the file itself or one of its successors"),
    (lambda d: d["province"].update(predecessors=["nope.yaml"]), "province file not found"),
    (lambda d: d["province"].update(valid_from="July"), "province valid_from must be a date"),
    (lambda d: d["successors"].update({"906": ["30904"]}), r"successors: each entry is \{units"),
    (lambda d: d["units"].append(dict(d["units"][0])), "two units share a code"),
    (lambda d: d["map"]["labels"].update({"899": "right"}), "map labels: unknown unit '899'"),
    (lambda d: d["map"]["labels"].update({"30742": "over"}), "map labels: side of 30742 must be one of below"),
])
def test_the_loader_names_what_is_wrong(tmp_path, change, says):
    with pytest.raises(ConfigError, match=says):
        load_province(copy_with(tmp_path, change))


def dossier(unit_code: str, at: datetime) -> bytes:
    stamp = at.isoformat()
    return orjson.dumps({"id": "e1", "type": "DossierReceived", "dateObserved": stamp, "dossier_id": "D1",
                         "procedure_code": "KG.HT.01", "unit_code": unit_code, "level": "commune",
                         "channel": "in_person", "received_date": stamp, "due_date": stamp})


def test_the_decoder_records_an_event_under_the_unit_valid_on_its_local_day():
    divisions = load_province(Settings().province_file).divisions
    before = datetime(2025, 6, 30, 23, 59, tzinfo=LOCAL_TZ).astimezone(timezone.utc)  # 16:59 UTC
    after = datetime(2025, 7, 1, 0, 1, tzinfo=LOCAL_TZ).astimezone(timezone.utc)  # still 30 June in UTC
    decoder = Decoder("dossier", units=divisions, clock=lambda: datetime(2025, 7, 2, tzinfo=timezone.utc))
    assert [e.unit_code for e in decoder.decode(dossier("899", before)).events] == ["899"]
    assert [e.unit_code for e in decoder.decode(dossier("912", after)).events] == ["31108"]
    out = decoder.decode(dossier("899", after))
    assert not out.events and [r.reason for r in out.rejected] == ["unit_ended"]
    assert "30742 Phường Rạch Giá, 30760 Phường Vĩnh Thông" in out.rejected[0].detail
    out = decoder.decode(dossier("30742", before))
    assert [r.reason for r in out.rejected] == ["unit_not_yet_valid"]
    unchecked = Decoder("dossier", clock=lambda: datetime(2025, 7, 2, tzinfo=timezone.utc))
    assert [e.unit_code for e in unchecked.decode(dossier("899", after)).events] == ["899"]
