"""The benchmark run: throughput, baselines, latency, scale-out, wall load, memory.

Order (each phase has its own topics and consumer group, all share one fresh database):

1. per mode (``single``: one event per message; ``batched``: high-volume feeds as arrays of up
   to 200 events of one key): a pilot backlog sizes the real one; the real backlog is
   pre-produced, then one worker starts and drains it (the drain capacity).  With the worker
   still running, paced trials at 90 % and 50 % of that capacity (the latency points), then
   bisection, find the highest rate whose lag stays bounded.  In ``batched`` mode a soak at
   half that rate follows (memory), and the wall load runs after it with the feed still on.
2. baselines: a bare aiokafka consumer over each mode's backlog; a minimal consumer with the same
   guarantees (``bench/baseline_consumer.py``) over the same backlog; a bare COPY of the same rows.
3. scale-out per mode: one worker, then two in one consumer group, each draining its own
   backlog on its own topics.
"""
from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import baseline_consumer, calc, profile, scrape, wall
from bench.copy_baseline import bare_copy, rows_of
from bench.env import BenchEnv, code_version, describe_machine, now_iso, start_stack
from bench.feed import mix, package, simulate_pool
from bench.kafka_io import Ids, LagProbe, Producer, bare_consume, partitions
from bench.procs import CpuMeter, Proc, rss_mib, wait_http
from bench.report import cores_line, per_cpu
from bench.statements import Statements, per_event
from streams.core.geography import load_province
from streams.core.settings import Settings
from streams.core.topics import FEEDS, topic_name
from tests.support import free_port

MODES = ("single", "batched")
SCREENS = 30


@dataclass(frozen=True, slots=True)
class Plan:
    quick: bool
    pilot_s: float  # a pilot backlog this long at the prior rate sizes the real one
    drain_s: float  # the real backlog takes about this long to drain
    paced_s: float  # each paced trial (after a warm-up of a tenth of it, at least 3 s)
    max_trials: int  # paced trials per mode: 90 %, 50 % of the drain capacity, then bisection
    soak_s: float  # the memory soak at half the sustained rate (batched mode)
    wall_one_s: float
    wall_s: float
    scale_drain_s: float
    pool_events: int  # simulated events the templates are made of
    copy_events: int  # rows of the bare COPY baseline
    quiet_wait_s: float = 0  # wait this long at most for other processes to leave the cores alone
    max_backlog: int = 3_000_000
    profile_s: float = 20  # py-spy samples a draining worker this long, per mode


FULL = Plan(False, pilot_s=6, drain_s=60, paced_s=30, max_trials=4, soak_s=600, wall_one_s=15, wall_s=60,
            scale_drain_s=25, pool_events=150_000, copy_events=300_000, quiet_wait_s=180)
QUICK = Plan(True, pilot_s=3, drain_s=15, paced_s=12, max_trials=3, soak_s=60, wall_one_s=6, wall_s=20,
             scale_drain_s=10, pool_events=150_000, copy_events=60_000, quiet_wait_s=60, profile_s=8)
PRIORS = {"single": 3_000.0, "batched": 20_000.0}  # events/s, only to size the pilot backlogs


def _r(x: float | None, nd: int = 1) -> float | None:
    return None if x is None else round(x, nd)


class Bench:
    def __init__(self, plan: Plan, log: Callable[[str], None] = print) -> None:
        self.plan = plan
        self.log = log
        self.env = BenchEnv()
        self.ids = Ids(f"bench{self.env.run_id}-")
        self.workdir = Path(tempfile.mkdtemp(prefix=f"ioc-bench-{self.env.run_id}-"))
        self.procs: list[Proc] = []
        self.results: dict[str, Any] = {}
        self.backlogs: dict[str, tuple[dict, dict, int, int]] = {}
        self.cursor = 0
        self.statements: Statements | None = None

    def say(self, msg: str) -> None:
        self.log(f"bench: {msg}")

    # --- processes -------------------------------------------------------------------------
    def clear_statements(self) -> None:
        """Before the workers of a drain start: ``drain`` then reads what the server ran for them."""
        if self.statements:
            self.statements.reset()

    def start_worker(self, settings: Settings, name: str) -> tuple[Proc, int]:
        port = free_port()
        proc = Proc(name, "bench.worker", settings, self.workdir, IOC_METRICS_PORT=str(port))
        self.procs.append(proc)
        wait_http(f"http://127.0.0.1:{port}/metrics", 60, proc)
        return proc, port

    def stop(self, *procs: Proc) -> None:
        for p in procs:
            p.stop()
            if p in self.procs:
                self.procs.remove(p)

    @staticmethod
    def done(port: int) -> float:
        m = scrape.fetch(port)
        return (m.total("ioc_events_fresh_total") + m.total("ioc_events_duplicate_total")
                + m.total("ioc_dead_letters_total"))

    # --- measurements ----------------------------------------------------------------------
    async def drain(self, workers: list[tuple[Proc, int]], probe: LagProbe, total: int, *,
                    timeout: float) -> dict[str, Any]:
        """Sample the workers' committed events until the backlog is done and the group's lag is 0."""
        meter = CpuMeter({p.name: p.pid for p, _ in workers})
        t0 = time.monotonic()
        samples: list[calc.Sample] = []
        cpu: list[tuple[float, dict[str, float]]] = []
        last = {p.name: 0.0 for p, _ in workers}
        members = 0
        done_at = lag_zero_at = None
        i = 0
        while True:
            now = time.monotonic() - t0
            for p, port in workers:
                if not p.alive():
                    raise RuntimeError(f"{p.name} exited with {p.proc.returncode}:\n{p.log_tail()}")
                try:
                    last[p.name] = self.done(port)
                except OSError:
                    pass
            samples.append((now, sum(last.values())))
            cpu.append((now, meter.read()))
            if len(workers) > 1 and i % 4 == 0:
                try:
                    members = max(members, await probe.members())
                except Exception:
                    pass
            i += 1
            if done_at is None and samples[-1][1] >= total:
                done_at = now
            if done_at is not None:
                if await probe.lag() == 0:
                    lag_zero_at = time.monotonic() - t0
                    break
                if now - done_at > 30:
                    break
            if now > timeout:
                raise RuntimeError(f"backlog of {total} events not drained in {timeout:.0f} s "
                                   f"({samples[-1][1]:.0f} done)")
            await asyncio.sleep(0.5)
        batches = events_in = 0.0
        for _, port in workers:
            try:
                m = scrape.fetch(port)
                batches += m.total("ioc_batch_seconds_count")
                events_in += m.total("ioc_events_in_total")
            except OSError:
                pass
        d = calc.drain_rate(samples, total, skip=0.05)
        if d is None:
            raise RuntimeError("drain not measurable (too few samples)")
        i0 = min(range(len(cpu)), key=lambda i: abs(cpu[i][0] - d.started_at))
        i1 = min(range(len(cpu)), key=lambda i: abs(cpu[i][0] - d.finished_at))
        statements = per_event(self.statements.read(), total) if self.statements else None
        return {
            "postgres_statements": statements,
            "events": total, "rate_events_per_s": round(d.rate), "measured_s": round(d.seconds, 1),
            "measured_events": round(d.events), "first_5pct_after_s": round(d.started_at, 1),
            "lag_zero_after_s": _r(lag_zero_at),
            "cpu_cores": CpuMeter.share_over([c for _, c in cpu[i0:i1 + 1]]),
            "per_worker_share": {k: round(v / max(1.0, sum(last.values())), 3) for k, v in last.items()},
            "group_members_seen": members if len(workers) > 1 else 1,  # members holding partitions
            "events_per_batch": _r(calc.ratio(events_in, batches), 1),
            "rss_mib": {p.name: round(rss_mib(p.pid), 1) for p, _ in workers},
        }

    async def paced(self, mode: str, worker: tuple[Proc, int], probe: LagProbe, topics: dict[str, str],
                    rate: float, seconds: float, *, rss_every_s: float = 1.0,
                    after: Callable[[], Awaitable[dict]] | None = None) -> dict[str, Any]:
        proc, port = worker
        tpl = self.templates[mode]
        per_msg = mix(tpl).total_events / mix(tpl).total_messages
        stop = asyncio.Event()
        producer = asyncio.create_task(self.producer.paced(topics, tpl, rate, stop, self.cursor))
        warmup = max(3.0, seconds / 10)
        await asyncio.sleep(warmup)
        meter = CpuMeter({proc.name: proc.pid})
        m0, c0, t0 = scrape.fetch(port), meter.read(), time.monotonic()
        lag: list[calc.Sample] = []
        rss: list[calc.Sample] = []
        next_rss = 0.0
        while (now := time.monotonic() - t0) < seconds:
            if not proc.alive():
                raise RuntimeError(f"{proc.name} exited:\n{proc.log_tail()}")
            if producer.done():
                producer.result()  # raises what stopped the producer
            lag.append((now, float(await probe.lag())))
            if now >= next_rss:
                rss.append((now, rss_mib(proc.pid)))
                next_rss += rss_every_s
            await asyncio.sleep(1.0)
        m1, c1, t1 = scrape.fetch(port), meter.read(), time.monotonic()
        extra = await after() if after else None
        stop.set()
        sent = await producer
        self.cursor = sent.cursor
        buckets = calc.histogram_delta(m1.buckets("ioc_event_delay_seconds"), m0.buckets("ioc_event_delay_seconds"))
        count = m1.total("ioc_event_delay_seconds_count") - m0.total("ioc_event_delay_seconds_count")
        total_s = m1.total("ioc_event_delay_seconds_sum") - m0.total("ioc_event_delay_seconds_sum")
        batch_b = calc.histogram_delta(m1.buckets("ioc_batch_seconds"), m0.buckets("ioc_batch_seconds"))
        verdict = calc.lag_verdict(lag, rate / per_msg)
        batches = m1.total("ioc_batch_seconds_count") - m0.total("ioc_batch_seconds_count")
        events_in = m1.total("ioc_events_in_total") - m0.total("ioc_events_in_total")
        written = (m1.total("ioc_events_fresh_total") - m0.total("ioc_events_fresh_total")) / (t1 - t0)
        out = {
            "target_events_per_s": round(rate), "sent_events_per_s": round(sent.events_per_s),
            "measured_s": round(seconds), "warmup_s": round(warmup, 1),
            "written_events_per_s": round(written),
            "events_per_batch": _r(calc.ratio(events_in, batches), 1),
            "latency_s": {
                "p50": _r(calc.histogram_quantile(buckets, 0.50), 3),
                "p95": _r(calc.histogram_quantile(buckets, 0.95), 3),
                "p99": _r(calc.histogram_quantile(buckets, 0.99), 3),
                "mean": _r(total_s / count if count else None, 3),
                "events": int(count),
            },
            "batch_s": {"p50": _r(calc.histogram_quantile(batch_b, 0.5), 3),
                        "p95": _r(calc.histogram_quantile(batch_b, 0.95), 3)},
            "lag": {"bounded": verdict.bounded, "max_messages": round(verdict.max_lag),
                    "max_seconds_of_input": round(verdict.max_lag_s, 2), "final_messages": round(verdict.final_lag),
                    "slope_messages_per_s": round(verdict.slope_per_s, 2), "rule": verdict.rule},
            "cpu_cores": CpuMeter.share(c0, c1),
            "rss_mib": {"start": _r(rss[0][1]) if rss else None, "end": _r(rss[-1][1]) if rss else None,
                        "max": _r(max(v for _, v in rss)) if rss else None,
                        "growth_mib_per_hour": _r(calc.growth_per_hour(rss), 1),
                        "samples": [[round(t), round(v, 1)] for t, v in rss[:: max(1, len(rss) // 60)]]},
            "dead_letters": int(m1.total("ioc_dead_letters_total")),
            "sink_errors": int(m1.total("ioc_sink_errors_total")),
        }
        if extra:
            out["during"] = extra
        return out

    # --- phases ----------------------------------------------------------------------------
    def prepare(self) -> None:
        plan = self.plan
        self.say(f"{'quick' if plan.quick else 'full'} run {self.env.run_id}: starting the stack")
        start_stack(self.log)
        self.env.create_database()
        self.say(f"database {self.env.dbname} migrated; work dir {self.workdir}")
        self.statements, unavailable = Statements.open(self.env.dsn)
        if unavailable:
            self.results.setdefault("meta", {})["statements_unavailable"] = unavailable
            self.say(f"PostgreSQL's time by statement will not be measured: {unavailable}")
        province = load_province(Settings().province_file)
        pool = simulate_pool(province, plan.pool_events)
        self.templates = {"single": package(pool, batched=False), "batched": package(pool, batched=True)}
        feed = {}
        for mode, tpl in self.templates.items():
            mx = mix(tpl)
            feed[mode] = {"events": mx.events, "messages": mx.messages,
                          "events_per_message": {f: round(v, 1) for f, v in mx.events_per_message.items()},
                          "mean_events_per_message": round(mx.total_events / mx.total_messages, 2)}
        self.results["feed"] = feed
        self.say(f"feed pool: {len(pool)} simulated events; batched mode: "
                 f"{feed['batched']['mean_events_per_message']} events per message "
                 f"({', '.join(f'{f} {v}' for f, v in feed['batched']['events_per_message'].items())})")

    async def throughput(self, mode: str) -> None:
        plan, env = self.plan, self.env
        s = env.settings(mode)
        topics = env.topics(s)
        fam = {f: topic_name(s, f) for f in FEEDS}
        probe = LagProbe(s.kafka_bootstrap, s.app_id, partitions(topics))
        await probe.start()
        tpl = self.templates[mode]
        res: dict[str, Any] = {"partitions": topics}
        try:
            await probe.wait_ready()
            # pilot: sizes the real backlog, warms the group, the database and the caches
            sent = await self.producer.backlog(fam, tpl, int(PRIORS[mode] * plan.pilot_s), self.cursor)
            self.cursor = sent.cursor
            self.clear_statements()
            worker = self.start_worker(s, f"{mode}-pilot")
            pilot = await self.drain([worker], probe, sent.events, timeout=600)
            self.stop(worker[0])
            res["pilot"] = {"events": sent.events, "rate_events_per_s": pilot["rate_events_per_s"]}
            self.say(f"{mode}: pilot of {sent.events:,} events drained at {pilot['rate_events_per_s']:,} events/s")

            n = calc.backlog_size(pilot["rate_events_per_s"], plan.drain_s, minimum=5_000, maximum=plan.max_backlog)
            start = await probe.end_offsets()
            sent = await self.producer.backlog(fam, tpl, n, self.cursor)
            self.cursor = sent.cursor
            end = await probe.end_offsets()
            self.backlogs[mode] = (start, end, sent.events, sent.messages)
            res["backlog"] = {"events": sent.events, "messages": sent.messages, "bytes": sent.bytes,
                              "produce_s": round(sent.seconds, 1), "produce_events_per_s": round(sent.events_per_s),
                              "produce_messages_per_s": round(sent.messages / sent.seconds)}
            self.say(f"{mode}: backlog of {sent.events:,} events in {sent.messages:,} messages produced in "
                     f"{sent.seconds:.1f} s ({sent.messages / sent.seconds:,.0f} messages/s); starting one worker")
            self.clear_statements()
            worker = self.start_worker(s, f"{mode}-worker")
            d = await self.drain([worker], probe, sent.events, timeout=max(300, 6 * plan.drain_s))
            d["rate_messages_per_s"] = round(d["rate_events_per_s"] * sent.messages / sent.events)
            res["drain"] = d
            self.say(f"{mode}: drained at {d['rate_events_per_s']:,} events/s ({d['rate_messages_per_s']:,} "
                     f"messages/s) over {d['measured_s']} s; lag 0 after {d['lag_zero_after_s']} s; cores busy: "
                     f"{cores_line(d['cpu_cores'], [f'{mode}-worker'])}")

            capacity = d["rate_events_per_s"]
            trials: list[dict[str, Any]] = []
            while (rate := calc.next_rate([(t["target_events_per_s"], t["lag"]["bounded"]) for t in trials],
                                          capacity, max_trials=plan.max_trials)) is not None:
                caught_up = await self.catch_up(probe, [worker])
                t = await self.paced(mode, worker, probe, fam, rate, plan.paced_s)
                t["share_of_capacity"] = round(rate / capacity, 3)
                t["caught_up_before_s"] = caught_up
                trials.append(t)
                self._say_paced(mode, f"{rate / capacity:.0%} of capacity", t)
            res["paced"] = trials
            best = calc.sustained([(t["target_events_per_s"], t["lag"]["bounded"]) for t in trials])
            res["paced_sustained_events_per_s"] = best
            self.say(f"{mode}: highest paced rate with bounded lag: "
                     + (f"{best:,} events/s ({best / capacity:.0%} of the drain capacity)" if best else "none found"))
            if mode == "batched":
                soak_rate = 0.5 * (best or capacity)
                await self.catch_up(probe, [worker])
                self.say(f"{mode}: memory soak at half the sustained rate ({soak_rate:,.0f} events/s) for "
                         f"{plan.soak_s:.0f} s, then the wall load with the feed still on")
                res["soak"] = await self.paced(mode, worker, probe, fam, soak_rate, plan.soak_s, rss_every_s=5.0,
                                               after=lambda: self.wall(s))
                self._say_paced(mode, "soak", res["soak"])
            self.stop(worker[0])
        finally:
            await probe.stop()
        self.results.setdefault("throughput", {})[mode] = res

    async def catch_up(self, probe: LagProbe, workers: list[tuple[Proc, int]], timeout: float = 90) -> float | None:
        """Wait until the group has no lag left from the last phase; seconds waited (None: gave up)."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if await probe.lag() == 0:
                return round(time.monotonic() - t0, 1)
            for p, _ in workers:
                if not p.alive():
                    raise RuntimeError(f"{p.name} exited:\n{p.log_tail()}")
            await asyncio.sleep(1.0)
        self.say(f"lag not back to 0 within {timeout:.0f} s; going on")
        return None

    def _say_paced(self, mode: str, label: str, r: dict) -> None:
        lat, lag, rss = r["latency_s"], r["lag"], r["rss_mib"]
        self.say(f"{mode}: paced at {label} ({r['target_events_per_s']:,} events/s, sent "
                 f"{r['sent_events_per_s']:,}, written {r['written_events_per_s']:,}): latency p50 {lat['p50']} s "
                 f"p95 {lat['p95']} s p99 {lat['p99']} s; lag {'bounded' if lag['bounded'] else 'NOT bounded'} "
                 f"(max {lag['max_seconds_of_input']} s of input); RSS {rss['start']}→{rss['end']} MiB"
                 + (f" ({rss['growth_mib_per_hour']} MiB/h)" if label == "soak" else "")
                 + f"; other load {r['cpu_cores']['other']} cores")

    async def wall(self, s: Settings) -> dict:
        """30 screens (and one, for comparison) against a running ``ioc dash``, the feed still on."""
        plan = self.plan
        port = free_port()
        token = await asyncio.to_thread(wall.create_token, self.env.dsn)
        dash = Proc("dash", "bench.dash_server", s, self.workdir, IOC_DASH_PORT=str(port),
                    IOC_BENCH_WALL_TOKEN=token or "")
        self.procs.append(dash)
        base = f"http://127.0.0.1:{port}"
        try:
            await asyncio.to_thread(wait_http, f"{base}/healthz", 60, dash)
            # first snapshot, imports, caches
            await asyncio.to_thread(wall.run_screens, base, token, 1, 4.0, s.dash_refresh_s)
            callbacks = len(await asyncio.to_thread(wall.refresh_bodies, base, token))
            if not callbacks:
                raise RuntimeError(f"the wall at {base} offers no tick callbacks to post:\n{dash.log_tail()}")
            out: dict[str, Any] = {"callbacks_per_refresh": callbacks, "signed_in_with_wall_token": bool(token)}
            for screens, seconds in ((1, plan.wall_one_s), (SCREENS, plan.wall_s)):
                meter = CpuMeter({"dash": dash.pid})
                st0, c0 = await asyncio.to_thread(wall.stats, base, token), meter.read()
                run = await asyncio.to_thread(wall.run_screens, base, token, screens, seconds, s.dash_refresh_s)
                st1, c1 = await asyncio.to_thread(wall.stats, base, token), meter.read()
                periods = seconds / s.dash_refresh_s
                lat = run.latencies_s
                queries = None if st0["queries"] is None else st1["queries"] - st0["queries"]
                out[f"{screens}_screens"] = r = {
                    "screens": screens, "seconds": seconds, "refresh_s": s.dash_refresh_s,
                    "refreshes": len(lat), "errors": run.errors, "error_kinds": run.statuses, "late": run.late,
                    "latency_s": {"p50": _r(calc.percentile(lat, 50), 3), "p95": _r(calc.percentile(lat, 95), 3),
                                  "max": _r(max(lat) if lat else None, 3)},
                    "db_queries_per_period": _r(calc.ratio(queries, periods), 2),
                    "snapshot_reads_per_period": _r(calc.ratio(st1["reads"] - st0["reads"], periods), 2),
                    "cpu_cores": CpuMeter.share(c0, c1),
                }
                self.say(f"wall: {screens} screen(s) every {s.dash_refresh_s:g} s for {seconds:.0f} s: callback "
                         f"p50 {r['latency_s']['p50']} s p95 {r['latency_s']['p95']} s; "
                         f"{r['db_queries_per_period']} queries and {r['snapshot_reads_per_period']} snapshot reads "
                         f"per period; {run.errors} errors {run.statuses or ''}")
            self.results["wall"] = out
            return {"wall_load": "ran after the soak's measurement, the feed still on"}
        finally:
            self.stop(dash)

    async def baselines(self) -> None:
        out: dict[str, Any] = {"bare_consumer": {}}
        for mode in MODES:
            start, end, events, messages = self.backlogs[mode]
            c = await bare_consume(self.env.base.kafka_bootstrap, start, end)
            worker = self.results["throughput"][mode]["drain"]["rate_events_per_s"]
            rate_ev = c.messages_per_s * events / messages
            out["bare_consumer"][mode] = {
                "messages": c.messages, "seconds": round(c.seconds, 2), "messages_per_s": round(c.messages_per_s),
                "events_per_s": round(rate_ev), "mb_per_s": round(c.bytes / c.seconds / 1e6, 1),
                "worker_ratio": _r(calc.ratio(worker, rate_ev), 4)}
            self.say(f"baseline: bare aiokafka consumer, {mode}: {c.messages_per_s:,.0f} messages/s = "
                     f"{rate_ev:,.0f} events/s; worker/bare = {calc.ratio(worker, rate_ev):.3f}")
        for mode in MODES:
            start, end, events, messages = self.backlogs[mode]
            s = self.env.settings(mode)
            d = await baseline_consumer.drain(self.env.base.kafka_bootstrap, self.env.dsn, f"{s.app_id}-baseline",
                                              {topic_name(s, f): f for f in FEEDS}, start, end)
            worker = per_cpu(self.results["throughput"][mode]["drain"])
            per_cpu_s = calc.ratio(d.events, d.cpu_seconds)
            g = out.setdefault("same_guarantees", {})[mode] = {
                "events": d.events, "fresh": d.fresh, "messages": d.messages, "batches": d.batches,
                "seconds": round(d.seconds, 2), "cpu_seconds": round(d.cpu_seconds, 2),
                "events_per_s": _r(calc.ratio(d.events, d.seconds), 0), "events_per_cpu_s": _r(per_cpu_s, 0),
                "worker_events_per_cpu_s": _r(worker, 0), "worker_ratio": _r(calc.ratio(worker, per_cpu_s), 4)}
            self.say(f"baseline: same-guarantees consumer, {mode}: {d.events:,} events ({d.fresh:,} fresh) in "
                     f"{d.batches:,} transactions, {g['events_per_s']} events/s, {g['events_per_cpu_s']} events "
                     f"per CPU-second; worker/baseline per CPU-second = {g['worker_ratio']}")
        rows = rows_of(self.templates["batched"], self.plan.copy_events, f"{self.ids.prefix}copy-")
        cp = bare_copy(self.env.dsn, rows)
        out["bare_copy"] = {"rows": cp.rows, "seconds": round(cp.seconds, 2), "rows_per_s": round(cp.rows_per_s),
                            "per_table": cp.per_table,
                            "worker_ratio": {m: _r(calc.ratio(
                                self.results["throughput"][m]["drain"]["rate_events_per_s"], cp.rows_per_s), 4)
                                for m in MODES}}
        self.say(f"baseline: bare COPY of {cp.rows:,} raw rows: {cp.rows_per_s:,.0f} rows/s; worker/COPY = "
                 + ", ".join(f"{m} {v}" for m, v in out["bare_copy"]["worker_ratio"].items()))
        self.results["baselines"] = out

    async def scale_out(self, mode: str) -> None:
        plan, env = self.plan, self.env
        one_rate = self.results["throughput"][mode]["drain"]["rate_events_per_s"]
        res: dict[str, Any] = {}
        for n_workers in (1, 2):
            s = env.settings(f"scale{n_workers}-{mode}")
            topics = env.topics(s)
            fam = {f: topic_name(s, f) for f in FEEDS}
            probe = LagProbe(s.kafka_bootstrap, s.app_id, partitions(topics))
            await probe.start()
            try:
                await probe.wait_ready()
                n = calc.backlog_size(one_rate * n_workers, plan.scale_drain_s, minimum=5_000,
                                      maximum=plan.max_backlog)
                sent = await self.producer.backlog(fam, self.templates[mode], n, self.cursor)
                self.cursor = sent.cursor
                self.clear_statements()
                workers = [self.start_worker(s, f"scale-{mode}-{chr(97 + i)}") for i in range(n_workers)]
                d = await self.drain(workers, probe, sent.events, timeout=max(300, 6 * plan.scale_drain_s))
                self.stop(*(p for p, _ in workers))
            finally:
                await probe.stop()
            res[f"{n_workers}_worker"] = d
            self.say(f"scale-out {mode}: {n_workers} worker(s) drained {sent.events:,} events at "
                     f"{d['rate_events_per_s']:,} events/s (shares {d['per_worker_share']}, machine "
                     f"{d['cpu_cores']['machine']}/{d['cpu_cores']['cores']} cores busy)")
        res["ratio"] = _r(calc.ratio(res["2_worker"]["rate_events_per_s"], res["1_worker"]["rate_events_per_s"]), 2)
        res["partitions"] = topics
        self.say(f"scale-out {mode}: two workers / one = {res['ratio']}")
        self.results.setdefault("scale_out", {})[mode] = res

    async def profile(self, mode: str) -> None:
        """A worker drains a fresh backlog while py-spy samples it from outside (never pausing it)."""
        plan, env = self.plan, self.env
        rate = self.results["throughput"][mode]["drain"]["rate_events_per_s"]
        s = env.settings(f"profile-{mode}")
        topics = env.topics(s)
        fam = {f: topic_name(s, f) for f in FEEDS}
        n = calc.backlog_size(rate, plan.profile_s + 15, minimum=5_000, maximum=plan.max_backlog)
        sent = await self.producer.backlog(fam, self.templates[mode], n, self.cursor)
        self.cursor = sent.cursor
        out = self.workdir / f"profile-{mode}.txt"
        worker, port = self.start_worker(s, f"profile-{mode}")
        try:
            t0 = time.monotonic()
            while self.done(port) < 0.1 * sent.events:  # past start-up and partition assignment
                if time.monotonic() - t0 > 120 or not worker.alive():
                    raise RuntimeError(f"profile-{mode}: the worker did not start draining:\n{worker.log_tail()}")
                await asyncio.sleep(0.2)
            await asyncio.to_thread(profile.record, worker.pid, plan.profile_s, out)
        finally:
            self.stop(worker)
        res = profile.summarise(out.read_text().splitlines())
        res.update(seconds=plan.profile_s, backlog_events=sent.events)
        self.results.setdefault("profile", {})[mode] = res
        self.say(f"profile {mode}: " + ", ".join(f"{k} {v:.0%}" for k, v in res["parts"].items()))

    async def wait_quiet(self, max_s: float, threshold: float = 0.3, every_s: float = 5.0) -> dict[str, float]:
        """Wait (at most ``max_s``) until processes outside the stack use less than ``threshold`` cores."""
        t0 = time.monotonic()
        meter = CpuMeter({})
        while True:
            c0 = meter.read()
            await asyncio.sleep(every_s)
            other = CpuMeter.share(c0, meter.read())["other"]
            waited = time.monotonic() - t0
            if other < threshold or waited >= max_s:
                if waited > every_s:
                    self.say(f"other processes use {other} cores after waiting {waited:.0f} s; starting")
                return {"waited_s": round(waited), "other_cores": other}
            if waited < every_s * 1.5:
                self.say(f"other processes use {other} cores; waiting up to {max_s:.0f} s for a quieter machine")

    # --- the whole run ---------------------------------------------------------------------
    async def run(self) -> dict[str, Any]:
        started = time.monotonic()
        self.results["meta"] = {"date": now_iso(), "quick": self.plan.quick, "run_id": self.env.run_id}
        self.prepare()
        self.results["meta"]["machine"] = describe_machine(self.env.dsn)
        self.results["meta"]["code"] = code_version()
        base = self.env.base
        self.results["meta"]["settings"] = {
            "batch_max": base.batch_max,
            "topic_partitions": self.env.partitions, "detect_interval_s": base.detect_interval_s,
            "plan": {k: getattr(self.plan, k) for k in self.plan.__dataclass_fields__}}
        self.results["meta"]["quiet_wait"] = await self.wait_quiet(self.plan.quiet_wait_s)
        self.producer = Producer(base.kafka_bootstrap, self.ids)
        await self.producer.start()
        try:
            for mode in MODES:
                await self.throughput(mode)
            await self.baselines()
            for mode in ("batched", "single"):
                await self.scale_out(mode)
            for mode in MODES:
                try:
                    await self.profile(mode)
                except Exception as exc:  # the figures above are kept whatever happens to the profiler
                    self.results.setdefault("profile", {})[mode] = {"error": str(exc)[:500]}
                    self.say(f"profile {mode} failed: {exc}")
        finally:
            await self.producer.stop()
        self.results["meta"]["duration_s"] = round(time.monotonic() - started)
        self.results["meta"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        return self.results

    def close(self) -> None:
        for p in list(self.procs):
            p.stop()
        self.procs.clear()
        problems = self.env.close()
        for problem in problems:
            self.say(f"cleanup: {problem}")
        shutil.rmtree(self.workdir, ignore_errors=True)
        self.say(f"dropped {self.env.dbname} and the bench{self.env.run_id}.* topics")
