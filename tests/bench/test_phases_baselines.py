"""The baselines phase puts the same-guarantees consumer's figures beside the worker's (services faked)."""
from types import SimpleNamespace

from bench import phases
from bench.baseline_consumer import Drained
from bench.copy_baseline import CopyResult
from bench.kafka_io import Consumed
from streams.core.settings import Settings


async def test_baselines_record_the_same_guarantees_consumer(monkeypatch):
    calls = []

    async def drain(bootstrap, dsn, group, families, start, end):
        calls.append((group, sorted(families.values()), start, end))
        return Drained(events=8000, fresh=8000, messages=400, batches=4, seconds=2.0, cpu_seconds=0.5)

    async def bare_consume(bootstrap, start, end):
        return Consumed(400, 4_000_000, 0.1)

    monkeypatch.setattr(phases.baseline_consumer, "drain", drain)
    monkeypatch.setattr(phases, "bare_consume", bare_consume)
    monkeypatch.setattr(phases, "rows_of", lambda templates, n, prefix: {})
    monkeypatch.setattr(phases, "bare_copy", lambda dsn, rows: CopyResult(1000, 0.01, {}))
    bench = object.__new__(phases.Bench)
    base = Settings()
    bench.env = SimpleNamespace(base=base, dsn="postgresql://nowhere/db",
                                settings=lambda phase: base.model_copy(update={"app_id": f"app-{phase}",
                                                                               "topic_prefix": f"p.{phase}."}))
    bench.plan, bench.templates, bench.ids = phases.QUICK, {"batched": []}, SimpleNamespace(prefix="x-")
    bench.log, bench.backlogs = lambda line: None, {m: ({"s": 0}, {"s": 10}, 8000, 400) for m in phases.MODES}
    bench.results = {"throughput": {m: {"drain": {"rate_events_per_s": 4000, "cpu_cores": {f"{m}-worker": 0.8}}}
                                    for m in phases.MODES}}
    await bench.baselines()
    g = bench.results["baselines"]["same_guarantees"]
    assert set(g) == set(phases.MODES)
    assert (g["single"]["events_per_cpu_s"], g["single"]["worker_events_per_cpu_s"]) == (16000, 5000)
    assert g["single"]["worker_ratio"] == 0.3125 and g["batched"]["events_per_s"] == 4000
    assert [c[0] for c in calls] == ["app-single-baseline", "app-batched-baseline"]
    assert "health" in calls[0][1] and calls[0][2:] == ({"s": 0}, {"s": 10})
