from datetime import datetime, timedelta, timezone

import pytest

from agents.indicators.deadlines import DueSoon, due_status
from agents.indicators.dossier import DOSSIER_DAY, DOSSIER_FEED, dossier_increments
from agents.indicators.dossier_kpi import dossier_kpis, local_month_start, plan_values
from agents.indicators.plan import check_targets, load_plan
from tests.support import PLAN_2023
from streams.core.contracts.dossier import (
    DossierCarriedOver,
    DossierProcessed,
    DossierReceived,
    DossierResolved,
    DossierReturned,
)
from tests.agents.memory import store, stored

# 27/11/2026 local midnight is 26/11 17:00 UTC
DAY = datetime(2026, 11, 26, 17, 0, tzinfo=timezone.utc)
NEXT = DAY + timedelta(days=1)
T0 = DAY + timedelta(hours=2)  # 09:00 local
FACTS = dict(procedure_code="KG.HT.01", unit_code="30787", level="commune", channel="online",
             online_kind="full_process")


def ev(cls, n, did="D-1", at=T0, received=T0, due=T0 + timedelta(days=3), **kw):
    return cls(id=f"{did}:{n}", type=cls.__name__, dossier_id=did, dateObserved=at, received_date=received,
               due_date=due, **{**FACTS, **kw})


def counts(incs):
    out = {}
    for row in incs.rows.get(DOSSIER_DAY, []):
        for c in DOSSIER_DAY.sums:
            if row[c]:
                out[(row["time"], c)] = out.get((row["time"], c), 0) + row[c]
    return out


def test_a_dossier_counts_once_whatever_is_re_sent():
    later = T0 + timedelta(days=4)  # after the due date: late
    events = [
        ev(DossierReceived, 1, digitised=True),
        ev(DossierProcessed, 2, at=T0 + timedelta(hours=1), step="Thụ lý", digitised=True),
        ev(DossierProcessed, 3, at=T0 + timedelta(hours=2), step="Thụ lý", digitised=True),
        ev(DossierReceived, 4, at=T0 + timedelta(hours=3), digitised=True),  # re-sent with a new id
        ev(DossierResolved, 5, at=later, resolved_date=later, outcome="late", result_digitised=True, digitised=True),
        ev(DossierResolved, 6, at=later, resolved_date=later, outcome="late", result_digitised=True, digitised=True),
        ev(DossierReturned, 7, at=later, reason="x"),  # closed already: nothing
    ]
    incs = dossier_increments(events, {})
    resolved_day = DAY + timedelta(days=4)
    assert counts(incs) == {(DAY, "received"): 1, (DAY, "online"): 1, (DAY, "full_process"): 1,
                            (DAY, "digitised"): 1, (resolved_day, "resolved_late"): 1,
                            (resolved_day, "results_digitised"): 1}
    st = incs.states[("D-1",)]
    assert (st["status"], st["outcome"], st["origin"]) == ("resolved", "late", "received")


def test_carried_over_creates_state_without_counting_received():
    before = DAY - timedelta(days=2)
    events = [
        ev(DossierCarriedOver, 1, at=DAY + timedelta(seconds=5), received=before),
        ev(DossierCarriedOver, 2, at=DAY + timedelta(hours=7), received=before),  # a restart's snapshot, same day
        ev(DossierReceived, 3, at=DAY + timedelta(hours=8), received=before),  # too late to count
        ev(DossierCarriedOver, 4, at=NEXT + timedelta(seconds=5), received=before),
        ev(DossierResolved, 5, at=NEXT + timedelta(hours=3), received=before, resolved_date=NEXT + timedelta(hours=3),
           outcome="early"),
    ]
    incs = dossier_increments(events, {})
    assert counts(incs) == {(DAY, "carried_over"): 1, (NEXT, "carried_over"): 1, (NEXT, "resolved_early"): 1}
    assert incs.states[("D-1",)]["origin"] == "carried_over"


def test_a_snapshot_does_not_carry_over_a_dossier_received_the_same_day():
    events = [ev(DossierReceived, 1), ev(DossierCarriedOver, 2, at=T0 + timedelta(hours=5))]
    assert counts(dossier_increments(events, {})) == {(DAY, "received"): 1, (DAY, "online"): 1,
                                                      (DAY, "full_process"): 1}


def test_first_seen_processing_counts_the_dossier_as_received_once():
    events = [ev(DossierProcessed, 1, step="Thụ lý", channel="in_person", online_kind=None),
              ev(DossierReceived, 2, channel="in_person", online_kind=None)]
    incs = dossier_increments(events, {})
    assert counts(incs) == {(DAY, "received"): 1}
    assert {r["online_kind"] for r in incs.rows[DOSSIER_DAY]} == {"-"}


def test_local_day_boundary():
    late_evening = DAY + timedelta(hours=23, minutes=30)  # 23:30 local
    incs = dossier_increments([ev(DossierReceived, 1, at=late_evening, received=late_evening)], {})
    assert {r["time"] for r in incs.rows[DOSSIER_DAY]} == {DAY}
    assert local_month_start(T0) == datetime(2026, 10, 31, 17, 0, tzinfo=timezone.utc)


def test_about_to_be_late_is_the_smaller_of_a_day_and_a_fifth_of_the_term():
    start = T0
    month = start + timedelta(days=30)
    assert due_status(start, month, month - timedelta(hours=25)) == "not_due"
    assert due_status(start, month, month - timedelta(hours=23)) == "due_soon"
    day = start + timedelta(days=1)  # 20 % of a day: 4.8 hours
    assert due_status(start, day, day - timedelta(hours=5)) == "not_due"
    assert due_status(start, day, day - timedelta(hours=4)) == "due_soon"
    assert due_status(start, day, day + timedelta(seconds=1)) == "late"
    assert due_status(start, day, day - timedelta(hours=5), DueSoon(share=0.5)) == "due_soon"


def day_row(time, unit="899", level="district", **sums):
    row = {"time": time, "unit_code": unit, "level": level, "channel": "online", "online_kind": "partial"}
    return row | {c: sums.get(c, 0) for c in DOSSIER_DAY.sums}


def test_kpis_per_unit_from_counters_and_open_dossiers():
    now = NEXT + timedelta(hours=10)
    rows = [
        day_row(DAY - timedelta(days=1), received=50, carried_over=7),  # before the period: ignored
        day_row(DAY, received=10, carried_over=5, online=6, full_process=2, digitised=3, resolved_early=2,
                resolved_on_time=3, resolved_late=1, results_digitised=2),
        day_row(NEXT, received=10, carried_over=4, online=4, digitised=1, resolved_on_time=4, returned=1),
        day_row(DAY, unit="30787", level="commune", received=4, online=1),
    ]
    open_rows = [
        {"unit_code": "899", "level": "district", "status": "in_progress", "received_date": DAY - timedelta(days=10),
         "due_date": now - timedelta(hours=1)},  # late
        {"unit_code": "899", "level": "district", "status": "in_progress", "received_date": DAY - timedelta(days=10),
         "due_date": now + timedelta(hours=12)},  # about to be late
        {"unit_code": "899", "level": "district", "status": "in_progress", "received_date": DAY,
         "due_date": now + timedelta(days=9)},  # not yet due
    ]
    k = dossier_kpis(rows, open_rows, start=DAY, now=now)["899"]
    assert (k.received, k.carried_over, k.to_process) == (20, 5, 25)
    assert (k.in_progress_late, k.in_progress_due_soon, k.in_progress_not_due) == (1, 1, 1)
    assert (k.resolved_early, k.resolved_on_time, k.resolved_late, k.returned) == (2, 7, 1, 1)
    assert k.late_rate == pytest.approx(2 / 25)
    assert k.on_time_rate == pytest.approx(9 / 10)
    assert (k.online_share, k.full_process_share, k.digitisation_rate) == (0.5, 0.1, 0.2)
    assert k.results_digitisation_rate == pytest.approx(0.2)
    levels = dossier_kpis(rows, open_rows, start=DAY, now=now, by="level")
    assert levels["commune"].online_share == 0.25 and levels["commune"].late_rate == 0
    assert dossier_kpis(rows, [], start=DAY, now=now, by=None)[None].received == 24


def test_a_period_whose_first_days_have_no_data_takes_the_first_day_with_data():
    """A database started mid-month: the open dossiers of its first day stand for 'carried over'."""
    start = DAY - timedelta(days=10)
    rows = [day_row(DAY, received=10, carried_over=30), day_row(NEXT, received=10, carried_over=25)]
    k = dossier_kpis(rows, [], start=start, now=NEXT + timedelta(hours=1))["899"]
    assert (k.carried_over, k.to_process) == (30, 50)


def test_plan_targets_from_the_data_file():
    plan = load_plan(PLAN_2023)
    assert (plan.number, plan.issued.isoformat(), plan.year) == ("274/KH-UBND", "2022-12-30", 2023)
    digit = {t.level: t.value for t in plan.targets if t.key == "digitisation"}
    assert digit == {"province": 0.3, "district": 0.2, "commune": 0.15}
    values = {("dossier.online_share", None): 0.55, ("dossier.digitisation_rate", "province"): 0.25,
              ("dossier.digitisation_rate", "commune"): 0.15, ("citizen.satisfaction_share", None): 0.9}
    checks = {(c.target.key, c.measure, c.target.level): c.met for c in check_targets(plan, values)}
    assert checks[("dossiers_online", "dossier.online_share", None)] is True
    assert checks[("digitisation", "dossier.digitisation_rate", "province")] is False
    assert checks[("digitisation", "dossier.digitisation_rate", "commune")] is True  # reached at the value
    assert checks[("digitisation", "dossier.results_digitisation_rate", "commune")] is None  # no value
    assert checks[("satisfaction", "citizen.satisfaction_share", None)] is False  # "trên 90 %": above it
    assert checks[("systems_classified", "register.classified_share", None)] is None  # no register value given
    assert checks[("auto_filled_forms", None, None)] is None  # not measured by any feed
    assert checks[("full_process_services", "dossier.full_process_online_share", None)] is None  # no value given


def test_plan_values_feed_the_checks():
    k = dossier_kpis([day_row(DAY, level="province", received=10, digitised=4)], [], start=DAY, now=NEXT,
                     by="level")
    values = plan_values(k, k["province"])
    met = {(c.measure, c.target.level): c.met for c in check_targets(load_plan(PLAN_2023), values)}
    assert met[("dossier.digitisation_rate", "province")] is True  # 40 % against 30 %


async def test_replays_and_batching_change_nothing():
    events = []
    for i in range(40):
        did = f"D-{i}"
        received = T0 + timedelta(minutes=7 * i)
        events.append(ev(DossierReceived, 0, did=did, at=received, received=received, digitised=i % 3 == 0))
        if i % 4 == 0:
            events.append(ev(DossierProcessed, 1, did=did, at=received + timedelta(hours=1), received=received,
                             step="Thụ lý"))
        if i % 2 == 0:
            done = received + timedelta(hours=30)
            events.append(ev(DossierResolved, 2, did=did, at=done, received=received, resolved_date=done,
                             outcome="on_time" if done.date() == (received + timedelta(days=3)).date() else "early"))
        events.append(ev(DossierCarriedOver, 3, did=f"C-{i}", at=NEXT + timedelta(seconds=i), received=DAY))
    events.sort(key=lambda e: e.dateObserved)
    once = stored(await store(DOSSIER_FEED, events))
    cut = [events[i:i + 9] for i in range(0, len(events), 9)]
    assert stored(await store(DOSSIER_FEED, *cut, events, events[::2])) == once


def test_a_unit_late_rate_is_an_indicator_only_over_enough_dossiers():
    """One late dossier of three is 33 %: it pages nobody until the unit has 20 dossiers to process."""
    from agents.indicators.dossier_kpi import LATE_RATE_MIN_DOSSIERS, DossierKpi, dossier_indicators

    small = DossierKpi(carried_over=3, in_progress_late=1)
    big = DossierKpi(carried_over=LATE_RATE_MIN_DOSSIERS, in_progress_late=4)
    values = dossier_indicators({"small": small, "big": big, None: big})
    assert small.late_rate == pytest.approx(1 / 3)
    assert values["dossier.late_rate"] == {"big": pytest.approx(4 / LATE_RATE_MIN_DOSSIERS)}
    assert set(values["dossier.about_to_be_late"]) == {"small", "big"}
