"""`ioc maintenance` and `ioc alerts` through the CLI entry point, against the run's database."""
from streams.cli.main import main


def test_maintenance_windows_from_the_cli(test_settings, db, capsys):
    url = ["--database-url", test_settings.dsn]
    assert main(["maintenance", "add", "--system", "gis", "--start", "2026-12-01T22:00", "--end",
                 "2026-12-02T02:00", "--reason", "nâng cấp máy chủ", "--by", "ky-su-1", *url]) == 0
    assert main(["maintenance", "add", "--weekly", "sun", "--at", "01:00", "--minutes", "90",
                 "--reason", "sao lưu hằng tuần", "--by", "ky-su-1", *url]) == 0
    out = capsys.readouterr().out
    assert "added for gis" in out and "added for every system" in out
    one_off = db.execute("SELECT o.starts_at, o.ends_at FROM maintenance_occurrence o JOIN maintenance_window w "
                         "ON w.id = o.window_id WHERE w.system = 'gis'").fetchall()
    assert [(s.isoformat(), e.isoformat()) for s, e in one_off] == [
        ("2026-12-01T15:00:00+00:00", "2026-12-01T19:00:00+00:00")]  # 22:00 local = 15:00 UTC
    assert db.execute("SELECT count(*) FROM maintenance_occurrence o JOIN maintenance_window w "
                      "ON w.id = o.window_id WHERE w.recurrence IS NOT NULL").fetchone()[0] >= 2
    assert main(["maintenance", "list", *url]) == 0
    assert "sao lưu hằng tuần" in capsys.readouterr().out


def test_bad_input_prints_one_line_and_exits_1(test_settings, capsys):
    url = ["--database-url", test_settings.dsn]
    assert main(["maintenance", "add", "--start", "tomorrow", "--end", "x", "--reason", "r", "--by", "b", *url]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ConfigError: not a time") and err.count("\n") == 1
    assert main(["maintenance", "delete", "999999", *url]) == 1
    assert main(["maintenance", "add", "--weekly", "funday", "--reason", "r", "--by", "b", *url]) == 1


def test_silences_from_the_cli(test_settings, db, capsys):
    url = ["--database-url", test_settings.dsn]
    assert main(["alerts", "silence", "add", "--rule", "camera_offline", "--entity", "cam-hatien-*", "--label",
                 "team=camera", "--for", "2h", "--comment", "thay cáp quang", "--by", "truc-ban", *url]) == 0
    out = capsys.readouterr().out
    sid = int(out.split()[1].rstrip(":"))
    row = db.execute("SELECT rule, entity, labels, ends_at - starts_at FROM alert_silence WHERE id = %s",
                     (sid,)).fetchone()
    assert row[:3] == ("camera_offline", "cam-hatien-*", {"team": "camera"}) and row[3].total_seconds() == 7200
    assert main(["alerts", "silence", "list", *url]) == 0
    assert "cam-hatien-*" in capsys.readouterr().out
    assert main(["alerts", "silence", "end", str(sid), "--by", "truc-ban", *url]) == 0
    assert main(["alerts", "silence", "end", str(sid), "--by", "truc-ban", *url]) == 1
    assert main(["alerts", "silence", "add", "--for", "1h", "--comment", "x", "--by", "b", *url]) == 1
    assert "whole centre" in capsys.readouterr().err
    assert main(["alerts", "silence", "add", "--rule", "x", "--comment", "x", "--by", "b", *url]) == 1  # no --for
