from datetime import datetime, timedelta, timezone

from agents.supervision import AgentWatch

T0 = datetime(2026, 12, 2, 4, 0, tzinfo=timezone.utc)


def test_a_crash_makes_the_worker_degraded_for_a_while():
    now = [T0]
    watch = AgentWatch(["health", "camera"], degraded_for=timedelta(minutes=15), clock=lambda: now[0])
    watch.started("health")
    watch.started("camera")
    assert watch.info()["status"] == "ok" and watch.degraded() == []
    watch.crashed("health", ValueError("bad input"))
    watch.started("health")  # Faust restarted it
    info = watch.info()
    assert info["status"] == "degraded" and info["degraded"] == ["health"]
    assert info["agents"]["health"] == {"starts": 2, "crashes": 1, "last_crash": T0.isoformat(),
                                        "last_error": "ValueError: bad input"}
    assert info["agents"]["camera"]["crashes"] == 0
    now[0] = T0 + timedelta(minutes=15)
    assert watch.status() == "degraded"
    now[0] = T0 + timedelta(minutes=15, seconds=1)
    assert watch.status() == "ok" and watch.info()["agents"]["health"]["crashes"] == 1
