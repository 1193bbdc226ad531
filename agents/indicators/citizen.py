"""Citizen field-report indicators (phản ánh hiện trường): a state per report, counters per day.

``citizen_report`` (one row per report) holds its category, unit, place, the assigned agency and
deadline, when it was reported, assigned, answered and rated, the rating, its status (``new``,
``assigned``, ``responded``, ``closed``) and resolution.  The state makes counting exact:

* *received* counts once per report, on the local day it was reported, with the first event
  about it (whatever its type);
* *responded* counts once per report, with the first response, on the local day of the
  response, for the responding agency: the response time (reported → responded, minutes) goes
  into a mergeable histogram (``streams/core/sketch.py``, 1 to ~84,000 minutes, within 5 %), and
  ``responded_late`` counts responses after the deadline;
* a report's *first* rating counts (ratings, rating sum, satisfied = rating ≥ 4) on the day it
  was given; a later re-rating updates the state only.

Counters per local day (Asia/Ho_Chi_Minh midnight as its UTC instant): ``citizen_day`` per
category and unit, ``citizen_agency_day`` per agency (``-`` when none is known).  Open,
overdue, response-time quantiles, satisfaction and hot spots are read-time logic:
``agents/indicators/citizen_kpi.py``.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from streams.core import sketch
from agents.indicators.tally import fold
from streams.core.windows import local_day_start
from streams.core.contracts import Event
from streams.core.contracts.citizen import (
    CitizenBase,
    ReportAssigned,
    ReportClosed,
    ReportCreated,
    ReportRated,
    ReportResponded,
)
from streams.core.tables import CounterTable, FeedSpec, Increments, RawTable, States, StateTable, attrs_json

NO_AGENCY = "-"
SATISFIED_FROM = 4
_ATTRS = frozenset({"title", "description", "address", "photos", "channel", "response", "comment"})

CITIZEN_EVENT = RawTable(
    "citizen_event",
    (("time", "timestamptz"), ("id", "text"), ("type", "text"), ("report_id", "text"), ("category", "text"),
     ("unit_code", "text"), ("agency", "text"), ("reported_at", "timestamptz"), ("deadline", "timestamptz"),
     ("rating", "smallint"), ("resolution", "text"), ("lon", "double precision"), ("lat", "double precision"),
     ("attrs", "jsonb")),
    lambda e: (e.dateObserved, e.id, e.type, e.report_id, e.category, e.unit_code, e.optional("agency"),
               e.reported_at, e.optional("deadline"), e.optional("rating"),
               e.optional("resolution"), e.location.lon if e.location else None,
               e.location.lat if e.location else None,
               attrs_json(type(e), _ATTRS)(e)),
)

CITIZEN_DAY = CounterTable(
    "citizen_day", key=("time", "category", "unit_code"), sums=("received",), greatest=("last_event",)
)
CITIZEN_AGENCY_DAY = CounterTable(
    "citizen_agency_day",
    key=("time", "agency"),
    sums=("responded", "responded_late", "ratings", "rating_sum", "satisfied"),
    hists=("response_minutes_hist",),
    greatest=("last_event",),
)

CITIZEN_REPORT = StateTable(
    "citizen_report",
    key=("report_id",),
    columns=("category", "unit_code", "lon", "lat", "channel", "agency", "deadline", "reported_at", "assigned_at",
             "responded_at", "rating", "rated_at", "status", "resolution", "closed_at", "last_event"),
    keys_of=lambda fresh: {(e.report_id,) for e in fresh},  # type: ignore[attr-defined]
)


def new_state(ev: CitizenBase) -> dict[str, Any]:
    return {"report_id": ev.report_id, "category": ev.category, "unit_code": ev.unit_code, "lon": None, "lat": None,
            "channel": None, "agency": None, "deadline": None, "reported_at": ev.reported_at, "assigned_at": None,
            "responded_at": None, "rating": None, "rated_at": None, "status": "new", "resolution": None,
            "closed_at": None, "last_event": None}


def response_minutes(reported_at: datetime, responded_at: datetime) -> float:
    return max(0.0, (responded_at - reported_at) / timedelta(minutes=1))


def apply(st: dict[str, Any] | None, ev: CitizenBase) -> tuple[dict[str, Any], list[tuple[Any, dict[str, Any]]]]:
    """The report's state after one event, and what it adds: [(counter table, row values)]."""
    adds: list[tuple[Any, dict[str, Any]]] = []
    at = ev.dateObserved
    if st is None:
        st = new_state(ev)
        adds.append((CITIZEN_DAY, {"time": local_day_start(ev.reported_at), "category": ev.category,
                                   "unit_code": ev.unit_code, "received": 1}))
    else:
        st = dict(st)
    st["last_event"] = max(at, st["last_event"]) if st["last_event"] else at
    if ev.location is not None and (st["lon"] is None or isinstance(ev, ReportCreated)):
        st["lon"], st["lat"] = ev.location.lon, ev.location.lat
    agency = ev.optional("agency")
    if agency is not None:
        st["agency"] = agency
    if (deadline := ev.optional("deadline")) is not None:
        st["deadline"] = deadline
    if isinstance(ev, ReportCreated):
        st["channel"] = ev.channel
    elif isinstance(ev, ReportAssigned):
        st["assigned_at"] = st["assigned_at"] or at
        if st["status"] == "new":
            st["status"] = "assigned"
    elif isinstance(ev, ReportResponded) and st["responded_at"] is None:
        st["responded_at"] = at
        if st["status"] != "closed":
            st["status"] = "responded"
        hist = sketch.empty()
        sketch.add(hist, response_minutes(st["reported_at"], at))
        late = st["deadline"] is not None and at > st["deadline"]
        adds.append((CITIZEN_AGENCY_DAY, {"time": local_day_start(at), "agency": ev.agency, "responded": 1,
                                          "responded_late": int(late), "response_minutes_hist": hist}))
    elif isinstance(ev, ReportRated):
        if st["rating"] is None:
            adds.append((CITIZEN_AGENCY_DAY, {"time": local_day_start(at), "agency": st["agency"] or NO_AGENCY,
                                              "ratings": 1, "rating_sum": ev.rating,
                                              "satisfied": int(ev.rating >= SATISFIED_FROM)}))
        st["rating"], st["rated_at"] = ev.rating, at
    elif isinstance(ev, ReportClosed) and st["status"] != "closed":
        st.update(status="closed", resolution=ev.resolution, closed_at=at)
    return st, adds


def citizen_increments(fresh: Sequence[Event], states: States) -> Increments:
    return fold(fresh, states, lambda ev: (ev.report_id,), apply, (CITIZEN_DAY, CITIZEN_AGENCY_DAY))


CITIZEN_FEED = FeedSpec("citizen", CITIZEN_EVENT, citizen_increments, CITIZEN_REPORT,
                        (CITIZEN_DAY, CITIZEN_AGENCY_DAY))
