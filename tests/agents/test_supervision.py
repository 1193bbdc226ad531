import asyncio
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from agents.worker.supervision import AgentWatch

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


async def test_a_crashing_ingest_agent_of_the_worker_is_counted_and_reraised():
    import pytest
    from prometheus_client import CollectorRegistry

    from agents.worker.workers import Worker
    from streams.core.settings import Settings

    registry = CollectorRegistry()
    worker = Worker(Settings(metrics_port=0, topic_prefix="unit-supervision."), registry=registry)

    class CrashingStream:  # an agent's stream of runs whose iteration fails
        channel = SimpleNamespace(queue=asyncio.Queue())

        def __aiter__(self):
            return self

        async def __anext__(self):
            raise RuntimeError("client failure outside a batch")

    agent = next(a for a in worker.app.agents.values() if a.name == "ioc.ingest.health")
    with pytest.raises(RuntimeError):  # Faust's supervisor restarts it
        await agent.fun(CrashingStream())
    info = worker.watch.info()
    assert info["status"] == "degraded" and info["degraded"] == ["health"]
    assert info["agents"]["health"]["last_error"] == "RuntimeError: client failure outside a batch"
    assert registry.get_sample_value("ioc_agent_crashes_total", {"agent": "health"}) == 1
    assert registry.get_sample_value("ioc_agent_crashes_total", {"agent": "camera"}) == 0
    assert registry.get_sample_value("ioc_worker_degraded") == 1
