"""Periodic jobs of the worker: retention by ``drop_chunks``, maintenance expansion, and pruning of
closed states, of the id ledger (a family's ids are kept as long as its raw events may be) and of sign-in
attempts (``login_attempt``, kept ``IOC_LOGIN_ATTEMPT_RETENTION_DAYS``).

The Apache edition of TimescaleDB has no retention policies, so the worker runs retention
itself; every worker may run it, since dropping chunks that are already gone does nothing.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from agents.indicators.maintenance import WeeklyRule, occurrences

log = logging.getLogger(__name__)

EXPAND_AHEAD = timedelta(days=14)
#: state table -> the raw table whose retention bounds it
STATE_RETENTION = {"dossier_state": "dossier_event", "citizen_report": "citizen_event"}


def plan_occurrences(rules, now: datetime, ahead: timedelta = EXPAND_AHEAD):
    """Rows (window_id, system, starts_at, ends_at) for one-off windows and recurring rules."""
    rows = []
    for wid, system, starts_at, ends_at, recurrence in rules:
        if recurrence:
            rule = WeeklyRule.parse(recurrence)
            rows.extend((wid, system, s, e) for s, e in occurrences(rule, now - timedelta(days=1), now + ahead))
        elif starts_at and ends_at:
            rows.append((wid, system, starts_at, ends_at))
    return rows


def purge_before(retention_days: dict[str, int], now: datetime, login_attempt_days: int) -> dict[str, datetime]:
    """Row tables (not hypertables) -> delete rows older than this."""
    # closed states go when the events that made them do: a replay within retention is still a duplicate
    out = {state: now - timedelta(days=retention_days[raw]) for state, raw in STATE_RETENTION.items()
           if raw in retention_days}
    out["login_attempt"] = now - timedelta(days=login_attempt_days)
    return out


def ledger_before(retention_days: dict[str, int], raw_tables: Mapping[str, str], now: datetime, *,
                  chunk_intervals: Mapping[str, timedelta], future_tolerance: timedelta) -> dict[str, datetime]:
    """Family -> forget the ids that arrived before this.

    An id is remembered as long as its event may still be in the family's raw table, which has no
    unique index of its own (the ledger is the only guard against a re-sent copy).  ``drop_chunks``
    drops a chunk only once all of it is older than the retention, so an event stays up to one chunk
    interval longer than the retention; and its time is at most the future tolerance after its
    arrival.  A family whose raw table has no known chunk interval is not pruned."""
    out = {}
    for family, raw in raw_tables.items():
        if raw in retention_days and raw in chunk_intervals:
            out[family] = now - timedelta(days=retention_days[raw]) - chunk_intervals[raw] - future_tolerance
        elif raw in retention_days:
            log.warning("id ledger of %s kept: no chunk interval known for %s", family, raw)
    return out


async def run_housekeeping(store, retention_days: dict[str, int], now: datetime, *, login_attempt_days: int,
                           raw_tables: Mapping[str, str], future_tolerance: timedelta) -> dict:
    """Every job through ``store`` (the worker's ``HousekeepingStore``).  ``raw_tables``: feed family ->
    its raw table, whose retention (and chunk interval) bounds the family's id ledger."""
    dropped = await store.drop_old_chunks({t: timedelta(days=d) for t, d in retention_days.items()}, now)
    expanded = await store.save_occurrences(plan_occurrences(await store.maintenance_rules(), now))
    purged = await store.purge_expired(purge_before(retention_days, now, login_attempt_days))
    intervals = await store.chunk_intervals(sorted(set(raw_tables.values())))
    forgotten = await store.prune_ledger(ledger_before(retention_days, raw_tables, now, chunk_intervals=intervals,
                                                       future_tolerance=future_tolerance))
    if any(dropped.values()):
        log.info("retention: dropped chunks %s", {t: n for t, n in dropped.items() if n})
    return {"dropped": dropped, "occurrences": expanded, "purged": purged, "ledger": forgotten}
