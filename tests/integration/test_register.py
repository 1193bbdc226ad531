"""The security register in the database: versions and their audit, imports all or nothing, and its
obligations raising and clearing the shipped alert rules as the engine's clock moves forward."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from agents.alerting.derived import register_values
from agents.alerting.engine import AlertEngine, RuleSet
from agents.alerting.store import AlertStore
from agents.indicators.register import Entry, parse_entry
from agents.indicators.register_store import RegisterStore
from streams.core.clock import LOCAL_TZ
from streams.core.errors import SinkError

RULES = Path(__file__).resolve().parents[2] / "deploy" / "rules" / "ioc.yaml"


@pytest.fixture
def register(test_settings, db):
    db.execute("DELETE FROM security_register")
    db.execute("DELETE FROM alert_event WHERE alert_id IN (SELECT id FROM alert WHERE rule LIKE 'register_%%')")
    db.execute("DELETE FROM alert WHERE rule LIKE 'register_%%'")
    db.execute("DELETE FROM alert_rule_state WHERE rule LIKE 'register_%%'")
    db.execute("DELETE FROM users WHERE name IN ('reg.an', 'reg.binh')")
    db.execute("INSERT INTO users (name, role, password_hash) VALUES ('reg.an', 'operator', 'x'), "
               "('reg.binh', 'viewer', 'x')")
    store = RegisterStore(test_settings.dsn)
    yield store
    store.close()


def test_every_change_is_a_version_with_who_and_why(register, db):
    t0 = datetime(2026, 1, 5, 3, 0, tzinfo=timezone.utc)
    first = register.save(parse_entry("lgsp", {"level": "3", "monitoring_org": "SOC tỉnh"}), actor="admin.a",
                          reason="hồ sơ cấp độ", at=t0)
    same = register.save(parse_entry("lgsp", {"level": "3", "monitoring_org": "SOC tỉnh"}), actor="admin.a", at=t0)
    second = register.save(parse_entry("lgsp", {"level": "4", "monitoring_org": "SOC tỉnh"}), actor="admin.b",
                           reason="nâng cấp độ", at=t0 + timedelta(days=30))
    assert first.version and same.version is None and second.changed == ("level",)
    versions = register.history("lgsp")
    assert [(v["level"], v["changed_by"], v["change_reason"]) for v in versions] == \
        [(4, "admin.b", "nâng cấp độ"), (3, "admin.a", "hồ sơ cấp độ")]
    assert versions[1]["valid_to"] == versions[0]["valid_from"] == t0 + timedelta(days=30)
    # the register as it stood on a day
    assert [e.level for e in register.entries(at=t0 + timedelta(days=1))] == [3]
    assert [e.level for e in register.entries()] == [4]
    assert register.entries(at=t0 - timedelta(days=1)) == []
    events = db.execute("SELECT actor, detail->'fields' FROM auth_event WHERE kind = 'register_changed' "
                        "AND subject = 'lgsp' ORDER BY id").fetchall()
    assert events[-2:] == [("admin.a", ["level", "monitoring_org"]), ("admin.b", ["level"])]
    assert register.retire("lgsp", actor="admin.b", reason="ngừng sử dụng")
    assert register.entries() == [] and not register.retire("lgsp", actor="admin.b")
    assert register.history("lgsp")[0]["retired_by"] == "admin.b"


def test_an_import_stores_all_or_nothing(register, db):
    register.save(parse_entry("dvc", {"level": "2"}), actor="admin.a")
    with pytest.raises(SinkError):
        register.import_entries([parse_entry("dvc", {"level": "3"}), Entry("gis", level=9)], actor="admin.a",
                                source="bad.xlsx")
    assert [(e.system, e.level) for e in register.entries()] == [("dvc", 2)]
    saved = register.import_entries([parse_entry("dvc", {"level": "3"}), parse_entry("gis", {"level": "2"})],
                                    actor="admin.a", source="ok.csv")
    assert [s.system for s in saved if s.version] == ["dvc", "gis"]
    detail = db.execute("SELECT detail FROM auth_event WHERE kind = 'register_imported' ORDER BY id DESC").fetchone()[0]
    assert detail["systems"] == ["dvc", "gis"]


def _alerts(db) -> dict[tuple[str, str], str]:
    rows = db.execute("SELECT rule, entity, state FROM alert WHERE rule LIKE 'register_%%' "
                      "AND state IN ('pending', 'firing')").fetchall()
    return {(r, e): s for r, e, s in rows}


def test_obligations_fire_and_clear_as_the_clock_moves(register, test_settings, db):
    store = AlertStore(test_settings.dsn)
    engine = AlertEngine(store, RuleSet([RULES]), derived=[lambda now: register_values(store.fetch, now)])
    now = datetime.now(timezone.utc)
    today = now.astimezone(LOCAL_TZ).date()
    register.save(parse_entry("lgsp", {
        "level": "3", "live": "yes", "cleared_on": (today - timedelta(days=400)).isoformat(),
        "onsite_users": "reg.an, reg.binh", "last_inspection": (today - timedelta(days=355)).isoformat(),
        "next_inspection": (today + timedelta(days=10)).isoformat()}), actor="admin.a")
    register.save(parse_entry("gis", {"environment": "test", "real_data": "yes"}), actor="admin.a")
    register.save(parse_entry("baocao", {"live": "yes"}), actor="admin.a")

    engine.run_once(now)
    assert _alerts(db) == {("register_test_real_data", "gis"): "firing",
                           ("register_live_uncleared", "baocao"): "firing"}

    later = now + timedelta(days=11)  # the next inspection is one day past
    engine.run_once(later)
    assert _alerts(db)[("register_inspection_overdue", "lgsp")] == "firing"
    value = db.execute("SELECT value FROM alert WHERE rule = 'register_inspection_overdue'").fetchone()[0]
    assert value == 1

    db.execute("UPDATE users SET disabled = true WHERE name = 'reg.binh'")
    engine.run_once(later + timedelta(minutes=1))
    assert _alerts(db)[("register_onsite_gone", "lgsp")] == "firing"
    summary = db.execute("SELECT summary_vi FROM alert WHERE rule = 'register_onsite_gone'").fetchone()[0]
    assert "1 người trực tại chỗ" in summary

    # the register corrected: the inspection done and the next one dated, the person replaced, data replaced
    register.save(parse_entry("lgsp", {"last_inspection": later.astimezone(LOCAL_TZ).date().isoformat(),
                                       "next_inspection": (today + timedelta(days=400)).isoformat(),
                                       "onsite_users": "reg.an"}, base={e.system: e for e in register.entries()}["lgsp"]),
                  actor="admin.a")
    register.save(parse_entry("gis", {"environment": "test", "real_data": "no"}), actor="admin.a")
    engine.run_once(later + timedelta(minutes=2))
    assert _alerts(db) == {("register_live_uncleared", "baocao"): "firing"}
    resolved = {r for (r,) in db.execute("SELECT rule FROM alert WHERE rule LIKE 'register_%%' "
                                          "AND state = 'resolved'").fetchall()}
    assert resolved == {"register_inspection_overdue", "register_onsite_gone", "register_test_real_data"}
