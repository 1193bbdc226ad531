"""The wall's worker panel: running, degraded (an agent crashed lately), stopped; no database."""
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from ioc_dash.pages.sources import workers_table
from ioc_dash.repository import Snapshot
from tests.ioc_dash.wall_support import text

NOW = datetime(2026, 12, 2, 4, 0, tzinfo=timezone.utc)
CTX = SimpleNamespace(stale_after=timedelta(seconds=60))


def heartbeat(name, seen_ago_s, info=None):
    return {"worker": name, "started_at": NOW - timedelta(hours=1), "last_seen": NOW - timedelta(seconds=seen_ago_s),
            "info": info or {}}


def test_a_worker_whose_agent_crashed_reads_degraded_not_running():
    snap = Snapshot(taken_at=NOW, workers=[
        heartbeat("w-ok", 5, {"status": "ok", "degraded": []}),
        heartbeat("w-crashed", 5, {"status": "degraded", "degraded": ["health"],
                                   "agents": {"health": {"crashes": 3}}}),
        heartbeat("w-old", 5),  # a worker of the previous release: no status in its heartbeat
        heartbeat("w-gone", 600, {"status": "degraded", "degraded": ["camera"]}),
    ])
    rows = workers_table(snap, CTX, "vi", limit=10).children[0].children[1].children  # the table, every worker
    cells = {text(r.children[0].children): text(r.children[1].children) for r in rows}
    assert "Đang chạy" in cells["\"w-ok\""] and "Đang chạy" in cells["\"w-old\""]
    assert "Suy giảm" in cells["\"w-crashed\""] and "health" in cells["\"w-crashed\""]
    assert "badge-degraded" in cells["\"w-crashed\""]
    assert "Đã dừng" in cells["\"w-gone\""] and "camera" not in cells["\"w-gone\""]
    en = text(workers_table(snap, CTX, "en", limit=10))
    assert "Degraded" in en and "health: agent crashed and was restarted" in en
