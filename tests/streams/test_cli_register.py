"""``ioc register …`` through ``streams.cli.main.main`` against the real database."""
import pytest

from streams.cli.register import SAMPLE, seed_sample
from tests.ioc_dash.conftest import ioc_runner


@pytest.fixture
def ioc(test_settings, db, monkeypatch, capsys):
    db.execute("DELETE FROM security_register")
    return ioc_runner(test_settings.dsn, monkeypatch, capsys, "register")


def test_set_show_list_and_a_file_round_trip(ioc, tmp_path):
    code, out, _ = ioc("set", "lgsp", "level=3", "approval_number=1521/QĐ-UBND", "approval_date=20/06/2023",
                       "plan_status=approved", "monitoring_org=SOC tỉnh", "--reason", "hồ sơ cấp độ")
    assert code == 0 and out.startswith("lgsp: version #") and "level, approval_number" in out
    assert ioc("set", "lgsp", "level=3")[1] == "lgsp: unchanged\n"
    assert ioc("set", "lgsp", "layer4_connected=yes")[0] == 0
    show = ioc("show", "lgsp")[1]
    assert "approval_date        2023-06-20" in show and "layer4_connected     yes" in show
    assert show.count(" by cli:") == 2 and ": hồ sơ cấp độ" in show
    listing = ioc("list")[1]
    assert "lgsp           3     yes      production missing ok      missing ok" in listing
    assert "dvc            -     no       -          missing" in listing  # a system of the province file, no entry

    for name in ("r.csv", "r.xlsx"):
        path = tmp_path / name
        assert ioc("export", str(path))[1] == f"{path}: 1 entries\n"
        assert ioc("set", "lgsp", "level=5")[0] == 0
        code, out, _ = ioc("import", str(path), "--reason", "bản của Sở")
        assert code == 0 and out == f"{path}: 1 entries changed (lgsp), 0 unchanged\n"
        assert "level                3" in ioc("show", "lgsp")[1]


def test_wrong_input_says_what_and_changes_nothing(ioc, tmp_path):
    assert ioc("set", "lgsp", "level=7")[::2] == (1, "InputError: level: '7' must be a whole number 1–5\n")
    assert ioc("set", "nowhere", "level=2")[2].startswith("InputError: nowhere: not a system of the province file")
    assert ioc("set", "lgsp", "level")[0] == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("system,level\nlgsp,3\ndvc,nine\nnowhere,2\n", encoding="utf-8")
    code, out, _ = ioc("import", str(bad))
    assert code == 1
    assert "row 3: level: 'nine' is not a number" in out and "row 4: system 'nowhere'" in out
    assert "nothing was imported" in out
    assert "lgsp           -     no" in ioc("list")[1]
    assert ioc("export", str(tmp_path / "r.pdf"))[2].startswith("InputError")
    assert ioc("import", str(tmp_path / "none.csv"))[2].startswith("InputError")


def test_the_demo_seeds_an_empty_register_only(test_settings, db):
    db.execute("DELETE FROM security_register")
    assert seed_sample(test_settings) == 9
    assert seed_sample(test_settings) == 0
    assert db.execute("SELECT count(*) FROM security_register").fetchone()[0] == 9
    assert SAMPLE.name == db.execute("SELECT subject FROM auth_event WHERE kind = 'register_imported' "
                                     "ORDER BY id DESC").fetchone()[0]
