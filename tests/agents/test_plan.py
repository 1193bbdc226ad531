"""Plans per period: the plan in effect on a day, overlapping and missing periods, the shipped folder."""
from datetime import date

import pytest

from agents.indicators.plan import DEFAULT_DIR, NoPlanInEffect, load_plans
from streams.core.errors import ConfigError
from streams.core.settings import Settings

TARGETS = "targets:\n  - {key: a, vi: a, en: a, value: 0.5, measures: [dossier.online_share]}\n"


def write_plan(folder, name, start, end, number="1/KH-UBND"):
    (folder / name).write_text(f"plan: P {name}\nnumber: {number}\nissued: 2022-12-30\n"
                               f"valid_from: {start}\nvalid_to: {end}\n{TARGETS}", encoding="utf-8")


def test_the_plan_of_a_day_on_the_boundaries(tmp_path):
    write_plan(tmp_path, "a.yaml", "2023-01-01", "2023-12-31", "A")
    write_plan(tmp_path, "b.yaml", "2024-01-01", "2024-06-30", "B")
    plans = load_plans(tmp_path)
    assert plans.in_effect(date(2022, 12, 31)) is None
    assert plans.require(date(2023, 1, 1)).number == "A"  # the first day counts
    assert plans.require(date(2023, 12, 31)).number == "A"  # and the last
    assert plans.require(date(2024, 1, 1)).number == "B"  # the next plan from the day after
    assert plans.require(date(2024, 6, 30)).number == "B"
    with pytest.raises(NoPlanInEffect, match=r"no plan in effect on 2024-07-01 \(plans for: "
                                             r"2023-01-01\.\.2023-12-31, 2024-01-01\.\.2024-06-30\)"):
        plans.require(date(2024, 7, 1))


def test_overlapping_periods_are_refused_naming_both_files(tmp_path):
    write_plan(tmp_path, "2023.yaml", "2023-01-01", "2023-12-31")
    write_plan(tmp_path, "2023b.yaml", "2023-12-31", "2024-12-31")  # one day in common
    with pytest.raises(ConfigError, match=r"plans 2023\.yaml \(2023-01-01\.\.2023-12-31\) and 2023b\.yaml "
                                          r"\(2023-12-31\.\.2024-12-31\) overlap from 2023-12-31"):
        load_plans(tmp_path)


@pytest.mark.parametrize("start, end, match", [
    ("2023-12-31", "2023-01-01", "valid_to 2023-01-01 is before valid_from 2023-12-31"),
    ("2023-01-01", "soon", "valid_to must be a date"),
])
def test_a_bad_period_is_a_config_error_naming_the_file(tmp_path, start, end, match):
    write_plan(tmp_path, "p.yaml", start, end)
    with pytest.raises(ConfigError, match=f"plan file .*p.yaml: bad or missing entry: {match}"):
        load_plans(tmp_path)


def test_an_empty_or_missing_folder_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="holds no \\*.yaml plan file"):
        load_plans(tmp_path)
    with pytest.raises(ConfigError, match="plan folder not found"):
        load_plans(tmp_path / "nowhere")


def test_a_plan_without_a_number_needs_the_name_the_wall_shows(tmp_path):
    (tmp_path / "p.yaml").write_text(f"plan: P\nnumber: null\nvalid_from: 2025-01-01\nvalid_to: 2025-12-31\n{TARGETS}")
    with pytest.raises(ConfigError, match="needs short"):
        load_plans(tmp_path)


def test_the_shipped_plans_2023_and_2025_2026():
    plans = load_plans(DEFAULT_DIR)
    p2023 = plans.require(date(2023, 7, 1))
    assert (p2023.number, p2023.valid_from, p2023.valid_to) == ("274/KH-UBND", date(2023, 1, 1), date(2023, 12, 31))
    assert plans.in_effect(date(2024, 6, 1)) is None  # no plan file for 2024
    carried = plans.require(date(2026, 12, 31))
    assert carried.number is None and carried.short_vi.startswith("Chỉ tiêu tiếp nối")
    assert carried.valid_from == date(2025, 1, 1)
    # every target carried from 274/KH-UBND keeps its value
    assert {(t.key, t.level): t.value for t in carried.targets} == {(t.key, t.level): t.value for t in p2023.targets}
    keys = {t.key: t for t in p2023.targets}
    assert keys["e_id_auth"].value == 0.8 and keys["inter_agency_documents"].value == 1.0
    assert keys["e_id_auth"].measures == ("dossier.vneid_share",)


def test_the_plan_folder_is_a_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("IOC_PLAN_DIR", str(tmp_path))
    assert Settings().plan_dir == tmp_path
