"""The feed tools of the ``ioc`` command: ``simulate``, ``record``, ``replay`` and ``drill``.

The logic is in ``simulators/`` (``base.py``, ``recording.py``, ``timeshift.py``, ``drills/``); what
is here reads options, opens Kafka or a file, and prints progress (a line every few seconds).
"""
from __future__ import annotations

import argparse
import heapq
import logging
import os
import random
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from typing import Any

from streams.core.errors import BrokerError, ConfigError, IOCError
from streams.core.settings import Settings
from streams.core.topics import FEEDS, topic_name
from streams.cli.common import command, option, settings_from, setup_logging

PROGRESS_EVERY_S = 5.0
BATCH_ABOVE = 200.0  # events/s above which a drill's feed goes as JSON arrays, as in ioc simulate


def _env_arg(p: argparse.ArgumentParser, flag: str, env: str, default: Any, help_: str, **kw: Any) -> None:
    kind = kw.pop("type", str)
    value = os.environ.get(env)
    p.add_argument(flag, type=kind, default=kind(value) if value is not None else default,
                   help=f"{help_} [env {env}, default {default}]", **kw)


def _user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def _setup(args: argparse.Namespace) -> Settings:
    """Settings and logging of a feed command; kafka-python's connection chatter only as warnings."""
    settings = settings_from(args)
    setup_logging(settings)
    logging.getLogger("kafka").setLevel(max(logging.WARNING, logging.getLogger().level))
    return settings


def _families(text: str | None) -> list[str] | None:
    if not text:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in FEEDS]
    if unknown:
        raise ConfigError(f"unknown feed families {unknown}; known: {', '.join(FEEDS)}")
    return names


def progress_line(verb: str, messages: int, events: int, seconds: float, done: float | None) -> str:
    rate = events / seconds if seconds else 0.0
    line = f"{verb}: {messages} messages, {events} events, {rate:.0f} events/s"
    if done:
        eta = seconds * (1 - done) / done
        line += f", {done:.0%} done, ETA {int(eta) // 60}:{int(eta) % 60:02d}"
    return line


def open_sender(settings: Settings, out: str | None, source: str, metrics: Any = None) -> Any:
    """A ``send(family, key, value)`` with ``close()`` and ``errors``: to a recording file or Kafka."""
    if out:
        from streams.core.geography import load_province
        from simulators.recording import RecordingWriter

        try:
            return RecordingWriter(out, province=load_province(settings.province_file).code, source=source)
        except OSError as exc:
            raise ConfigError(f"cannot write {out}: {exc.strerror}") from None
    from simulators.kafka import KafkaSender

    return KafkaSender(settings, metrics)


# --- simulate ---------------------------------------------------------------------------------


def cmd_simulate(args: argparse.Namespace) -> int:
    from prometheus_client import CollectorRegistry

    from simulators.base import Runner
    from simulators.catalog import build_simulators
    from streams.core.geography import load_province
    from streams.core.metrics import SimulatorMetrics, serve

    settings = settings_from(args)
    setup_logging(settings)
    province = load_province(settings.province_file)
    rng = random.Random(settings.sim_seed)
    sims = build_simulators(province, rng, families=settings.sim_families.split(",") if settings.sim_families else None)
    if not args.out:  # a drill playing on the same topics overrides the entities it forces
        from simulators.drills.shared import ForceFollower, Following, forces_file

        follower = ForceFollower(forces_file(settings.run_dir, settings.topic_prefix), sims)
        sims = [Following(s, follower) for s in sims]
    registry = CollectorRegistry()
    metrics = SimulatorMetrics(registry)
    if settings.sim_metrics_port:
        serve(registry, settings.sim_metrics_port, settings.metrics_host)
    sender = open_sender(settings, args.out, "simulate", metrics)

    def progress(stats) -> None:
        print(f"simulate: {stats.events} events in {stats.messages} messages, {stats.rate:.0f} events/s", flush=True)

    runner = Runner(sims, sender, rate=settings.sim_rate, batch_above=settings.sim_batch_above, on_progress=progress)
    try:
        stats = runner.run(args.duration, max_events=args.count)
    except KeyboardInterrupt:
        stats = runner.stats
    finally:
        sender.close()
    for sim in sims:
        metrics.events_sent.labels(sim.family)
    print(f"simulate: done, {stats.events} events, {stats.messages} messages, {stats.rate:.0f} events/s, "
          f"{sender.errors} send errors")
    return 1 if sender.errors else 0


# --- record -----------------------------------------------------------------------------------


class _Tap:
    """The feed topics' partitions, assigned (no consumer group, nothing committed) and positioned."""

    def __init__(self, settings: Settings, families: list[str], from_beginning: bool) -> None:
        from kafka import KafkaConsumer, TopicPartition
        from kafka.errors import KafkaError

        from streams.kafka.security import kafka_python_config

        try:
            self.consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers, group_id=None,
                                          enable_auto_commit=False, client_id="ioc-recorder",
                                          **kafka_python_config(settings))
            self.family_of, tps = {}, []
            for fam in families:
                topic = topic_name(settings, fam)
                parts = self.consumer.partitions_for_topic(topic)
                if not parts:
                    raise BrokerError("topic does not exist (ioc topics create makes it)", topic=topic)
                self.family_of[topic] = fam
                tps += [TopicPartition(topic, p) for p in sorted(parts)]
            self.consumer.assign(tps)
            (self.consumer.seek_to_beginning if from_beginning else self.consumer.seek_to_end)(*tps)
            for tp in tps:
                self.consumer.position(tp)  # resolve the start now: what is produced from here on is recorded
        except KafkaError as exc:
            raise BrokerError(f"cannot read from Kafka at {settings.kafka_bootstrap}: {exc}") from exc

    def __iter__(self) -> Iterator[tuple[datetime, str, Any]]:
        """(arrival, family, record), or a heartbeat (now, "", None) when nothing came for 0.5 s."""
        while True:
            batch = self.consumer.poll(timeout_ms=500, max_records=5000)
            if not batch:
                yield datetime.now(timezone.utc), "", None
                continue
            # merged by timestamp, each partition kept in its own order
            for rec in heapq.merge(*batch.values(), key=lambda r: r.timestamp):
                at = (datetime.fromtimestamp(rec.timestamp / 1000, timezone.utc) if rec.timestamp and rec.timestamp > 0
                      else datetime.now(timezone.utc))
                yield at, self.family_of[rec.topic], rec

    def close(self) -> None:
        self.consumer.close()


def cmd_record(args: argparse.Namespace) -> int:
    from simulators.recording import count_events

    settings = _setup(args)
    families = _families(args.families) or list(FEEDS)
    tap = _Tap(settings, families, args.from_beginning)
    try:
        writer = open_sender(settings, args.out, "record")
    except ConfigError:
        tap.close()
        raise
    start = last = time.monotonic()
    events = 0
    print(f"record: {', '.join(families)} -> {args.out} (Ctrl-C stops)", flush=True)

    def done() -> float | None:
        parts = [(time.monotonic() - start) / args.duration if args.duration else 0.0,
                 writer.messages / args.count if args.count else 0.0]
        return min(1.0, max(parts)) if args.duration or args.count else None

    try:
        for at, family, rec in tap:
            if rec is not None:
                key = rec.key.decode("utf-8", "replace") if rec.key is not None else None
                writer.write(at, family, key, rec.value or b"")
                events += count_events(rec.value or b"")
            if (args.count and writer.messages >= args.count) or (
                    args.duration and time.monotonic() - start >= args.duration):
                break
            if time.monotonic() - last >= PROGRESS_EVERY_S:
                last = time.monotonic()
                print(progress_line("record", writer.messages, events, last - start, done()), flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        tap.close()
        writer.close()
    print(f"record: done, {writer.messages} messages, {events} events in {time.monotonic() - start:.1f} s "
          f"-> {args.out}", flush=True)
    return 0


# --- replay -----------------------------------------------------------------------------------


def _warm(sender: Any, settings: Settings, families: Iterable[str]) -> None:
    """Fetches the topics' metadata before the first send, so the first message is not late."""
    from kafka.errors import KafkaError

    for family in families:
        topic = topic_name(settings, family)
        try:
            sender.producer.partitions_for(topic)
        except KafkaError as exc:
            sender.close()
            raise BrokerError(f"no metadata for the topic ({exc}); ioc topics create makes it", topic=topic) from exc


def cmd_replay(args: argparse.Namespace) -> int:
    from simulators.recording import Recording, parse_speed, replay
    from simulators.timeshift import TimeShifter, first_event_time

    settings = _setup(args)
    try:
        speed = parse_speed(args.speed)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    families = _families(args.families)
    rec = Recording(args.file, skip_bad=args.skip_bad, families=frozenset(families) if families else None)
    per_family = rec.scan()  # every line checked before anything is sent
    total = sum(per_family.values())
    transform: Callable[[Any], bytes] | None = None
    if args.shift_to_now:
        first = next((t for m in rec if (t := first_event_time(m.family, m.value)) is not None), None)
        if first is None:
            raise ConfigError(f"{args.file}: no event with a timestamp to shift from")
        shifter = TimeShifter(datetime.now(timezone.utc) - first)
        transform = lambda m: shifter.shift(m.family, m.value)  # noqa: E731
        print(f"replay: timestamps shifted by {shifter.delta}", flush=True)
    sender = open_sender(settings, None, "replay")
    _warm(sender, settings, per_family)
    counts = ", ".join(f"{n} {f}" for f, n in per_family.most_common())
    print(f"replay: {total} messages ({counts}) from {args.file} at speed {args.speed}", flush=True)

    def progress(stats: Any) -> None:
        print(progress_line("replay", stats.messages, stats.events, stats.seconds, stats.done), flush=True)

    try:
        stats = replay(rec, sender, speed=speed, transform=transform, on_progress=progress,
                       progress_every_s=PROGRESS_EVERY_S, total=total)
    finally:
        sender.close()
    skipped = f", {rec.skipped} bad lines skipped" if rec.skipped else ""
    print(f"replay: done, {stats.messages} messages, {stats.events} events in {stats.seconds:.1f} s, "
          f"{stats.rate:.0f} events/s{skipped}, {sender.errors} send errors", flush=True)
    return 1 if sender.errors else 0


# --- drill ------------------------------------------------------------------------------------


def _list_drills() -> int:
    from simulators.drills import load_all

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


class _DrillRecord:
    """The run in ``drill_run``: registered before the first event, so its alerts carry its name
    and go to the drill receivers; closed as done, stopped or failed with the signals' verdicts."""

    def __init__(self, settings: Settings, sc: Any, engine: Any, args: argparse.Namespace,
                 steps: list[dict[str, Any]], sender: Any) -> None:
        from datetime import timedelta

        from agents.alerting.drillstore import DrillStore

        self.store = DrillStore(settings.dsn)
        try:
            self.id = self.store.register(
                scenario=sc.name, run=engine.run, title_vi=sc.title.vi, title_en=sc.title.en,
                started_at=engine.start, ends_at=engine.start + timedelta(seconds=engine.duration_s),
                started_by=args.by, speed=args.speed, expected=[a.model_dump() for a in sc.alerts],
                targets=sc.targets, steps=steps)
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


def cmd_drill(args: argparse.Namespace) -> int:
    """Plays one scenario, or several at once over one background (a combined exercise: each
    scenario keeps its own timeline, ids, run record and promises)."""
    from simulators.base import Runner
    from simulators.catalog import FAMILIES, build_simulators
    from simulators.drills import REFERENCE_RATE, DrillConductor, DrillEngine, load_scenario
    from simulators.drills.shared import ForcePublisher, forces_file
    from streams.core.geography import load_province

    if args.list:
        return _list_drills()
    if not args.name:
        raise ConfigError("name a drill (ioc drill --list shows them)")
    if args.speed <= 0:
        raise ConfigError(f"--speed must be positive, got {args.speed}")
    settings = _setup(args)
    rate, seed = settings.sim_rate, settings.sim_seed
    if rate <= 0:
        raise ConfigError(f"--rate must be positive (background events/s), got {rate:g}")
    if len(set(args.name)) != len(args.name):
        raise ConfigError(f"a scenario is named twice: {' '.join(args.name)}")
    scenarios = [load_scenario(name) for name in args.name]
    province = load_province(settings.province_file)
    background = set(_families(settings.sim_families) or FAMILIES)
    forced = {s.force.family for sc in scenarios for s in sc.steps if s.force}
    sims = build_simulators(province, random.Random(seed), families=sorted((background | forced) & set(FAMILIES)))
    scale = max(1.0, rate / REFERENCE_RATE)
    start = datetime.now(timezone.utc)
    # to Kafka, the forces that set an entity's state hold for the feed's other simulators too (ioc simulate)
    publisher = None if args.out else ForcePublisher(forces_file(settings.run_dir, settings.topic_prefix))
    conductors, feeds = [], list(sims)
    for sc in scenarios:  # each conductor wraps the feeds of the one before
        engine = DrillEngine(sc, start=start, seed=seed, speed=args.speed, scale=scale)
        conductors.append(DrillConductor(engine, feeds, publisher))
        conductors[-1].check_hooks()
        feeds = conductors[-1].feeds
    duration = max(c.engine.duration_s for c in conductors)
    label = "+".join(sc.name for sc in scenarios)
    sender = open_sender(settings, args.out, "drill")

    def progress(stats: Any) -> None:
        done = min(1.0, stats.seconds / duration)
        print(progress_line(f"drill {label}", stats.messages, stats.events, stats.seconds, done), flush=True)

    peak = rate + sum(sc.peak_rate() for sc in scenarios) * scale * args.speed
    runner = Runner(feeds, sender, rate=rate, on_progress=progress,
                    batch_above=BATCH_ABOVE if peak <= BATCH_ABOVE else 0.0)
    records = []
    for sc, conductor in zip(scenarios, conductors):
        engine = conductor.engine
        print(f"drill {sc.name}: {sc.title.en} / {sc.title.vi}; {engine.duration_s:.0f} s at speed {args.speed:g}, "
              f"background {rate:g} events/s, event ids drill-{sc.name}-{engine.run}-…", flush=True)
        steps = drill_steps(sc, args.speed, scale)
        for step in steps:
            print(f"  +{step['at']:.0f} s for {step['for']:.0f} s: {step['what']}"
                  + (f" ({step['note']})" if step["note"] else ""), flush=True)
        if not args.out:
            records.append(_DrillRecord(settings, sc, engine, args, steps, sender))
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
    if args.speed > 1 and not ok:
        print("  (at --speed above 1 the simulators' own events, such as probes every 10 s, keep real time, "
              "so promises that count them see fewer)", flush=True)
    print(f"drill {label}: done, {runner.stats.events} events, {sender.errors} send errors", flush=True)
    return 0 if ok and not sender.errors else 1


# --- registration -----------------------------------------------------------------------------


def register(sub: argparse._SubParsersAction) -> None:
    def add(name: str, fn: Callable[[argparse.Namespace], int], help_: str, **kw: bool) -> argparse.ArgumentParser:
        return command(sub, name, fn, help_, **kw)

    s = add("simulate", cmd_simulate, "produce simulated feeds to Kafka", kafka=True)
    option(s, "--rate", "sim_rate", "events per second, 1 to 50000", type=float, metavar="RATE")
    option(s, "--seed", "sim_seed", "random seed: the same seed gives the same feed", type=int, metavar="SEED")
    s.add_argument("--duration", type=float, default=None, help="stop after this many seconds (default: run until Ctrl-C)")
    s.add_argument("--count", type=int, default=None, help="stop after this many events")
    option(s, "--families", "sim_families", "comma-separated feed families (default: all)", metavar="FAMILIES")
    option(s, "--batch-above", "sim_batch_above", "above this rate events go as JSON arrays", type=float,
           metavar="BATCH_ABOVE")
    option(s, "--metrics-port", "sim_metrics_port", "Prometheus /metrics port, 0 = off", type=int,
           metavar="METRICS_PORT")
    option(s, "--province-file", "province_file", "province description")
    s.add_argument("--out", default=None, help="write a recording file (.gz to compress) instead of producing to Kafka")

    fams = ", ".join(FEEDS)
    r = add("record", cmd_record, "record the feed topics to a JSON-lines file (.gz to compress)", kafka=True)
    r.add_argument("--out", required=True, help="file to write; gzip when it ends in .gz")
    _env_arg(r, "--families", "IOC_RECORD_FAMILIES", None, f"comma-separated families ({fams}); all when unset")
    r.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    r.add_argument("--count", type=int, default=None, help="stop after this many messages")
    r.add_argument("--from-beginning", action="store_true", help="start at the oldest kept message, not the newest")

    p = add("replay", cmd_replay, "replay a recording to Kafka with its original spacing scaled", kafka=True)
    p.add_argument("file", help="a recording (ioc record or ioc simulate --out)")
    _env_arg(p, "--speed", "IOC_REPLAY_SPEED", "1", "spacing divided by this factor, or 'max' for no waiting")
    p.add_argument("--shift-to-now", action="store_true",
                   help="move every timestamp by (now - the first event's time), keeping their order")
    _env_arg(p, "--families", "IOC_REPLAY_FAMILIES", None, "replay only these comma-separated families")
    p.add_argument("--skip-bad", action="store_true", help="skip and count bad lines instead of stopping")

    d = add("drill", cmd_drill, "play a drill scenario over the background feed", kafka=True, db=True)
    d.add_argument("name", nargs="*", help="scenario name (see --list); several play at once over one background")
    d.add_argument("--list", action="store_true", help="list the scenarios, in Vietnamese and English")
    _env_arg(d, "--speed", "IOC_DRILL_SPEED", 1.0, "play the timeline this many times faster", type=float)
    option(d, "--rate", "sim_rate", "background events/s (drill rates scale up above 200)", type=float, metavar="RATE")
    option(d, "--seed", "sim_seed", "random seed", type=int, metavar="SEED")
    option(d, "--families", "sim_families", "background families (default: all)", metavar="FAMILIES")
    d.add_argument("--out", default=None, help="write to this recording file instead of Kafka (no run is recorded)")
    d.add_argument("--by", default=os.environ.get("IOC_DRILL_BY") or _user(),
                   help="who runs the drill, recorded with the run [env IOC_DRILL_BY, default: the login name]")
    option(d, "--province-file", "province_file", "province description")
