"""A system stops answering: its probes -> Kafka -> the real worker -> health_window -> the alert
engine's health indicators and the wall's query.  Down within 30 s of the first failed probe, and
``system_unavailable`` fires while it still does not answer."""
from __future__ import annotations

import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
import yaml

from agents.alerting.derived import health_reader
from agents.alerting.engine import AlertEngine, RuleSet
from agents.indicators.health import load_status_rules, system_statuses
from agents.indicators.queries.health import STATUS_SQL
from ioc_dash.repository import Repository
from agents.alerting.store import AlertStore
from tests.support import wait_for

ROOT = Path(__file__).resolve().parents[2]
ENDPOINTS = ("/", "/api")
PROBE_EVERY_S = 10.0  # per endpoint, as the probers of the province do


def _probe(system: str, endpoint: str, at: datetime, ok: bool) -> dict:
    return {"id": f"{system}-{endpoint}-{at.timestamp():.3f}", "type": "ServiceProbe", "system": system,
            "endpoint": endpoint, "dateObserved": at.isoformat(), "success": ok,
            "latency_ms": 90.0 if ok else 10000.0, "status_code": 200 if ok else 504,
            **({} if ok else {"error": "timeout"})}


class Prober:
    """Probes the system's endpoints in real time, every endpoint every 10 s, spread; once ``dead`` is
    set, every probe fails (the system has stopped answering)."""

    def __init__(self, producer, system: str) -> None:
        self.producer, self.system = producer, system
        self.stop = threading.Event()
        self.dead = threading.Event()
        self.first_failed: float | None = None  # monotonic time of the first failed probe
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        step = PROBE_EVERY_S / len(ENDPOINTS)
        i = 0
        while not self.stop.is_set():
            now, ok = datetime.now(timezone.utc), not self.dead.is_set()
            probe = _probe(self.system, ENDPOINTS[i % len(ENDPOINTS)], now, ok)
            self.producer("health", self.system, orjson.dumps(probe))
            self.producer.flush()
            if not ok and self.first_failed is None:
                self.first_failed = time.monotonic()
            i += 1
            self.stop.wait(step)


def test_a_system_that_stops_answering_is_down_within_30_s_and_pages_while_down(worker, producer, test_settings, db,
                                                                                 tmp_path):
    system = f"it-down-{uuid.uuid4().hex[:6]}"
    rules = load_status_rules()
    store = AlertStore(test_settings.dsn)
    read = health_reader(store, [system], rules)  # what the engine reads each round
    repo = Repository(test_settings.dsn, window_s=rules.window_s, systems=[system])  # what the wall reads

    # two minutes of a healthy system, then its prober live
    now = datetime.now(timezone.utc)
    history = [_probe(system, ep, now - timedelta(seconds=120 - s), True)
               for s in range(0, 120, int(PROBE_EVERY_S)) for ep in ENDPOINTS]
    producer("health", system, orjson.dumps(history))
    producer.flush()
    prober = Prober(producer, system)
    prober.thread.start()
    try:
        def answered_just_now():
            rows = store.fetch(STATUS_SQL, {"window_s": rules.window_s})
            row = next((r for r in rows if r["system"] == system), {})
            up = read(datetime.now(timezone.utc))["health.down"].get(system) == 0.0
            return bool(row.get("last_ok") and row["last_ok"] > now and up)

        wait_for(answered_just_now, timeout=60, what="a live successful probe stored, the system read as up")
        prober.dead.set()  # it stops answering
        def down_for_engine():
            return read(datetime.now(timezone.utc))["health.down"].get(system) == 1.0

        wait_for(down_for_engine, timeout=45, interval=0.25, what="the engine's health.down")
        engine_s = time.monotonic() - prober.first_failed

        def red_on_wall():
            snap = repo.snapshot()
            return system_statuses(snap.systems, [system], now=snap.taken_at, rules=rules)[system].status == "down"

        wait_for(red_on_wall, timeout=10, interval=0.25, what="the wall's status")
        wall_s = time.monotonic() - prober.first_failed
        print(f"down: engine indicator {engine_s:.1f} s, wall {wall_s:.1f} s after the first failed probe")
        assert engine_s <= 30 and wall_s <= 30, (engine_s, wall_s)

        # the pager, with the rule file's system rules and their hysteresis, while the probes keep failing
        doc = yaml.safe_load((ROOT / "deploy" / "rules" / "ioc.yaml").read_text(encoding="utf-8"))
        system_rules = tmp_path / "system.yaml"
        system_rules.write_text(yaml.safe_dump({"rules": [r for r in doc["rules"] if r["name"].startswith("system_")]}))
        engine = AlertEngine(store, RuleSet([system_rules]), derived=[read])

        def firing():
            engine.run_once(datetime.now(timezone.utc))
            return [a for a in store.alerts(states=("firing",))
                    if a["entity"] == system and a["rule"] == "system_unavailable"]

        wait_for(firing, timeout=90, interval=2, what="system_unavailable firing")
        assert not prober.stop.is_set() and prober.thread.is_alive()  # still down when it fired
    finally:
        prober.stop.set()
        prober.thread.join(timeout=15)
        repo.close()
        # no alert left firing for the alert store's tests to escalate
        db.execute("DELETE FROM alert WHERE entity = %s", (system,))
        db.execute("DELETE FROM alert_rule_state WHERE entity = %s", (system,))
