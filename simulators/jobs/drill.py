"""``ioc drill``: one scenario, or several at once over one background feed, with its run record.

A run is registered (``drill_run``) before its first event, so its alerts carry its name and go to
the drill receivers; it is closed as done, stopped or failed with the verdicts of its promises.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Any

from simulators.base import Runner
from simulators.catalog import FAMILIES, build_simulators
from simulators.drills import REFERENCE_RATE, DrillConductor, DrillEngine, load_all, load_scenario
from simulators.drills.shared import ForcePublisher, forces_file
from streams.core.families import named_families
from simulators.jobs.common import login_name, open_sender, progress_line
from streams.core.errors import ConfigError, IOCError
from streams.core.geography import load_province
from streams.core.settings import Settings

BATCH_ABOVE = 200.0  # events/s above which a drill's feed goes as JSON arrays, as in ioc simulate


def list_drills() -> int:
    for sc in load_all():
        print(f"{sc.name}  ({sc.duration_s / 60:g} min)\n  vi: {sc.title.vi}. {sc.description.vi}\n"
              f"  en: {sc.title.en}. {sc.description.en}")
        for sig in sc.signals:
            print(f"    promises: {sig.says.en} / {sig.says.vi}")
    return 0


def drill_steps(sc: Any, speed: float, scale: float) -> list[dict[str, Any]]:
    """The timeline of a run in real seconds: at, for, what, note (printed, and kept with the run)."""
    out = []
    for step in sc.steps:
        what = (f"force {step.force.family} {step.force.target} {step.force.condition}" if step.force else
                f"inject {step.inject.rate * scale:g} {step.inject.family} {step.inject.template['type']}/s")
        out.append({"at": step.at / speed, "for": step.for_ / speed, "what": what, "note": step.note or ""})
    return out


class DrillRecord:
    """The run in ``drill_run``, registered on creation and closed by ``close``."""

    def __init__(self, settings: Settings, sc: Any, engine: Any, steps: list[dict[str, Any]], sender: Any) -> None:
        from agents.alerting.drillstore import DrillStore

        self.store = DrillStore(settings.dsn)
        try:
            self.id = self.store.register(
                scenario=sc.name, run=engine.run, title_vi=sc.title.vi, title_en=sc.title.en,
                started_at=engine.start, ends_at=engine.start + timedelta(seconds=engine.duration_s),
                started_by=settings.drill_by or login_name(), speed=settings.drill_speed,
                expected=[a.model_dump() for a in sc.alerts], targets=sc.targets, steps=steps)
        except IOCError as exc:
            sender.close()
            raise ConfigError(f"cannot register the drill run ({exc}); without it the drill's alerts would "
                              "page the real on-call, so the drill does not start") from None
        print(f"drill {sc.name}: run #{self.id} registered; alerts for {', '.join(sc.targets)} are the drill's "
              f"and go to the drill receivers", flush=True)

    def close(self, status: str, results: list[Any]) -> None:
        verdicts = [{"says_vi": r.signal.says.vi, "says_en": r.signal.says.en, "ok": r.ok, "observed": r.observed}
                    for r in results]
        try:
            self.store.finish(self.id, status, datetime.now(timezone.utc), signals=verdicts)
        except IOCError as exc:  # the run then ends by itself at its planned end
            print(f"drill: run #{self.id} not closed: {exc}", flush=True)
            return
        print(f"drill: run #{self.id} closed ({status}); score on /console/drills/run?id={self.id}", flush=True)


def run_drill(settings: Settings, names: list[str], *, out: str | None = None) -> int:
    """Plays the scenarios ``names`` (each keeps its own timeline, ids, run record and promises)."""
    speed, rate, seed = settings.drill_speed, settings.sim_rate, settings.sim_seed
    if not names:
        raise ConfigError("name a drill (ioc drill --list shows them)")
    if len(set(names)) != len(names):
        raise ConfigError(f"a scenario is named twice: {' '.join(names)}")
    scenarios = [load_scenario(name) for name in names]
    province = load_province(settings.province_file)
    background = set(named_families(settings.sim_families) or FAMILIES)
    forced = {s.force.family for sc in scenarios for s in sc.steps if s.force}
    sims = build_simulators(province, random.Random(seed), families=sorted((background | forced) & set(FAMILIES)))
    scale = max(1.0, rate / REFERENCE_RATE)
    start = datetime.now(timezone.utc)
    # to Kafka, the forces that set an entity's state hold for the feed's other simulators too (ioc simulate)
    publisher = None if out else ForcePublisher(forces_file(settings.run_dir, settings.topic_prefix))
    conductors, feeds = [], list(sims)
    for sc in scenarios:  # each conductor wraps the feeds of the one before
        engine = DrillEngine(sc, start=start, seed=seed, speed=speed, scale=scale)
        conductors.append(DrillConductor(engine, feeds, publisher))
        conductors[-1].check_hooks()
        feeds = conductors[-1].feeds
    duration = max(c.engine.duration_s for c in conductors)
    label = "+".join(sc.name for sc in scenarios)
    sender = open_sender(settings, out, "drill")

    def progress(stats: Any) -> None:
        done = min(1.0, stats.seconds / duration)
        print(progress_line(f"drill {label}", stats.messages, stats.events, stats.seconds, done), flush=True)

    peak = rate + sum(sc.peak_rate() for sc in scenarios) * scale * speed
    runner = Runner(feeds, sender, rate=rate, on_progress=progress,
                    batch_above=BATCH_ABOVE if peak <= BATCH_ABOVE else 0.0)
    records = []
    for sc, conductor in zip(scenarios, conductors):
        engine = conductor.engine
        print(f"drill {sc.name}: {sc.title.en} / {sc.title.vi}; {engine.duration_s:.0f} s at speed {speed:g}, "
              f"background {rate:g} events/s, event ids drill-{sc.name}-{engine.run}-…", flush=True)
        steps = drill_steps(sc, speed, scale)
        for step in steps:
            print(f"  +{step['at']:.0f} s for {step['for']:.0f} s: {step['what']}"
                  + (f" ({step['note']})" if step["note"] else ""), flush=True)
        if not out:
            records.append(DrillRecord(settings, sc, engine, steps, sender))
    interrupted, status = False, "failed"
    try:
        runner.run(duration)
        status = "done"
    except KeyboardInterrupt:
        interrupted, status = True, "stopped"
    finally:
        for conductor in reversed(conductors):
            conductor.stop()
        sender.close()
        for record, conductor in zip(records, conductors):  # closed on every way out: the banner ends too
            record.close(status, conductor.results())
    if interrupted:
        print(f"drill {label}: stopped early; forced conditions released", flush=True)
        return 130
    ok = True
    for sc, conductor in zip(scenarios, conductors):
        results = conductor.results()
        ok = ok and all(r.ok for r in results)
        for r in results:
            print(f"  {sc.name}: {r.line('en')}", flush=True)
    if speed > 1 and not ok:
        print("  (at --speed above 1 the simulators' own events, such as probes every 10 s, keep real time, "
              "so promises that count them see fewer)", flush=True)
    print(f"drill {label}: done, {runner.stats.events} events, {sender.errors} send errors", flush=True)
    return 0 if ok and not sender.errors else 1
