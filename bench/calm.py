"""A calm hour: the demo's background feed with no drill, and what it made operators see.

``python -m bench.calm --minutes 60`` runs the simulators at the demo's rate, one worker and the
alert engine against a database and topics of their own (the local stack must be up), samples
the cameras the wall would call offline every minute, and at the end prints, by rule and
severity, how many alerts went pending, fired and were cancelled, and the security findings by
kind and severity.  A calm background should page nobody: this is the calm-day budget of
``docs/reliability.md``.  ``--json FILE`` keeps the figures.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any


from streams.core.settings import Settings
from streams.core.clock import utcnow
from streams.db.connect import Connection, connect
from tests.support import settings_env

ADMIN_DSN = os.environ.get("IOC_BENCH_ADMIN_DSN", "postgresql://ioc@127.0.0.1:5433/postgres")


def _start(settings: Settings, workdir: Path, name: str, *args: str) -> subprocess.Popen:
    log = open(workdir / f"{name}.log", "ab")
    return subprocess.Popen([sys.executable, "-m", "streams.cli.main", *args], env=settings_env(settings),
                            stdout=log, stderr=subprocess.STDOUT, cwd=workdir)


def offline_now(conn: Connection, province: Any) -> int:
    """Cameras the alert engine (and the wall) would call offline now."""
    from agents.alerting.derived import camera_values

    rows = conn.execute("SELECT * FROM camera_state").fetchall()
    values = camera_values(rows, province, utcnow())["camera.offline"]
    return sum(1 for v in values.values() if v)


def alert_table(conn: Connection) -> list[dict[str, Any]]:
    return conn.execute(
        """SELECT rule, severity, count(*) AS pending, count(fired_at) AS firing,
                  count(*) FILTER (WHERE state = 'cancelled') AS cancelled,
                  count(*) FILTER (WHERE state = 'firing') AS still_firing
           FROM alert GROUP BY rule, severity ORDER BY rule, severity""").fetchall()


def finding_table(conn: Connection) -> list[dict[str, Any]]:
    return conn.execute(
        """SELECT kind, severity, count(*) AS rows, count(DISTINCT (subject, target)) AS distinct_subjects
           FROM security_finding GROUP BY kind, severity ORDER BY kind, severity""").fetchall()


def markdown(result: dict[str, Any]) -> str:
    lines = [f"Calm run of {result['minutes']} min at {result['rate']:.0f} events/s "
             f"({result['started']} → {result['ended']}): cameras offline per minute "
             f"max {max(result['offline'], default=0)}, mean "
             f"{sum(result['offline']) / max(1, len(result['offline'])):.1f}.", "",
             "| rule | severity | pending | fired | cancelled | firing at the end |", "|---|---|---|---|---|---|"]
    for r in result["alerts"] or [{"rule": "(none)", "severity": "", "pending": 0, "firing": 0, "cancelled": 0,
                                   "still_firing": 0}]:
        lines.append(f"| {r['rule']} | {r['severity']} | {r['pending']} | {r['firing']} | {r['cancelled']} | "
                     f"{r['still_firing']} |")
    lines += ["", "| finding | severity | rows | distinct subject/target |", "|---|---|---|---|"]
    for r in result["findings"] or [{"kind": "(none)", "severity": "", "rows": 0, "distinct_subjects": 0}]:
        lines.append(f"| {r['kind']} | {r['severity']} | {r['rows']} | {r['distinct_subjects']} |")
    return "\n".join(lines)


def run(minutes: float, rate: float, keep: bool) -> dict[str, Any]:
    from streams.kafka.admin import create_topics
    from streams.db.scratch import scratch_database

    tag = uuid.uuid4().hex[:8]
    dbname = f"ioc_calm_{tag}"
    with scratch_database(ADMIN_DSN, dbname, keep=keep) as dsn:
        settings = Settings(database_url=dsn, topic_prefix=f"calm{tag}.", app_id=f"ioc-calm-{tag}", metrics_port=0,
                            alerts_metrics_port=0)
        create_topics(settings, log_fn=lambda *_: None)
        return _run(settings, dbname, minutes, rate)


def _run(settings: Settings, dbname: str, minutes: float, rate: float) -> dict[str, Any]:
    from streams.core.geography import load_province

    province = load_province(settings.province_file)
    workdir = Path(os.environ.get("TMPDIR", "/tmp")) / settings.app_id
    workdir.mkdir(parents=True)
    procs = [_start(settings, workdir, "worker", "worker"),
             _start(settings, workdir, "simulate", "simulate", "--rate", str(rate)),
             _start(settings, workdir, "alerts", "alerts", "run")]
    started = utcnow()
    offline: list[int] = []
    print(f"calm: {minutes:g} min at {rate:g} events/s, database {dbname}, logs in {workdir}", flush=True)
    try:
        with connect(settings.dsn, what="calm-hour database", role="bench", autocommit=True, dict_rows=True) as conn:
            end = time.monotonic() + minutes * 60
            while time.monotonic() < end:
                for p in procs:
                    if p.poll() is not None:
                        raise SystemExit(f"calm: {p.args[3]} exited with {p.returncode}; see {workdir}")
                time.sleep(min(60.0, max(0.0, end - time.monotonic())))
                offline.append(offline_now(conn, province))
                fired = conn.execute("SELECT count(*) AS n FROM alert WHERE fired_at IS NOT NULL").fetchone()["n"]
                print(f"calm: {len(offline)} min, cameras offline {offline[-1]}, alerts fired so far {fired}",
                      flush=True)
            result = {"minutes": minutes, "rate": rate, "started": started.isoformat(timespec="seconds"),
                      "ended": utcnow().isoformat(timespec="seconds"), "offline": offline,
                      "alerts": alert_table(conn), "findings": finding_table(conn)}
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.calm", description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=60, help="how long the calm feed runs (default 60)")
    p.add_argument("--rate", type=float, default=200, help="background events/s (the demo's default, 200)")
    p.add_argument("--json", type=Path, help="also write the figures to this file")
    p.add_argument("--keep", action="store_true", help="keep the run's database for inspection")
    args = p.parse_args(argv)
    result = run(args.minutes, args.rate, args.keep)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, default=str))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
