"""Service levels per system per calendar month: pure functions over per-minute probe counts,
maintenance intervals and the alerts that saw outages.  The policy is in ``data/sla.yaml``.

A minute with no stored probe is *unknown*, never up: a dead prober must not read as 100 %.  The
verdict of a month is "meets" only if it would hold with every unknown minute down, "misses" only if
it would fail with every unknown minute up, else "undetermined".
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from streams.core.errors import ConfigError, InputError
from streams.core.yamlfile import read_yaml

DATA = Path(__file__).resolve().parent / "data"
SLA_FILE = DATA / "sla.yaml"
MINUTE = timedelta(minutes=1)

MEETS, MISSES, UNDETERMINED, NO_DATA = "meets", "misses", "undetermined", "no_data"


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    default_target: float = 0.995
    down_below: float = 0.5
    targets: Mapping[str, float] = field(default_factory=dict)
    outage_rules: tuple[str, ...] = ("system_unavailable",)

    def target(self, system: str) -> float:
        return self.targets.get(system, self.default_target)


def _share(value: object, where: str) -> float:
    try:
        share = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: {value!r} is not a number") from None
    if not 0 < share <= 1:
        raise ConfigError(f"{where}: {share} is not a share between 0 and 1 (99.5 % is 0.995)")
    return share


def load_sla_policy(path: Path = SLA_FILE) -> SlaPolicy:
    doc = read_yaml(path, "SLA file", "IOC_SLA_FILE")
    if not isinstance(doc, dict):
        raise ConfigError(f"SLA file {path}: expected a mapping at the top")
    targets = doc.get("targets") or {}
    if not isinstance(targets, dict):
        raise ConfigError(f"SLA file {path}: targets must map system codes to shares")
    rules = doc.get("outage_rules") or ["system_unavailable"]
    return SlaPolicy(
        default_target=_share(doc.get("default_target", 0.995), f"{path}: default_target"),
        down_below=_share(doc.get("down_below", 0.5), f"{path}: down_below"),
        targets={str(k): _share(v, f"{path}: targets.{k}") for k, v in targets.items()},
        outage_rules=tuple(str(r) for r in rules),
    )


_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")


def parse_month(text: str) -> date:
    """``2026-11`` -> the first day of that month."""
    m = _MONTH.match(text or "")
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise InputError(f"month: {text!r} is not a month (YYYY-MM)")
    return date(int(m.group(1)), int(m.group(2)), 1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def previous_month(month: date) -> date:
    return date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


def month_bounds(month: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants of a local calendar month, half-open, in UTC."""
    start = datetime.combine(month.replace(day=1), time(), tz)
    return start.astimezone(timezone.utc), datetime.combine(next_month(month), time(), tz).astimezone(timezone.utc)


@dataclass(frozen=True, slots=True)
class Outage:
    start: datetime
    end: datetime  # the end of its last down minute
    alert_id: int | None = None

    @property
    def minutes(self) -> int:
        return round((self.end - self.start) / MINUTE)


@dataclass(frozen=True, slots=True)
class MonthSla:
    system: str
    month: date
    target: float
    minutes: int  # of the month so far
    up: int
    down: int
    unknown: int
    maintenance: int
    outages: tuple[Outage, ...] = ()

    @property
    def availability(self) -> float | None:
        """Over the minutes with data: up / (up + down)."""
        known = self.up + self.down
        return self.up / known if known else None

    @property
    def worst(self) -> float | None:
        """Every unknown minute taken as down."""
        counted = self.up + self.down + self.unknown
        return self.up / counted if counted else None

    @property
    def best(self) -> float | None:
        """Every unknown minute taken as up."""
        counted = self.up + self.down + self.unknown
        return (self.up + self.unknown) / counted if counted else None

    @property
    def verdict(self) -> str:
        if self.up + self.down == 0:
            return NO_DATA
        if self.worst is not None and self.worst >= self.target:
            return MEETS
        if self.best is not None and self.best < self.target:
            return MISSES
        return UNDETERMINED

    @property
    def allowed_down_minutes(self) -> float:
        """Down minutes the target allows over the minutes counted so far (maintenance left out)."""
        return (1 - self.target) * (self.up + self.down + self.unknown)


Interval = tuple[datetime, datetime]


def _covered(minute: datetime, intervals: Sequence[Interval]) -> bool:
    end = minute + MINUTE
    return any(s < end and e > minute for s, e in intervals)


def month_sla(system: str, month: date, tz: ZoneInfo, probes: Mapping[datetime, tuple[int, int]],
              maintenance: Sequence[Interval], alerts: Iterable[tuple[int, datetime, datetime | None]],
              policy: SlaPolicy, now: datetime) -> MonthSla:
    """The month of one system so far.  ``probes``: minute start (UTC) -> (probes, probes succeeded);
    ``maintenance``: the intervals that touch this system; ``alerts``: (id, started, resolved or None)
    of the outage rules on this system; ``now`` cuts a month in progress at its last whole minute."""
    start, end = month_bounds(month, tz)
    return span_sla(system, start, end, probes, maintenance, alerts, policy, now, month=month)


def span_sla(system: str, start: datetime, end: datetime, probes: Mapping[datetime, tuple[int, int]],
             maintenance: Sequence[Interval], alerts: Iterable[tuple[int, datetime, datetime | None]],
             policy: SlaPolicy, now: datetime, *, month: date | None = None) -> MonthSla:
    """Any period [start, end) of whole minutes (a day, a week), counted as a month is."""
    start, end = start.astimezone(timezone.utc), end.astimezone(timezone.utc)
    stop = min(end, now.astimezone(timezone.utc).replace(second=0, microsecond=0))
    up = down = unknown = held = 0
    runs: list[list[datetime]] = []
    last_down: datetime | None = None
    at = start
    windows = sorted(maintenance)
    while at < stop:
        if _covered(at, windows):
            held += 1
        else:
            n, ok = probes.get(at, (0, 0))
            if n <= 0:
                unknown += 1
            elif ok < policy.down_below * n:
                down += 1
                if last_down is not None and at - last_down == MINUTE:
                    runs[-1][1] = at + MINUTE
                else:
                    runs.append([at, at + MINUTE])
                last_down = at
            else:
                up += 1
        at += MINUTE
    seen = sorted(alerts, key=lambda a: a[1])
    outages = tuple(Outage(s, e, next((i for i, a0, a1 in seen if a0 < e and (a1 is None or a1 > s)), None))
                    for s, e in runs)
    total = max(0, round((stop - start) / MINUTE))
    return MonthSla(system, month or start.date(), policy.target(system), total, up, down, unknown, held, outages)


def month_report(dsn: str, month: date, systems: Sequence[str], policy: SlaPolicy, tz: ZoneInfo,
                 now: datetime) -> list[MonthSla]:
    """Every system's month, read from the database (three queries, whatever the number of systems)."""
    since, until = month_bounds(month, tz)
    return span_report(dsn, since, until, systems, policy, now, month=month)


def span_report(dsn: str, since: datetime, until: datetime, systems: Sequence[str], policy: SlaPolicy,
                now: datetime, *, month: date | None = None) -> list[MonthSla]:
    """Every system's service level over [since, until)."""
    from agents.indicators.queries.sla import ALERTS, MAINTENANCE, MINUTES
    from streams.db.connect import connect

    params = {"since": since, "until": until, "systems": list(systems), "rules": list(policy.outage_rules)}
    with connect(dsn, what="cannot read the service levels", role="sla") as conn:
        minutes = conn.execute(MINUTES, params).fetchall()
        held = conn.execute(MAINTENANCE, params).fetchall()
        alerts = conn.execute(ALERTS, params).fetchall()
    probes: dict[str, dict[datetime, tuple[int, int]]] = {s: {} for s in systems}
    for system, at, n, ok in minutes:
        probes[system][at.astimezone(timezone.utc)] = (int(n), int(ok))
    return [span_sla(s, since, until, probes[s], [(a, b) for who, a, b in held if who is None or who == s],
                     [(i, a, b) for i, who, a, b in alerts if who == s], policy, now, month=month) for s in systems]
