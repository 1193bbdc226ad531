"""``ioc alerts backtest``: a recording through the pipeline and the rules on a simulated clock.

The scenario is recorded long before the wall clock (June 2024): were any part of the path to
read the real time instead of the simulated one — the decoder's age limits, the indicator
queries' ``now()``, the derived readers — the events would be out of every window and nothing
would fire.
"""
from __future__ import annotations

import csv
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import orjson
import psycopg
import pytest
import yaml

from agents.alerting.state import FIRING, PENDING, AlertState
from simulators.backtest import Fired, Peaks, Schedule, begun_and_open, csv_text, summary_lines, survey, table_lines
from simulators.recording import Message, RecordingWriter
from streams.cli.main import main
from streams.core.geography import load_province
from streams.core.settings import Settings
from tests.agents.health_sequences import probes
from tests.support import own_database, settings_env

T0 = datetime(2024, 6, 3, 2, 0, tzinfo=timezone.utc)  # 09:00 local
DOWN, UP = T0 + timedelta(minutes=3), T0 + timedelta(minutes=6)  # gis answers no probe in between
BURST = T0 + timedelta(minutes=8)  # 30 failed logins from one address, one every 2 s
END = T0 + timedelta(minutes=14)
ATTACKER = "203.0.113.77"
STEP = timedelta(seconds=10)  # IOC_ALERT_INTERVAL_S


def record(path) -> None:
    """Every system of the province probed every 10 s per endpoint (arriving 0.2 s later), gis not
    answering from DOWN to UP, and a brute-force burst against dvc."""
    messages = []
    for system in load_province(Settings().province_file).systems:
        answers = (lambda at: not DOWN <= at < UP) if system.code == "gis" else (lambda at: True)
        for p in probes(system.code, list(system.endpoints) or ["/"], T0, END, answers):
            messages.append((p.dateObserved, "health", system.code, p.model_dump_json(exclude_none=True).encode()))
    for i in range(30):
        at = BURST + timedelta(seconds=2 * i)
        messages.append((at, "security", "dvc", orjson.dumps({
            "id": f"bt-auth-{i}", "type": "AuthFailure", "dateObserved": at.isoformat(), "system": "dvc",
            "src_ip": ATTACKER, "service": "web", "username": "admin", "action": "blocked", "severity": "medium"})))
    writer = RecordingWriter(path, province="91", source="test", clock=lambda: T0)
    for at, family, key, value in sorted(messages, key=lambda m: m[0]):
        writer.write(at + timedelta(milliseconds=200), family, key, value)
    writer.close()


def backtest(settings, capsys, *args) -> tuple[str, list[dict[str, str]]]:
    out_csv = args[-1]
    code = main(["alerts", "backtest", *args[:-1], "--csv", str(out_csv), "--tail", "5m",
                 "--database-url", settings.dsn, "--log-level", "WARNING"])
    out = capsys.readouterr().out
    assert code == 0, out
    with open(out_csv, newline="", encoding="utf-8") as f:
        return out, list(csv.DictReader(f))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(timezone.utc)


def databases(settings) -> set[str]:
    """The backtests' scratch databases on the server (other tests make and drop databases of their own)."""
    with psycopg.connect(settings.dsn) as conn:
        return {n for (n,) in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'ioc\\_backtest\\_%'")}


@pytest.fixture()
def own_settings(test_settings):
    """A database of this test's own: "nothing of it in the run's database" must not see what other
    tests of the session left in theirs."""
    with own_database(test_settings, "bt") as settings:
        yield settings


def test_a_recording_through_the_rules_offline(own_settings, tmp_path, capsys):
    test_settings = own_settings
    rec = tmp_path / "incident.jsonl.gz"
    record(rec)
    out, rows = backtest(test_settings, capsys, str(rec), tmp_path / "shipped.csv")

    gis = [r for r in rows if (r["rule"], r["entity"]) == ("system_unavailable", "gis")]
    assert len(gis) == 1, out
    # down once its probes have failed for 20 s (status.yaml), then 30 s pending (for: 30s); answering
    # again at UP, resolved after keep_firing_for: 2m — each within one evaluation interval
    assert abs(at(gis[0]["fired_at"]) - (DOWN + timedelta(seconds=20 + 30))) <= STEP
    assert abs(at(gis[0]["resolved_at"]) - (UP + timedelta(minutes=2))) <= STEP
    assert gis[0]["severity"] == "critical" and gis[0]["still_firing"] == "no" and gis[0]["peak"] == "1.0"

    brute = [r for r in rows if r["rule"] == "brute_force_source"]
    assert [r["entity"] for r in brute] == [ATTACKER], out
    twentieth = BURST + timedelta(seconds=38)  # the 20th failure reaches fire: 20
    assert twentieth <= at(brute[0]["fired_at"]) <= twentieth + STEP
    assert float(brute[0]["peak"]) == 30
    # its failures (counted per minute) out of the last 5 minutes: no data, and the rule resolves on no data
    gone = BURST.replace(second=0) + timedelta(minutes=5)
    assert gone <= at(brute[0]["resolved_at"]) <= gone + 2 * STEP, out

    assert re.search(r"^system_unavailable +gis +critical +2024-06-03 09:03:5\d +2024-06-03 09:08:\d\d", out, re.M)
    assert re.search(r"^brute_force_source: 1 fired", out, re.M)
    scratch = re.search(r"scratch database (\S+)", out).group(1)
    assert scratch not in databases(test_settings)  # dropped at the end

    # nothing of it in the run's own database: no alert, no notification
    db = psycopg.connect(test_settings.dsn, autocommit=True)
    assert db.execute("SELECT count(*) FROM alert WHERE entity = %s OR (entity = 'gis' AND started_at >= %s "
                      "AND started_at < %s)", (ATTACKER, T0, END + timedelta(days=1))).fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM notification_outbox o JOIN alert a ON a.id = o.alert_id "
                      "WHERE a.entity = %s OR a.started_at < %s", (ATTACKER, END + timedelta(days=1))).fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM alert").fetchone()[0] == 0
    db.close()

    # the same recording against a changed copy of the rules: a higher brute-force threshold
    doc = yaml.safe_load(open(test_settings.alert_rule_files()[0], encoding="utf-8"))
    for rule in doc["rules"]:
        if rule["name"] == "brute_force_source":
            rule["fire"], rule["clear"] = 100, 50
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    out, rows = backtest(test_settings, capsys, str(rec), "--rules", str(changed), tmp_path / "changed.csv")
    assert not [r for r in rows if r["rule"] == "brute_force_source"], out
    assert [(r["rule"], r["entity"]) for r in rows if r["rule"] == "system_unavailable"] == [
        ("system_unavailable", "gis")]
    assert str(changed) in out


def test_bad_rules_or_recordings_are_one_line_errors(test_settings, tmp_path, capsys):
    rec = tmp_path / "r.jsonl"
    record(rec)
    bad_rules = tmp_path / "bad.yaml"
    bad_rules.write_text("rules:\n  - name: brute_force_source\n    indicator: security.auth_failures\n"
                         "    condition: sideways\n    fire: 20\n", encoding="utf-8")
    not_a_recording = tmp_path / "notes.txt"
    not_a_recording.write_text("hello\n", encoding="utf-8")
    broken = tmp_path / "broken.jsonl"
    broken.write_text(rec.read_text(encoding="utf-8").replace('"family":"security"', '"family":"weather"', 1),
                      encoding="utf-8")
    before = databases(test_settings)
    cases = [
        ([str(rec), "--rules", str(bad_rules)], "ConfigError: ", "'condition' must be 'below' or 'above'"),
        ([str(rec), "--rules", str(tmp_path / "missing.yaml")], "ConfigError: ", "rule file not found"),
        ([str(tmp_path / "missing.jsonl")], "RecordingError: ", "No such file"),
        ([str(not_a_recording)], "RecordingError: ", "not an ioc-recording file"),
        ([str(broken)], "RecordingError: ", "unknown family 'weather'"),
        ([str(rec), "--tail", "soon"], "ConfigError: ", "--tail: not a duration"),
        ([str(rec), "--csv", str(tmp_path / "no" / "such" / "dir.csv")], "ConfigError: ", "cannot write"),
    ]
    for args, kind, what in cases:
        assert main(["alerts", "backtest", *args, "--database-url", test_settings.dsn]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(kind) and what in err[0], (args, err)
    # as a command: one line on stderr, the logs included
    done = subprocess.run([sys.executable, "-m", "streams.cli.main", "alerts", "backtest", str(rec), "--rules",
                           str(bad_rules)], env=settings_env(test_settings), capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and done.stderr.startswith("ConfigError: ")
    assert databases(test_settings) == before  # refused before any database is made


# --- the pure parts ---------------------------------------------------------------------------------


def msg(at: datetime, event_time: datetime | None, i: int = 0) -> Message:
    value = orjson.dumps({"id": f"m{i}", "type": "ServiceProbe", "dateObserved": event_time.isoformat()}
                         ) if event_time else b"not json"
    return Message(at, "health", "gis", value, i + 2)


def test_the_clock_follows_arrivals_moved_to_the_events_time():
    old = datetime(2023, 1, 1, tzinfo=timezone.utc)  # a recording of a replay of old events
    messages = [msg(T0 + timedelta(seconds=s), old + timedelta(seconds=s), s) for s in (0, 5, 12, 11, 30)]
    messages.append(msg(T0 + timedelta(seconds=31), None, 99))  # no timestamp: arrives in its place
    found = survey(messages)
    assert (found.messages, found.gap) == (6, old - T0)
    assert (found.start, found.end) == (old, old + timedelta(seconds=31))
    schedule = Schedule(messages, found.gap)
    assert [m.line - 2 for m in schedule.due(old + timedelta(seconds=10))] == [0, 5]
    assert [m.line - 2 for m in schedule.due(old + timedelta(seconds=20))] == [12, 11]  # file order
    assert not schedule.done and [m.line - 2 for m in schedule.due(old + timedelta(minutes=1))] == [30, 99]
    assert schedule.done


def test_worst_values_summary_and_csv():
    t = T0
    peaks = Peaks()
    for value in (0.5, 0.2, 0.4):
        peaks.observe([AlertState("avail_low", "dvc", FIRING, since=t, value=value),
                       AlertState("errors_high", "dvc", FIRING, since=t, value=value * 10),
                       AlertState("errors_high", "gis", PENDING, since=t, value=99.0)], below=["avail_low"])
    assert (peaks.of("avail_low", "dvc", t), peaks.of("errors_high", "dvc", t)) == (0.2, 5.0)
    assert peaks.of("errors_high", "gis", t) is None  # pending is not firing

    end = t + timedelta(hours=1)
    rows = [Fired("avail_low", "dvc", "critical", t, t + timedelta(minutes=4, seconds=10), 0.2),
            Fired("errors_high", "dvc", "high", t + timedelta(minutes=1), None, 5.0, "suppressed by datacenter")]
    lines = table_lines(rows, end)
    assert lines[0].split() == ["rule", "entity", "severity", "fired", "resolved", "duration", "peak", "note"]
    assert "2024-06-03 09:04:10" in lines[1] and "4:10" in lines[1] and "0.2" in lines[1]
    assert "still firing at the end" in lines[2] and "≥ 59:00" in lines[2] and lines[2].endswith("datacenter")
    summary = summary_lines(rows, {"avail_low": 2, "quiet": 0}, end, ["avail_low", "errors_high", "quiet"])
    assert summary == ["avail_low: 1 fired (dvc), firing 4:10 in all, longest 4:10, 2 pending cancelled before firing",
                       "errors_high: 1 fired (dvc), 1 still firing at the end, firing 59:00 in all, longest 59:00"]
    many = [Fired("stale", f"s{i}", "low", t, t + timedelta(minutes=1), 1.0) for i in range(5)]
    assert summary_lines(many, {}, end, ["stale"]) == [
        "stale: 5 fired (s0, s1, s2 and 2 more), firing 5:00 in all, longest 1:00"]
    table = list(csv.DictReader(csv_text(rows, end).splitlines()))
    assert table[0]["fired_at"] == "2024-06-03T09:00:00+07:00" and table[0]["duration_s"] == "250"
    assert (table[1]["resolved_at"], table[1]["still_firing"], table[1]["duration_s"]) == ("", "yes", "3540")

    states = {("a", "x"): AlertState("a", "x", FIRING, breach_since=t),
              ("b", "x"): AlertState("b", "x", PENDING, breach_since=t + timedelta(minutes=2)),
              ("c", "x"): AlertState("c", "x", "inactive")}
    assert begun_and_open(states, t + timedelta(minutes=1)) == 1

