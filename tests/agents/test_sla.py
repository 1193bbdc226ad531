"""Service levels per calendar month: minutes up, down, unknown and held for maintenance, the
verdict, the outages and the alerts that saw them."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from agents.indicators.sla import (MEETS, MISSES, NO_DATA, UNDETERMINED, SlaPolicy, load_sla_policy, month_bounds,
                                   month_sla, next_month, parse_month, previous_month)
from streams.core.clock import LOCAL_TZ
from streams.core.errors import ConfigError, InputError

NOV = date(2026, 11, 1)
START, END = month_bounds(NOV, LOCAL_TZ)
M = timedelta(minutes=1)
POLICY = SlaPolicy(default_target=0.995, down_below=0.5, targets={"dvc": 0.999})


def every_minute(ok=(6, 6)):
    out, at = {}, START
    while at < END:
        out[at] = ok
        at += M
    return out


def test_a_local_calendar_month():
    assert START == datetime(2026, 10, 31, 17, tzinfo=timezone.utc)
    assert END == datetime(2026, 11, 30, 17, tzinfo=timezone.utc)
    assert (END - START) / M == 30 * 1440
    assert parse_month("2026-11") == NOV and parse_month(" 2027-1 ") == date(2027, 1, 1)
    assert next_month(date(2026, 12, 1)) == date(2027, 1, 1) and previous_month(date(2027, 1, 1)) == date(2026, 12, 1)
    for bad in ("2026-13", "11/2026", "", "2026"):
        with pytest.raises(InputError, match=r"month: .* is not a month \(YYYY-MM\)"):
            parse_month(bad)


def test_a_whole_month_up_meets_its_target():
    sla = month_sla("gis", NOV, LOCAL_TZ, every_minute(), [], [], POLICY, now=END + timedelta(days=3))
    assert (sla.minutes, sla.up, sla.down, sla.unknown, sla.maintenance) == (43_200, 43_200, 0, 0, 0)
    assert sla.availability == 1.0 and sla.verdict == MEETS and sla.outages == () and sla.target == 0.995
    assert sla.allowed_down_minutes == pytest.approx(216)


def test_a_dead_prober_is_unknown_never_up():
    probes = every_minute()
    for i in range(600):  # ten hours without a stored probe
        del probes[START + i * M]
    sla = month_sla("gis", NOV, LOCAL_TZ, probes, [], [], POLICY, now=END)
    assert (sla.up, sla.unknown, sla.down) == (42_600, 600, 0)
    assert sla.availability == 1.0  # over the minutes with data
    assert sla.worst == pytest.approx(42_600 / 43_200)  # 98.6 %: could be below 99.5 %
    assert sla.verdict == UNDETERMINED
    empty = month_sla("gis", NOV, LOCAL_TZ, {}, [], [], POLICY, now=END)
    assert empty.verdict == NO_DATA and empty.availability is None and empty.unknown == 43_200


def test_outages_minutes_maintenance_and_the_alert_that_saw_each():
    probes = every_minute()
    first = START + timedelta(days=3, hours=2)
    for i in range(45):  # 45 minutes with one probe in six answered
        probes[first + i * M] = (6, 1)
    probes[first + 45 * M] = (6, 3)  # half answered: up (down is *fewer* than half)
    second = START + timedelta(days=20)
    for i in range(200):
        probes[second + i * M] = (6, 0)
    held = [(second + 100 * M, second + 300 * M)]  # maintenance covers the second half of the second outage
    alerts = [(7, first + 1 * M, first + 50 * M), (8, second - timedelta(hours=5), second - timedelta(hours=4))]
    sla = month_sla("dvc", NOV, LOCAL_TZ, probes, held, alerts, POLICY, now=END)
    assert sla.maintenance == 200 and sla.down == 145 and sla.up == 43_200 - 200 - 145
    assert [(o.start, o.minutes, o.alert_id) for o in sla.outages] == [(first, 45, 7), (second, 100, None)]
    assert sla.target == 0.999 and sla.verdict == MISSES
    assert sla.availability == pytest.approx(1 - 145 / 43_000)


def test_a_month_in_progress_counts_whole_minutes_so_far():
    now = START + timedelta(days=1, minutes=30, seconds=59)
    sla = month_sla("gis", NOV, LOCAL_TZ, every_minute(), [], [], POLICY, now=now)
    assert sla.minutes == 1440 + 30 and sla.up == 1470
    ahead = month_sla("gis", NOV, LOCAL_TZ, {}, [], [], POLICY, now=START - timedelta(days=1))
    assert ahead.minutes == 0 and ahead.verdict == NO_DATA


def test_the_shipped_policy_and_bad_files(tmp_path: Path):
    policy = load_sla_policy()
    assert policy.target("dvc") > policy.default_target >= 0.99 and "system_unavailable" in policy.outage_rules
    bad = tmp_path / "sla.yaml"
    for text, words in (("default_target: 99.5\n", "default_target: 99.5 is not a share between 0 and 1"),
                        ("targets: {dvc: high}\n", "targets.dvc: 'high' is not a number"),
                        ("targets: [dvc]\n", "targets must map system codes to shares"),
                        ("- 1\n", "expected a mapping")):
        bad.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError, match=words.replace("[", r"\[")):
            load_sla_policy(bad)
    with pytest.raises(ConfigError, match="SLA file not found: .*missing.yaml \\(set IOC_SLA_FILE\\)"):
        load_sla_policy(tmp_path / "missing.yaml")
