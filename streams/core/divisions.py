"""Administrative units through time: which unit a code names on a day, and what became of a unit
that ended.  Pure data and logic; :mod:`streams.core.geography` builds it from the province files.

A code may come back (in 2025 a commune formed around a district town kept the town's code): it
then names one unit per period, and the periods may not overlap.  ``successors`` maps a unit that
ended to the units that took its territory, the first one the unit that kept its seat."""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from streams.core.geography import Unit


@dataclass(frozen=True, slots=True)
class Succession:
    """The units that took an ended unit's territory; ``approximate`` when the list is not exact."""

    old: str
    units: tuple[str, ...]
    approximate: bool = False


class UnitRejected(ValueError):
    """An event's unit code is not valid on its day and cannot be mapped to one unit."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class DivisionsError(ValueError):
    """The units and successions do not fit together (the loader names the file)."""


class Divisions:
    """Every unit a province has had, with its validity, and the successions between them."""

    def __init__(self, units: Iterable[Unit], successions: Mapping[str, Succession] | None = None) -> None:
        self.successions = dict(successions or {})
        self._by_code: dict[str, list[Unit]] = {}
        for u in units:
            self._by_code.setdefault(u.code, []).append(u)
        for code, periods in self._by_code.items():
            periods.sort(key=lambda u: u.valid_from or date.min)
            for a, b in zip(periods, periods[1:]):
                if a.valid_to is None or b.valid_from is None or a.valid_to >= b.valid_from:
                    raise DivisionsError(f"unit {code}: validity {a.period()} ({a.name}) overlaps {b.period()} ({b.name})")
            for u in periods:
                if u.valid_from and u.valid_to and u.valid_to < u.valid_from:
                    raise DivisionsError(f"unit {code}: valid_to {u.valid_to} is before valid_from {u.valid_from}")
        for old, s in self.successions.items():
            ended = [u for u in self._by_code.get(old, ()) if u.valid_to is not None]
            if not ended:
                raise DivisionsError(f"successors of {old}: no unit {old} has ended")
            if not s.units:
                raise DivisionsError(f"successors of {old}: the list is empty")
            day = ended[-1].valid_to + timedelta(days=1)
            for new in s.units:
                if new not in self._by_code:
                    raise DivisionsError(f"successors of {old}: unknown unit {new!r}")
                if self.unit_on(new, day) is None:
                    raise DivisionsError(f"successors of {old}: unit {new} is not valid on {day}, the day after {old} ended")

    @property
    def units(self) -> tuple[Unit, ...]:
        return tuple(u for periods in self._by_code.values() for u in periods)

    def known(self, code: str) -> bool:
        return code in self._by_code

    def unit_on(self, code: str, day: date) -> Unit | None:
        """The unit ``code`` names on ``day``, or None when it names none that day."""
        return next((u for u in self._by_code.get(code, ()) if u.valid_on(day)), None)

    def on(self, day: date) -> tuple[Unit, ...]:
        """The units valid on ``day``."""
        return tuple(u for periods in self._by_code.values() for u in periods if u.valid_on(day))

    def successors(self, code: str) -> tuple[str, ...]:
        """The units that took ``code``'s territory when it ended (none if it has not ended)."""
        s = self.successions.get(code)
        return s.units if s else ()

    def current(self, code: str, day: date) -> tuple[Unit, ...]:
        """The units valid on ``day`` that ``code`` is or became, following successions (a code valid
        that day is itself; an unknown code, or one whose successors are not listed, gives none)."""
        out: dict[str, Unit] = {}
        todo, seen = [code], set()
        while todo:
            at = todo.pop(0)
            if at in seen:
                continue
            seen.add(at)
            unit = self.unit_on(at, day)
            if unit is not None:
                out.setdefault(at, unit)
            else:
                todo.extend(self.successors(at))
        return tuple(out.values())

    def primary(self, code: str, day: date) -> str:
        """The one code valid on ``day`` that ``code`` became along the seats (first successors):
        what a desk hands its open files to.  ``code`` itself when it is valid or cannot be followed."""
        at, seen = code, set()
        while self.unit_on(at, day) is None and self.successors(at) and at not in seen:
            seen.add(at)
            at = self.successors(at)[0]
        return at if self.unit_on(at, day) is not None else code

    def place(self, lon: float, lat: float, day: date) -> Unit | None:
        """The unit valid on ``day`` whose point is the nearest to ``lon``, ``lat`` (units have a point,
        not a boundary: an approximation, good to a few kilometres inside the province)."""
        units = [u for u in self.on(day) if u.lat is not None and u.lon is not None]
        scale = math.cos(math.radians(lat))
        return min(units, key=lambda u: ((u.lon - lon) * scale) ** 2 + (u.lat - lat) ** 2, default=None)

    def admit(self, code: str, day: date) -> str:
        """The code an event of ``day`` is recorded under: ``code`` when it is valid that day (or not a
        unit this province has had: an agency, another province's unit); its one successor valid that
        day when it has ended; else :class:`UnitRejected`."""
        periods = self._by_code.get(code)
        if periods is None or any(u.valid_on(day) for u in periods):
            return code
        ended = [u for u in periods if u.valid_to is not None and u.valid_to < day]
        if not ended:
            first = periods[0]
            raise UnitRejected("unit_not_yet_valid",
                               f"unit_code {code} ({first.name}) is valid from {first.valid_from}, not on {day}")
        unit = ended[-1]
        now = self.current(code, day)
        if len(now) == 1:
            return now[0].code
        if not now:
            raise UnitRejected("unit_ended", f"unit_code {code} ({unit.name}) ended {unit.valid_to}; "
                                             f"no successor is known for {day}")
        names = ", ".join(f"{u.code} {u.name}" for u in now)
        raise UnitRejected("unit_ended", f"unit_code {code} ({unit.name}) ended {unit.valid_to}; on {day} it is "
                                         f"one of {names}: the source must send the new unit")

    def admit_at(self, code: str, when: datetime, tz: object) -> str:
        """:meth:`admit` for the local day of ``when`` in ``tz`` (a tzinfo)."""
        try:
            day = when.astimezone(tz).date()  # type: ignore[arg-type]
        except (OverflowError, ValueError):  # a time at the edge of the calendar (year 1 or 9999): its own day
            day = when.date()
        return self.admit(code, day)
