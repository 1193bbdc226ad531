"""Citizen field-report feed (phản ánh hiện trường): created, assigned, responded, rated, closed.

Citizens report around the clock, mostly by day, more in the cities; the IOC assigns each
report to an agency in office hours, with a deadline by category; agencies answer, each late
at a share of its own; some citizens rate the answer; reports are closed.  Each report's next
step is scheduled when it enters a stage, so response times are real durations; the rate
budget drives only new reports (about three more events follow each).  Drills use
``force``: a hot spot of reports at a place, or an agency that stops answering.
"""
from __future__ import annotations

import heapq
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from simulators.base import Event, iso
from simulators.common import count, hex_id, point, traffic_factor, units_at, within
from simulators.health import office_factor
from streams.core.clock import LOCAL_TZ
from streams.core.geography import Province, Unit

CATEGORY_WEIGHTS = {"environment": 15, "traffic": 12, "urban_order": 18, "infrastructure": 15, "electricity": 8,
                    "water_supply": 7, "flooding": 6, "security_order": 6, "land": 5, "health": 3, "education": 2,
                    "other": 3}
TITLES = {
    "environment": ("Rác thải tập kết sai nơi quy định", "Khói bụi từ cơ sở sản xuất gây ô nhiễm"),
    "traffic": ("Đèn tín hiệu giao thông bị hỏng", "Xe tải đậu chiếm lòng đường"),
    "urban_order": ("Lấn chiếm vỉa hè để kinh doanh", "Xây dựng công trình không phép"),
    "infrastructure": ("Mặt đường xuống cấp, nhiều ổ gà", "Cầu giao thông nông thôn hư hỏng"),
    "electricity": ("Mất điện kéo dài chưa khắc phục", "Dây điện võng thấp nguy hiểm"),
    "water_supply": ("Nước sinh hoạt bị đục, có mùi", "Vỡ ống cấp nước trên tuyến đường"),
    "flooding": ("Ngập nước kéo dài sau mưa", "Triều cường tràn qua bờ kè"),
    "security_order": ("Tụ tập gây mất trật tự ban đêm", "Nghi vấn trộm cắp tài sản"),
    "land": ("Tranh chấp ranh giới đất", "San lấp đất nông nghiệp trái phép"),
    "health": ("Cơ sở kinh doanh thực phẩm mất vệ sinh", "Chưa phun thuốc diệt muỗi trong khu dân cư"),
    "education": ("Thu các khoản ngoài quy định", "Phòng học xuống cấp, mất an toàn"),
    "other": ("Kiến nghị khác của người dân",),
}
RESPONSES = ("Đơn vị đã kiểm tra thực tế, xử lý dứt điểm và thông báo đến người phản ánh.",
             "Đã chỉ đạo lực lượng chức năng khắc phục; đề nghị người dân tiếp tục phối hợp theo dõi.",
             "Nội dung phản ánh không thuộc thẩm quyền, đã chuyển đơn vị có liên quan xử lý.")
CHANNELS = {"app": 60, "web": 15, "hotline": 15, "social": 10}
EVENTS_PER_REPORT = 3.0  # about: created, assigned, responded, (rated), closed over a day's rhythm
RATINGS = {False: (3, 5, 12, 35, 45), True: (20, 25, 25, 20, 10)}  # by "answered late", for 1..5 stars
FORCED = ("hotspot", "unresponsive")


@dataclass(slots=True)
class Report:
    id: str
    category: str
    unit: str
    location: dict[str, Any]
    reported: datetime
    agency: str | None = None
    deadline: datetime | None = None
    late: bool = False


class CitizenSimulator:
    family = "citizen"
    #: an agency that stops answering is a state; a hot spot's reports are not shared (they would come twice)
    shared_conditions = frozenset({"unresponsive"})
    weight = 0.002

    def __init__(self, province: Province, rng: random.Random) -> None:
        self.rng = rng
        self.bounds = province.bounds
        self.province = province
        self.units = {u.code: u for u in (*province.divisions.units, *province.units)}  # any day's, by code
        self._day: date | None = None
        self._valid_on(units_at(province, date.max))
        settings = province.extra.get("citizen_reports") or {}
        self.deadline_h: dict[str, float] = settings.get("deadline_hours") or {"default": 72}
        district = set(settings.get("district_categories") or ())
        self.handlers = {cat: [a.code for a in province.agencies if cat in a.categories] for cat in CATEGORY_WEIGHTS}
        self.by_district = [cat for cat in CATEGORY_WEIGHTS if cat in district or not self.handlers[cat]]
        agencies = [a.code for a in province.agencies] + list(self.units)
        self.late_share = {a: rng.uniform(0.03, 0.25) for a in agencies}
        self._steps: list[tuple[datetime, int, str, Report]] = []  # (when, seq, step, report)
        self.hotspots: dict[str, tuple[dict[str, Any], str | None, float]] = {}
        self.unresponsive: list[str] = []
        self._seq = 0

    def _valid_on(self, units: tuple[Unit, ...]) -> None:
        """Reports come from ``units``; towns and wards more than the countryside."""
        self.units.update((u.code, u) for u in units)
        self._unit_codes = [u.code for u in units]
        self._unit_weights = [3 if u.kind in ("city", "ward") else 1 for u in units]

    def _follow(self, ts: datetime) -> None:
        """Name the units valid at ``ts`` (events are made in time order)."""
        day = ts.astimezone(LOCAL_TZ).date()
        if day != self._day:
            self._day = day
            self._move_to(day)

    def _move_to(self, day: date) -> None:
        """The units valid on ``day``; a pending report of a unit that ended goes on at the unit that
        kept its seat, and so does its answer when the unit was to give it."""
        units = units_at(self.province, day)
        if [u.code for u in units] == self._unit_codes:
            return
        self._valid_on(units)
        valid, primary = set(self._unit_codes), self.province.divisions.primary
        for _, _, _, r in self._steps:
            if r.unit not in valid:
                if r.agency == r.unit:
                    r.agency = primary(r.unit, day)
                r.unit = primary(r.unit, day)
        self.hotspots = {t if t in valid else primary(t, day): h for t, h in self.hotspots.items()}

    # -- control, used by drills ------------------------------------------------------------
    def force(self, target: str, condition: str | None, *, category: str | None = None, rate: float = 0.2) -> None:
        """``hotspot`` on a unit (reports at ``rate``/s at one place) or ``unresponsive`` on an agency."""
        if condition not in (*FORCED, None):
            raise ValueError(f"unknown condition {condition!r}; known: {', '.join(FORCED)}")
        if condition == "hotspot":
            if target not in self.units:
                raise ValueError(f"unknown unit {target!r}")
            if category is not None and category not in CATEGORY_WEIGHTS:
                raise ValueError(f"unknown category {category!r}; known: {', '.join(CATEGORY_WEIGHTS)}")
            u = self.units[target]
            self.hotspots[target] = (point(round(u.lon + 0.004, 5), round(u.lat + 0.003, 5)), category, rate)
        elif condition == "unresponsive":
            if target not in self.late_share:
                raise ValueError(f"unknown agency {target!r}")
            self.unresponsive.append(target)
        else:
            self.hotspots.pop(target, None)
            self.unresponsive = [a for a in self.unresponsive if a != target]

    def key_of(self, event: Event) -> str:
        return event["report_id"]

    # -- reports ----------------------------------------------------------------------------
    def _place(self, unit: str, spread: float) -> dict[str, Any]:
        u, b, rng = self.units[unit], self.bounds, self.rng
        lon = min(b.max_lon, max(b.min_lon, round(u.lon + rng.gauss(0, spread), 5)))
        lat = min(b.max_lat, max(b.min_lat, round(u.lat + rng.gauss(0, spread), 5)))
        return point(lon, lat)

    def _event(self, r: Report, type_: str, ts: datetime, **extra: Any) -> Event:
        ev = {"id": hex_id(self.rng, 96), "type": type_, "dateObserved": iso(ts), "report_id": r.id,
              "category": r.category, "unit_code": r.unit, "reported_at": iso(r.reported), "location": r.location}
        ev.update(extra)
        return ev

    def _create(self, ts: datetime, unit: str | None = None, spot: dict[str, Any] | None = None,
                category: str | None = None) -> Event:
        rng = self.rng
        self._follow(ts)
        unit = unit or rng.choices(self._unit_codes, weights=self._unit_weights)[0]
        category = category or rng.choices(list(CATEGORY_WEIGHTS), weights=list(CATEGORY_WEIGHTS.values()))[0]
        if spot:
            location = point(round(spot["coordinates"][0] + rng.gauss(0, 0.001), 5),
                             round(spot["coordinates"][1] + rng.gauss(0, 0.001), 5))
        else:
            location = self._place(unit, 0.02)
        self._seq += 1
        r = Report(f"PAHT-{ts.astimezone(LOCAL_TZ):%y%m%d}-{self._seq:06d}-{hex_id(rng, 16)}", category, unit, location, ts)
        self._later(ts + timedelta(hours=rng.lognormvariate(0.4, 0.8)), "assign", r)
        day = ts.astimezone(LOCAL_TZ)
        photos = [f"pakn/{day:%Y/%m/%d}/{hex_id(rng, 64)}.jpg" for _ in range(rng.choice((0, 1, 1, 2, 3)))]
        title = rng.choice(TITLES[category])
        return self._event(r, "ReportCreated", ts, title=title, photos=photos,
                           description=f"{title} tại {self.units[unit].name}. Đề nghị cơ quan chức năng kiểm tra, xử lý.",
                           channel=rng.choices(list(CHANNELS), weights=list(CHANNELS.values()))[0])

    def _later(self, when: datetime, step: str, r: Report) -> None:
        self._seq += 1
        heapq.heappush(self._steps, (when, self._seq, step, r))

    def _assign(self, r: Report, ts: datetime) -> list[Event]:
        rng = self.rng
        handlers = self.handlers[r.category]
        r.agency = r.unit if r.category in self.by_district and (not handlers or rng.random() < 0.6) \
            else rng.choice(handlers)
        r.deadline = ts + timedelta(hours=self.deadline_h.get(r.category, self.deadline_h.get("default", 72)))
        if rng.random() < self.late_share.get(r.agency, 0.1):
            self._later(r.deadline + timedelta(hours=rng.uniform(2, 72)), "respond", r)
        else:
            self._later(ts + (r.deadline - ts) * rng.uniform(0.05, 0.95), "respond", r)
        return [self._event(r, "ReportAssigned", ts, agency=r.agency, deadline=iso(r.deadline))]

    def _respond(self, r: Report, ts: datetime) -> list[Event]:
        rng = self.rng
        if r.agency in self.unresponsive:
            self._later(ts + timedelta(hours=1), "respond", r)
            return []
        r.late = r.deadline is not None and ts > r.deadline
        if rng.random() < 0.4:
            self._later(ts + timedelta(hours=rng.uniform(0.5, 24)), "rate", r)
        self._later(ts + timedelta(hours=rng.uniform(24, 48)), "close", r)
        return [self._event(r, "ReportResponded", ts, agency=r.agency, response=rng.choice(RESPONSES),
                            deadline=iso(r.deadline))]

    def _rate(self, r: Report, ts: datetime) -> list[Event]:
        rating = self.rng.choices((1, 2, 3, 4, 5), weights=RATINGS[r.late])[0]
        extra = {"comment": "Cảm ơn cơ quan đã xử lý kịp thời."} if rating >= 4 and self.rng.random() < 0.3 else {}
        return [self._event(r, "ReportRated", ts, agency=r.agency, rating=rating, **extra)]

    def _close(self, r: Report, ts: datetime) -> list[Event]:
        resolution = self.rng.choices(("resolved", "rejected", "duplicate", "out_of_scope"), weights=(88, 4, 5, 3))[0]
        return [self._event(r, "ReportClosed", ts, agency=r.agency, resolution=resolution)]

    def _due_steps(self, now: datetime) -> list[Event]:
        """Steps due by now; assigning, answering and closing wait for office hours."""
        events: list[Event] = []
        office = office_factor(now) >= 1.0
        deferred = []
        while self._steps and self._steps[0][0] <= now:
            when, _, step, r = heapq.heappop(self._steps)
            if step != "rate" and not office:
                deferred.append((step, r))
                continue
            at = max(when, now - timedelta(seconds=1))
            self._follow(at)
            events.extend(self.STEPS[step](self, r, at))
        for step, r in deferred:  # try again in half an hour
            self._later(now + timedelta(minutes=30), step, r)
        return events

    STEPS = {"assign": _assign, "respond": _respond, "rate": _rate, "close": _close}

    def tick(self, now: datetime, dt: float, n: int) -> list[Event]:
        rng = self.rng
        events = self._due_steps(now)
        for ts in sorted(within(rng, now, dt) for _ in range(count(rng, n * (traffic_factor(now) + 0.1) / EVENTS_PER_REPORT))):
            events.append(self._create(ts))
        for unit, (spot, category, rate) in self.hotspots.items():
            for _ in range(count(rng, rate * dt)):
                events.append(self._create(within(rng, now, dt), unit, spot, category))
        return events
