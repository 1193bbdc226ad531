"""What a fault run left in its database, in the shapes of ``reference.Expected``, and the comparison."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import psycopg

from tests.faults.reference import RAW_TABLES, Expected


def read(conn: psycopg.Connection) -> Expected:
    got = Expected()
    for family, table in RAW_TABLES.items():
        got.raw[family] = {(i, t) for i, t in conn.execute(f"SELECT id, time FROM {table}")}
    for *k, probes, ok, requests, errors, latencies in conn.execute(
            """SELECT system, endpoint, window_s, time, probes, probes_ok, requests, errors,
                      (SELECT coalesce(sum(n), 0) FROM unnest(latency_hist) AS n)
               FROM health_window"""):
        for column, n in (("probes", probes), ("probes_ok", ok), ("requests", requests), ("errors", errors),
                          ("latencies", latencies)):
            got.health[(*k, column)] += n
    for *k, window_s, events, blocked in conn.execute(
            "SELECT entity, type, severity, layer, time, window_s, events, blocked FROM security_window"):
        assert window_s == 60, f"unexpected security window {window_s}"
        got.security[(*k, "events")] += events
        got.security[(*k, "blocked")] += blocked
    for src, target, time, failures, locked in conn.execute(
            "SELECT src_ip, target, time, failures, locked FROM auth_failure_window"):
        got.auth[(src, target, time, "failures")] += failures
        got.auth[(src, target, time, "locked")] += locked
    for *k, tracks in conn.execute("SELECT camera, zone, rule, window_s, time, tracks FROM camera_window"):
        got.tracks[tuple(k)] += tracks
    for camera, state, changes, last_seen, conditions in conn.execute(
            "SELECT camera, state, changes, last_seen, conditions FROM camera_state"):
        got.cameras[camera] = {"state": state, "changes": changes, "last_seen": last_seen,
                               "conditions": sorted(conditions or [])}
    row = conn.execute("SELECT coalesce(sum(duplicates), 0), coalesce(sum(accepted), 0) FROM source_window"
                       ).fetchone()
    got.duplicates, got.accepted = row
    got.producers_accepted = conn.execute("SELECT coalesce(sum(accepted), 0) FROM producer_window").fetchone()[0]
    return got


@dataclass
class Comparison:
    """How the database differs from the reference; ``ok`` when it does not."""

    events: int
    lost: int = 0  # events missing from the raw tables + counts missing from the indicators
    duplicated: int = 0  # rows not in the feed + counts the indicators hold too many
    differences: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences

    def __str__(self) -> str:
        head = f"{self.events} events, {self.lost} lost, {self.duplicated} duplicated"
        return head + "".join(f"\n  {d}" for d in self.differences[:20])


def _counters(name: str, exp: Counter, got: Counter, cmp: Comparison, counts: set[str]) -> None:
    for key in sorted(set(exp) | set(got), key=str):
        e, g = exp.get(key, 0), got.get(key, 0)
        if e == g:
            continue
        cmp.differences.append(f"{name} {key}: expected {e}, stored {g}")
        if key[-1] in counts:
            cmp.lost += max(0, e - g)
            cmp.duplicated += max(0, g - e)


def compare(exp: Expected, got: Expected) -> Comparison:
    cmp = Comparison(exp.events)
    for family in RAW_TABLES:
        missing, extra = exp.raw[family] - got.raw[family], got.raw[family] - exp.raw[family]
        cmp.lost += len(missing)
        cmp.duplicated += len(extra)
        if missing or extra:
            cmp.differences.append(f"{RAW_TABLES[family]}: {len(missing)} events missing, {len(extra)} not in the "
                                   f"feed (e.g. {sorted(missing or extra)[:3]})")
    # only the event counts go into lost / duplicated; the other columns are reported as differences
    _counters("health_window", exp.health, got.health, cmp, {"probes", "requests"})
    _counters("security_window", exp.security, got.security, cmp, {"events"})
    _counters("auth_failure_window", exp.auth, got.auth, cmp, {"failures"})
    _counters("camera_window", Counter({(*k, "tracks"): n for k, n in exp.tracks.items()}),
              Counter({(*k, "tracks"): n for k, n in got.tracks.items()}), cmp, {"tracks"})
    for camera in sorted(set(exp.cameras) | set(got.cameras)):
        if exp.cameras.get(camera) != got.cameras.get(camera):
            cmp.differences.append(f"camera_state {camera}: expected {exp.cameras.get(camera)}, "
                                   f"stored {got.cameras.get(camera)}")
    if got.accepted is not None and got.accepted != exp.events:
        cmp.differences.append(f"source_window: {got.accepted} events accepted, expected {exp.events}")
    if got.producers_accepted is not None and got.producers_accepted != exp.events:
        cmp.differences.append(f"producer_window: {got.producers_accepted} events accepted, expected {exp.events}")
    return cmp
