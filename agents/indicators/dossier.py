"""Public-service dossier indicators: a state per dossier, and counters per local day.

``dossier_state`` (one row per dossier) holds its standing facts, its status (``in_progress``,
``resolved``, ``returned``, ``withdrawn``), the resolution date and outcome, the digitised
flags, and how it became known (``origin``).  It is what makes counting exact:

* *received* counts once per dossier, on its ``received_date``'s local day, when the first
  event about it is not a carry-over (a DossierProcessed or DossierResolved seen first proves it
  was received; a later DossierReceived, or a re-sent one with a new id, counts nothing);
* a ``DossierCarriedOver`` for a dossier the state does not know creates its state
  (``origin = carried_over``) without counting it as received; *carried over* counts once per
  open dossier and local day, and only when the dossier was received before that day (a
  snapshot sent at start-up in the afternoon does not carry over the morning's dossiers);
* resolved (early / on time / late), returned, withdrawn count once, when an open dossier
  closes; later events about a closed dossier change nothing;
* digitised, online and full-process count with *received* (digitised also when a later event
  first says so); results digitised count with *resolved*;
* the applicant's sign-in counts with *received* too, from the event that counts it: ``auth_reported``
  when it carries ``auth_method``, ``auth_vneid`` when that is ``vneid``.

``dossier_day`` is keyed by the local day (Asia/Ho_Chi_Minh midnight, stored as its UTC
instant), unit, level, channel and online kind (``-`` when not online).  Ratios, the in-progress
split and the plan targets are read-time logic: ``agents/indicators/dossier_kpi.py``.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agents.indicators.tally import fold
from streams.core.windows import local_day_start
from streams.core.contracts import Event
from streams.core.contracts.dossier import (
    DossierBase,
    DossierCarriedOver,
    DossierResolved,
    DossierReturned,
    DossierWithdrawn,
)
from streams.core.tables import CounterTable, FeedSpec, Increments, RawTable, States, StateTable, attrs_json

NOT_ONLINE = "-"
CLOSING = {DossierResolved: "resolved", DossierReturned: "returned", DossierWithdrawn: "withdrawn"}
_FACTS = ("procedure_code", "unit_code", "level", "channel", "online_kind", "received_date", "due_date")
_ATTRS = frozenset({"procedure_name", "step", "reason", "auth_method"})

DOSSIER_EVENT = RawTable(
    "dossier_event",
    (("time", "timestamptz"), ("id", "text"), ("type", "text"), ("dossier_id", "text"),
     ("procedure_code", "text"), ("unit_code", "text"), ("level", "text"), ("channel", "text"),
     ("online_kind", "text"), ("received_date", "timestamptz"), ("due_date", "timestamptz"),
     ("digitised", "boolean"), ("resolved_date", "timestamptz"), ("outcome", "text"),
     ("result_digitised", "boolean"), ("attrs", "jsonb")),
    lambda e: (e.dateObserved, e.id, e.type, e.dossier_id, *(getattr(e, c) for c in _FACTS), e.digitised,
               e.optional("resolved_date"), e.optional("outcome"), e.optional("result_digitised"),
               attrs_json(type(e), _ATTRS)(e)),
)

DOSSIER_DAY = CounterTable(
    "dossier_day",
    key=("time", "unit_code", "level", "channel", "online_kind"),
    sums=("received", "carried_over", "resolved_early", "resolved_on_time", "resolved_late", "returned",
          "withdrawn", "digitised", "results_digitised", "online", "full_process", "auth_reported", "auth_vneid"),
    greatest=("last_event",),
)

DOSSIER_STATE = StateTable(
    "dossier_state",
    key=("dossier_id",),
    columns=(*_FACTS, "digitised", "result_digitised", "status", "resolved_date", "outcome", "closed_at", "origin",
             "carried_day", "last_event"),
    keys_of=lambda fresh: {(e.dossier_id,) for e in fresh},  # type: ignore[attr-defined]
)


def new_state(ev: DossierBase) -> dict[str, Any]:
    return {"dossier_id": ev.dossier_id, **{c: getattr(ev, c) for c in _FACTS}, "digitised": False,
            "result_digitised": False, "status": "in_progress", "resolved_date": None, "outcome": None,
            "closed_at": None, "origin": "carried_over" if isinstance(ev, DossierCarriedOver) else "received",
            "carried_day": None, "last_event": None}


def apply(st: dict[str, Any] | None, ev: DossierBase) -> tuple[dict[str, Any], list[tuple[CounterTable, dict]]]:
    """The dossier's state after one event, and the ``dossier_day`` rows it adds."""
    st, counts = _step(st, ev)
    dims = {"unit_code": st["unit_code"], "level": st["level"], "channel": st["channel"],
            "online_kind": st["online_kind"] or NOT_ONLINE}
    return st, [(DOSSIER_DAY, {"time": day, **dims, **{k: int(v) for k, v in adds.items()}}) for day, adds in counts]


def _step(st: dict[str, Any] | None, ev: DossierBase) -> tuple[dict[str, Any], list[tuple[Any, dict[str, int]]]]:
    """The dossier's state after one event, and the counts it adds: [(day, {counter: n})]."""
    counts: list[tuple[Any, dict[str, int]]] = []
    if st is None:
        st = new_state(ev)
        if st["origin"] == "received":
            counts.append((local_day_start(ev.received_date), {
                "received": 1, "online": ev.channel == "online",
                "full_process": ev.channel == "online" and ev.online_kind == "full_process",
                "auth_reported": ev.auth_method is not None, "auth_vneid": ev.auth_method == "vneid"}))
    else:
        st = dict(st)
    st["last_event"] = max(ev.dateObserved, st["last_event"]) if st["last_event"] else ev.dateObserved
    if ev.digitised and not st["digitised"]:
        st["digitised"] = True
        if st["origin"] == "received":
            counts.append((local_day_start(st["received_date"]), {"digitised": 1}))
    if st["status"] != "in_progress":
        return st, counts  # closed: nothing more counts
    if isinstance(ev, DossierCarriedOver):
        day = local_day_start(ev.dateObserved)
        if st["carried_day"] != day and st["received_date"] < day:
            st["carried_day"] = day
            counts.append((day, {"carried_over": 1}))
    elif type(ev) in CLOSING:
        st["status"] = CLOSING[type(ev)]
        st["closed_at"] = ev.dateObserved
        if isinstance(ev, DossierResolved):
            st.update(resolved_date=ev.resolved_date, outcome=ev.outcome, result_digitised=ev.result_digitised)
            counts.append((local_day_start(ev.resolved_date), {
                f"resolved_{ev.outcome}": 1, "results_digitised": ev.result_digitised}))
        else:
            counts.append((local_day_start(ev.dateObserved), {st["status"]: 1}))
    return st, counts


def dossier_increments(fresh: Sequence[Event], states: States) -> Increments:
    return fold(fresh, states, lambda ev: (ev.dossier_id,), apply, (DOSSIER_DAY,))


DOSSIER_FEED = FeedSpec("dossier", DOSSIER_EVENT, dossier_increments, DOSSIER_STATE, (DOSSIER_DAY,))
