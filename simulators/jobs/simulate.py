"""``ioc simulate``: every family's simulator, to Kafka or to a recording file."""
from __future__ import annotations

import random

from prometheus_client import CollectorRegistry

from simulators.base import Runner
from simulators.catalog import build_simulators
from streams.core.families import named_families
from simulators.jobs.common import open_sender
from streams.core.geography import load_province
from streams.core.metrics import SimulatorMetrics, serve
from streams.core.settings import Settings


def run_simulate(settings: Settings, *, out: str | None = None, duration: float | None = None,
                 count: int | None = None) -> int:
    province = load_province(settings.province_file)
    sims = build_simulators(province, random.Random(settings.sim_seed), families=named_families(settings.sim_families))
    if not out:  # a drill playing on the same topics overrides the entities it forces
        from simulators.drills.shared import ForceFollower, Following, forces_file

        follower = ForceFollower(forces_file(settings.run_dir, settings.topic_prefix), sims)
        sims = [Following(s, follower) for s in sims]
    registry = CollectorRegistry()
    metrics = SimulatorMetrics(registry)
    if settings.sim_metrics_port:
        serve(registry, settings.sim_metrics_port, settings.metrics_host)
    sender = open_sender(settings, out, "simulate", metrics)

    def progress(stats) -> None:
        print(f"simulate: {stats.events} events in {stats.messages} messages, {stats.rate:.0f} events/s", flush=True)

    runner = Runner(sims, sender, rate=settings.sim_rate, batch_above=settings.sim_batch_above, on_progress=progress)
    try:
        stats = runner.run(duration, max_events=count)
    except KeyboardInterrupt:
        stats = runner.stats
    finally:
        sender.close()
    for sim in sims:
        metrics.events_sent.labels(sim.family)
    print(f"simulate: done, {stats.events} events, {stats.messages} messages, {stats.rate:.0f} events/s, "
          f"{sender.errors} send errors")
    return 1 if sender.errors else 0
