"""A feed across the change of divisions (2025-06-30 -> 2025-07-01, local time) replayed with
``ioc replay`` through a real worker: every dossier and citizen event lands in the unit valid at
its time.  Former district codes before midnight, the new communes' after; a former code after
midnight is recorded under its successor when it has one, dead-lettered when it has several; a new
code before midnight is dead-lettered.  Aggregates keep the code each event was recorded under."""
from __future__ import annotations

import random
import subprocess
import sys
import uuid
from datetime import date, datetime, timedelta, timezone

import orjson
import psycopg
import pytest

from simulators.citizen import CitizenSimulator
from simulators.dossier import DossierSimulator
from simulators.recording import RecordingWriter
from streams.core.clock import LOCAL_TZ
from streams.core.geography import load_province
from streams.core.settings import Settings
from streams.db.scratch import scratch_database
from tests.conftest import ADMIN_DSN
from tests.support import ROOT, WorkerProcess, read_dead_letters, settings_env, wait_for

MIDNIGHT = datetime(2025, 7, 1, tzinfo=LOCAL_TZ).astimezone(timezone.utc)  # 2025-06-30 17:00 UTC
BEFORE, AFTER = MIDNIGHT - timedelta(minutes=5), MIDNIGHT + timedelta(minutes=5)
OLD_DAY, NEW_DAY = date(2025, 6, 30), date(2025, 7, 1)
AGE_S = str(1000 * 86400)  # the feed is older than the worker's usual 400 days
RETENTION = orjson.dumps({"dossier_event": 2000, "citizen_event": 2000}).decode()


def iso(ts: datetime) -> str:
    return ts.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def simulated(province) -> list[tuple[str, str, dict]]:
    """Dossier and citizen events from 23:30 to 00:30 local, as the simulators make them."""
    out = []
    sims = [DossierSimulator(province, random.Random(7), open_dossiers=60), CitizenSimulator(province, random.Random(8))]
    start = MIDNIGHT - timedelta(minutes=30)
    for i in range(60):
        now = start + timedelta(minutes=i + 1)
        for sim in sims:
            out += [(sim.family, sim.key_of(e), e) for e in sim.tick(now, 60.0, 40)]
    return out


def crafted(template_dossier: dict, template_report: dict, run: str) -> dict[str, tuple[str, dict, str | None]]:
    """id -> (family, event, the unit it must be stored under; None: dead-lettered)."""
    def dossier(name: str, unit: str, at: datetime) -> tuple[str, dict]:
        ev = {**template_dossier, "id": f"geo-{run}-{name}", "dossier_id": f"GEO-{run}-{name}", "unit_code": unit,
              "dateObserved": iso(at), "received_date": iso(at), "due_date": iso(at + timedelta(days=3))}
        return ev["id"], ev

    def report(name: str, unit: str, at: datetime) -> tuple[str, dict]:
        ev = {**template_report, "id": f"geo-{run}-{name}", "report_id": f"PAHT-GEO-{run}-{name}", "unit_code": unit,
              "dateObserved": iso(at), "reported_at": iso(at)}
        return ev["id"], ev

    cases = {}
    for make, family, name, unit, at, stored in (
        (dossier, "dossier", "district-before", "899", BEFORE, "899"),         # TP Rạch Giá, still valid
        (dossier, "dossier", "ward-after", "30742", AFTER, "30742"),           # phường Rạch Giá
        (dossier, "dossier", "town-before", "30787", BEFORE, "30787"),         # thị trấn Kiên Lương
        (dossier, "dossier", "town-after", "30787", AFTER, "30787"),           # its code kept: xã Kiên Lương
        (dossier, "dossier", "one-successor", "912", AFTER, "31108"),          # Kiên Hải -> đặc khu Kiên Hải
        (dossier, "dossier", "agency-after", "so-tp", AFTER, "so-tp"),         # a province agency: any day
        (dossier, "dossier", "two-successors", "899", AFTER, None),            # two wards took Rạch Giá
        (dossier, "dossier", "new-before", "30742", BEFORE, None),             # not valid yet
        (report, "citizen", "island-before", "911", BEFORE, "911"),
        (report, "citizen", "island-after", "911", AFTER, None),                # Phú Quốc and Thổ Châu
        (report, "citizen", "zone-after", "31078", AFTER, "31078"),
    ):
        key, ev = make(name, unit, at)
        cases[key] = (family, ev, stored)
    return cases


@pytest.fixture
def geo_settings(stack):
    """This test's own topics, consumer group and database: its worker keeps year-old events."""
    from streams.kafka.admin import create_topics

    run = uuid.uuid4().hex[:8]
    with scratch_database(ADMIN_DSN, f"ioc_test_geo_{run}") as dsn:
        settings = Settings(database_url=dsn, topic_prefix=f"g{run}.", app_id=f"ioc-test-geo-{run}", metrics_port=0,
                            topic_partitions=2)
        create_topics(settings, log_fn=lambda *_: None)
        yield settings, run


def test_a_feed_across_the_change_of_divisions_lands_in_the_units_valid_at_each_time(geo_settings, tmp_path):
    settings, run = geo_settings
    province = load_province(settings.province_file)
    feed = simulated(province)
    template_dossier = next(e for f, _, e in feed if f == "dossier" and e["type"] == "DossierReceived")
    template_report = next(e for f, _, e in feed if f == "citizen" and e["type"] == "ReportCreated")
    cases = crafted(template_dossier, template_report, run)

    # the simulators named the units valid at each event's local day
    for family, _, e in feed:
        day = datetime.fromisoformat(e["dateObserved"]).astimezone(LOCAL_TZ).date()
        assert province.unit_on(e["unit_code"], day) or not province.divisions.known(e["unit_code"]), (family, e)
    assert {e["unit_code"] for _, _, e in feed if e["dateObserved"] < iso(MIDNIGHT)} & {"899", "911"}
    assert {e["unit_code"] for _, _, e in feed if e["dateObserved"] >= iso(MIDNIGHT)} & {"30742", "31078"}

    path = tmp_path / "divisions.jsonl"
    writer = RecordingWriter(path, province=province.code, source="test", clock=lambda: MIDNIGHT)
    messages = sorted([(e["dateObserved"], f, k, e) for f, k, e in feed]
                      + [(e["dateObserved"], f, e["id"], e) for f, e, _ in cases.values()], key=lambda m: m[0])
    for at, family, key, event in messages:
        writer.write(datetime.fromisoformat(at), family, key, orjson.dumps(event))
    writer.close()

    worker = WorkerProcess(settings, tmp_path / "worker.log", IOC_MAX_EVENT_AGE_S=AGE_S, IOC_RETENTION_DAYS=RETENTION)
    try:
        replay = subprocess.run([sys.executable, "-m", "streams.cli.main", "replay", str(path), "--speed", "max"],
                                env=settings_env(settings), capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert replay.returncode == 0, replay.stdout + replay.stderr
        assert f"replay: done, {len(messages)} messages" in replay.stdout

        dossier_ids = [e["id"] for f, _, e in feed if f == "dossier"] + [k for k, c in cases.items() if c[0] == "dossier"]
        report_ids = [e["id"] for f, _, e in feed if f == "citizen"] + [k for k, c in cases.items() if c[0] == "citizen"]
        stored_n = sum(1 for c in cases.values() if c[2] is not None) + len(feed)
        with psycopg.connect(settings.dsn, autocommit=True) as db:
            def stored() -> dict[str, str]:
                rows = db.execute("SELECT id, unit_code FROM dossier_event WHERE id = ANY(%s) UNION ALL "
                                  "SELECT id, unit_code FROM citizen_event WHERE id = ANY(%s)",
                                  (dossier_ids, report_ids)).fetchall()
                return dict(rows)

            def all_stored() -> dict[str, str] | None:
                now = stored()
                return now if len(now) >= stored_n else None

            try:
                units = wait_for(all_stored, timeout=120, what=f"{stored_n} events stored")
            except AssertionError as exc:
                raise AssertionError(f"{exc}\n{worker.log_tail()}") from None
            days = db.execute("SELECT DISTINCT time, unit_code FROM dossier_day WHERE unit_code = ANY(%s)",
                              (["899", "30742", "30787", "31108"],)).fetchall()

        for _, _, e in feed:  # simulated: as sent
            assert units[e["id"]] == e["unit_code"]
        for key, (_, _, unit) in cases.items():  # crafted: as sent, mapped, or not stored at all
            assert units.get(key) == unit, key

        # the day aggregates keep the code each dossier was recorded under, on its own local day
        by_day = {(t.astimezone(LOCAL_TZ).date(), u) for t, u in days}
        assert {(OLD_DAY, "899"), (OLD_DAY, "30787"), (NEW_DAY, "30787"), (NEW_DAY, "31108")} <= by_day
        assert (NEW_DAY, "899") not in by_day and (OLD_DAY, "30742") not in by_day
        assert (NEW_DAY, "30742") in by_day

        # the refused ones are dead letters naming the reason and the units to use instead
        refused = {k for k, c in cases.items() if c[2] is None}
        ids = lambda read: {orjson.loads(v).get("id") for _, v in read}  # noqa: E731
        letters = read_dead_letters(settings, lambda read: refused <= ids(read), timeout=60,
                                    what="the refused events dead-lettered", logs=worker.log_tail)
        reasons = {orjson.loads(v)["id"]: h for h, v in letters if orjson.loads(v).get("id") in refused}
        assert reasons[f"geo-{run}-two-successors"]["ioc-reason"] == "unit_ended"
        assert "30742 Phường Rạch Giá" in reasons[f"geo-{run}-two-successors"]["ioc-detail"]
        assert reasons[f"geo-{run}-new-before"]["ioc-reason"] == "unit_not_yet_valid"
        assert reasons[f"geo-{run}-island-after"]["ioc-reason"] == "unit_ended"
        assert not ids(letters) & set(units)  # nothing both stored and refused
    finally:
        worker.stop()
