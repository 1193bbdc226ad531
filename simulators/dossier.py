"""Public-service dossier feed: received, processed, resolved, returned, withdrawn, carried over.

Units at three levels receive dossiers of their procedures; a dossier's due date is its
procedure's term in working days, at 17:00 local time.  Counters work in office hours
(07:30–17:00, Monday to Friday); at night and at weekends only online dossiers arrive.
Open dossiers form a pool; work picks a dossier at random, except that a unit's share of
late resolutions is taken from its most overdue dossiers, so each unit has a late rate of its
own.  At start-up and at every local midnight each open dossier is announced as carried over.
Drills use ``force``: a backlog (a unit stops resolving, dossiers pile up near their due
date) or a surge of arrivals.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from simulators.base import Event, iso
from simulators.common import DISTRICT_KINDS, Pool, count, hex_id, units_at, within
from simulators.health import office_factor
from streams.core.clock import LOCAL_TZ
from streams.core.geography import Procedure, Province, Unit
from streams.core.contracts.dossier import outcome_of

#: how a dossier arrives, by the procedure's online kind
CHANNELS = {"full_process": {"online": 70, "in_person": 27, "postal": 3},
            "partial": {"online": 40, "in_person": 55, "postal": 5},
            None: {"in_person": 93, "postal": 7}}
#: how applicants of online dossiers sign in, percent (the plan's e-ID target: 80 %)
AUTH = (("vneid", 76), ("local", 20), ("none", 4))
#: digitised at reception, by level (plan targets for 2023: 30 / 20 / 15 %)
DIGITISED = {"province": 0.32, "district": 0.22, "commune": 0.15}
#: share of the work budget by event, in office hours
WORK = {"received": 0.30, "processed": 0.34, "resolved": 0.30, "returned": 0.04, "withdrawn": 0.02}
LEVEL_SHARE = {"province": 0.2, "district": 0.35, "commune": 0.45}
STEPS = ("Tiếp nhận và chuyển xử lý", "Thụ lý, thẩm định hồ sơ", "Trình lãnh đạo ký duyệt", "Trả kết quả")
RETURN_REASONS = ("Hồ sơ chưa đầy đủ thành phần theo quy định", "Thông tin trên tờ khai không khớp với giấy tờ gốc",
                  "Không thuộc thẩm quyền giải quyết của đơn vị")
FORCED = ("backlog", "surge")


def auth_method(dossier_id: str) -> str:
    """How the applicant of an online dossier signed in, drawn from the random tail of its id (so
    that the rest of a seed's feed is the same as before the field existed)."""
    roll = int(dossier_id.rsplit("-", 1)[-1], 16) % 100
    for method, share in AUTH:
        if roll < share:
            return method
        roll -= share
    return AUTH[-1][0]


def add_working_days(start: datetime, days: int) -> datetime:
    """17:00 local on the ``days``-th working day (Monday–Friday) after ``start``."""
    day = start.astimezone(LOCAL_TZ).date()
    left = max(1, days)
    while left:
        day += timedelta(days=1)
        left -= day.weekday() < 5
    return datetime(day.year, day.month, day.day, 17, 0, tzinfo=LOCAL_TZ)


@dataclass(slots=True)
class Dossier:
    id: str
    proc: Procedure
    unit: str
    channel: str
    received: datetime
    due: datetime
    digitised: bool
    step: int = 0


class DossierSimulator:
    family = "dossier"
    weight = 0.02

    def __init__(self, province: Province, rng: random.Random, *, open_dossiers: int = 2000) -> None:
        if not province.procedures:
            raise ValueError("the province file lists no procedures")
        self.rng = rng
        self.open_target = open_dossiers
        self.province = province
        self.procs = {lvl: [p for p in province.procedures if p.level == lvl] for lvl in LEVEL_SHARE}
        self.late_share: dict[str, float] = {}
        self._units_of(units_at(province, date.max))
        self._units_day: date | None = None
        self.pool: Pool[Dossier] = Pool()
        self.forced: dict[str, str] = {}
        self._day: object = None
        self._inject: tuple[str, int] | None = None
        self._seq = 0

    def _units_of(self, units: tuple[Unit, ...]) -> None:
        """Receive at ``units``: the district level's and the commune level's (and the agencies)."""
        self.units = {
            "province": sorted({p.agency for p in self.province.procedures if p.agency}),
            "district": [u.code for u in units if u.kind in DISTRICT_KINDS],
            "commune": [u.code for u in units if u.kind not in DISTRICT_KINDS],
        }
        self.levels = [lvl for lvl in LEVEL_SHARE if self.procs[lvl] and self.units[lvl]]
        for lvl in self.levels:
            for u in self.units[lvl]:
                self.late_share.setdefault(u, self.rng.uniform(0.01, 0.08))

    def _follow(self, ts: datetime) -> None:
        """Name the units valid at ``ts`` (events are made in time order)."""
        day = ts.astimezone(LOCAL_TZ).date()
        if day != self._units_day:
            self._units_day = day
            self._move_to(day)

    def _move_to(self, day: date) -> None:
        """The units valid on ``day``; open dossiers of a unit that ended go to the unit that kept its
        seat (what a one-stop desk does with its files when the divisions change)."""
        units = units_at(self.province, day)
        codes = {u.code for u in units}
        if codes == {c for lvl in ("district", "commune") for c in self.units[lvl]}:
            return
        self._units_of(units)
        divisions = self.province.divisions
        for d in self.pool:
            if d.proc.level != "province" and d.unit not in codes:
                d.unit = divisions.primary(d.unit, day)
        self.forced = {divisions.primary(u, day) if u not in codes else u: c for u, c in self.forced.items()}

    # -- control, used by drills ------------------------------------------------------------
    def force(self, unit: str, condition: str | None, *, size: int = 200) -> None:
        """``backlog``: the unit stops resolving and ``size`` dossiers near their due date appear."""
        if not any(unit in units for units in self.units.values()):
            raise ValueError(f"unknown unit {unit!r}")
        if condition is None:
            self.forced.pop(unit, None)
            self._inject = None if self._inject and self._inject[0] == unit else self._inject
            return
        if condition not in FORCED:
            raise ValueError(f"unknown condition {condition!r}; known: {', '.join(FORCED)}")
        self.forced[unit] = condition
        if condition == "backlog":
            self._inject = (unit, size)

    def key_of(self, event: Event) -> str:
        return event["dossier_id"]

    # -- dossiers ---------------------------------------------------------------------------
    def _new(self, received: datetime, *, online_only: bool = False, unit: str | None = None) -> Dossier | None:
        rng = self.rng
        level = next((lvl for lvl, units in self.units.items() if unit in units), None) if unit else \
            rng.choices(self.levels, weights=[LEVEL_SHARE[lvl] for lvl in self.levels])[0]
        procs = [p for p in self.procs[level] if p.online or not online_only]
        if unit and level == "province":
            procs = [p for p in procs if p.agency == unit] or procs
        if not procs:
            return None
        proc = rng.choices(procs, weights=[p.weight for p in procs])[0]
        unit = unit or proc.agency or rng.choice(self.units[level])
        channels = {"online": 1} if online_only else CHANNELS[proc.online]
        channel = rng.choices(list(channels), weights=list(channels.values()))[0]
        self._seq += 1
        local = received.astimezone(LOCAL_TZ)
        dossier_id = f"{unit.upper()}-{local:%y%m%d}-{self._seq:06d}-{hex_id(rng, 16)}"
        return Dossier(dossier_id, proc, unit, channel, received, add_working_days(received, proc.days),
                       rng.random() < DIGITISED[proc.level])

    def _event(self, d: Dossier, type_: str, ts: datetime, **extra: object) -> Event:
        ev = {"id": hex_id(self.rng, 96), "type": type_, "dateObserved": iso(ts), "dossier_id": d.id,
              "procedure_code": d.proc.code, "unit_code": d.unit, "level": d.proc.level, "channel": d.channel,
              "received_date": iso(d.received), "due_date": iso(d.due), "digitised": d.digitised}
        if d.proc.online:
            ev["online_kind"] = d.proc.online
        if d.channel == "online":
            ev["auth_method"] = auth_method(d.id)
        ev.update(extra)
        return ev

    def _receive(self, ts: datetime, online_only: bool = False, unit: str | None = None) -> list[Event]:
        self._follow(ts)
        d = self._new(ts, online_only=online_only, unit=unit)
        if d is None:
            return []
        self.pool.add(d.id, d, d.due)
        return [self._event(d, "DossierReceived", ts, procedure_name=d.proc.name)]

    def _close_pick(self, now: datetime) -> Dossier | None:
        """A dossier to resolve: the most overdue one at a unit's late share, else one at random."""
        d = self.pool.random(self.rng)
        if d is not None and self.rng.random() < self.late_share.get(d.unit, 0.05):
            d = self.pool.due_by(now) or d
        if d is None or self.forced.get(d.unit) == "backlog":
            return None
        return d

    def _work(self, kind: str, ts: datetime) -> list[Event]:
        rng = self.rng
        self._follow(ts)
        if kind == "received":
            return self._receive(ts)
        if kind == "processed":
            d = self.pool.random(rng)
            if d is None or d.step >= len(STEPS) - 1:
                return []
            d.step += 1
            return [self._event(d, "DossierProcessed", ts, step=STEPS[d.step])]
        d = self._close_pick(ts)
        if d is None or ts < d.received:
            return []
        self.pool.remove(d.id)
        if kind == "resolved":
            return [self._event(d, "DossierResolved", ts, resolved_date=iso(ts), outcome=outcome_of(ts, d.due),
                                result_digitised=rng.random() < DIGITISED[d.proc.level] + 0.1)]
        if kind == "returned":
            return [self._event(d, "DossierReturned", ts, reason=rng.choice(RETURN_REASONS))]
        return [self._event(d, "DossierWithdrawn", ts, reason="Công dân rút hồ sơ")]

    def _backlog(self, now: datetime, unit: str | None, size: int) -> list[Event]:
        """Open dossiers received in the past 15 days, announced as carried over.

        The start-up pool (``unit`` None) is a desk's steady state: a dossier already past its
        due date only at its unit's late share, the others received within their term.  A
        forced backlog keeps whatever it draws: that desk has stopped working.
        """
        for _ in range(size):
            d = self._new(now - timedelta(days=self.rng.uniform(0.5, 15)), unit=unit)
            if d is not None and unit is None and d.due <= now and self.rng.random() >= self.late_share.get(d.unit, 0.05):
                d = self._within_term(d, now)
            if d is not None:
                self.pool.add(d.id, d, d.due)
        return [self._event(d, "DossierCarriedOver", now) for d in self.pool if unit is None or d.unit == unit]

    def _within_term(self, d: Dossier, now: datetime) -> Dossier:
        """``d`` received recently enough to be still within its procedure's term at ``now``."""
        for _ in range(8):
            received = now - timedelta(days=self.rng.uniform(0.05, max(0.1, d.proc.days * 0.9)))
            if add_working_days(received, d.proc.days) > now:
                d.received, d.due = received, add_working_days(received, d.proc.days)
                d.id = f"{d.unit.upper()}-{received.astimezone(LOCAL_TZ):%y%m%d}-{'-'.join(d.id.rsplit('-', 2)[1:])}"
                break
        return d

    def tick(self, now: datetime, dt: float, n: int) -> list[Event]:
        rng = self.rng
        events: list[Event] = []
        today = now.astimezone(LOCAL_TZ).date()
        self._follow(now)
        if self._day is None:
            events.extend(self._backlog(now, None, self.open_target))
        elif today != self._day:
            events.extend(self._event(d, "DossierCarriedOver", now) for d in self.pool)
        self._day = today
        if self._inject:
            events.extend(self._backlog(now, *self._inject))
            self._inject = None
        office = office_factor(now)
        if office >= 1.0:
            # closures follow the pool: more work when it is above its usual size, less below
            pressure = min(2.0, max(0.5, len(self.pool) / max(1, self.open_target)))
            weights = [w * (pressure if k in ("resolved", "returned", "withdrawn") else 1) for k, w in WORK.items()]
            k = count(rng, n * office)
            times = sorted(within(rng, now, dt) for _ in range(k))  # in time order: received before processed
            for kind, ts in zip(rng.choices(list(WORK), weights=weights, k=k), times):
                events.extend(self._work(kind, ts))
        else:  # nights and weekends: online submissions only
            for _ in range(count(rng, n * 0.1)):
                events.extend(self._receive(within(rng, now, dt), online_only=True))
        for unit, condition in self.forced.items():
            if condition == "surge":
                for _ in range(count(rng, n * 0.5 + 0.02 * dt)):
                    events.extend(self._receive(within(rng, now, dt), online_only=office < 1.0, unit=unit))
        return events
