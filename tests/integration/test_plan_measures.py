"""The plan's targets measured from events through the real worker: the VNeID share and the share of
full-process dossiers filed online, as the wall reads them (events of producers that do not send
``auth_method`` are stored and counted as before, their sign-in as not reported); documents sent
electronically and work records handled online from the e-office's tallies."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import orjson
from psycopg.rows import dict_row

from agents.indicators.dossier_kpi import dossier_kpis, local_month_start
from agents.indicators.health import document_values
from agents.indicators.plan import check_targets, load_plan
from agents.indicators.queries.dossier import DOSSIER_DAYS
from agents.indicators.queries.health import DOCUMENT_MONTH
from tests.support import PLAN_2023, wait_for


def dossier(unit: str, n: int, at: datetime, channel: str, online_kind: str | None, auth: str | None) -> dict:
    ev = {"id": f"{unit}-{n}", "type": "DossierReceived", "dateObserved": at.isoformat(), "dossier_id": f"{unit}-D{n}",
          "procedure_code": "KG.HT.01", "unit_code": unit, "level": "commune", "channel": channel,
          "received_date": at.isoformat(), "due_date": (at + timedelta(days=3)).isoformat()}
    if online_kind:
        ev["online_kind"] = online_kind
    if auth:
        ev["auth_method"] = auth
    return ev


def test_vneid_and_full_process_online_shares_from_events(worker, producer, db):
    unit = f"plan-{uuid.uuid4().hex[:8]}"
    now = datetime.now(timezone.utc) - timedelta(seconds=30)
    events = (
        # full-process procedure: 3 online (2 with VNeID, 1 with a local account), 1 at the counter
        [dossier(unit, i, now, "online", "full_process", auth) for i, auth in enumerate(("vneid", "vneid", "local"))]
        + [dossier(unit, 3, now, "in_person", "full_process", None)]
        # partial procedure, online, from a producer that does not report sign-in (the old contract)
        + [dossier(unit, 4, now, "online", "partial", None)]
        # not online at all
        + [dossier(unit, 5, now, "in_person", None, None)]
    )
    for ev in events:
        producer("dossier", unit, orjson.dumps(ev))
    producer.flush()

    def rows():
        found = [r for r in db.cursor(row_factory=dict_row).execute(DOSSIER_DAYS,
                                                                     {"month_start": local_month_start(now)})
                 if r["unit_code"] == unit]
        return found if sum(r["received"] for r in found) == len(events) else None

    kpi = dossier_kpis(wait_for(rows, timeout=60, what="six dossiers counted"), [], start=local_month_start(now),
                       now=now, by="unit_code")[unit]
    assert (kpi.received, kpi.auth_reported, kpi.auth_vneid) == (6, 3, 2)
    assert kpi.vneid_share == 2 / 3  # of the dossiers whose sign-in was reported
    assert kpi.full_process_online_share == 3 / 4  # 3 of the 4 dossiers of full-process procedures
    stored = db.execute("SELECT count(*) FILTER (WHERE attrs ->> 'auth_method' = 'vneid'), count(*) "
                        "FROM dossier_event WHERE unit_code = %s", (unit,)).fetchone()
    assert stored == (2, 6)  # every event stored, the old-shaped ones too

    values = {("dossier.vneid_share", None): kpi.vneid_share,
              ("dossier.full_process_online_share", None): kpi.full_process_online_share}
    met = {c.measure: c.met for c in check_targets(load_plan(PLAN_2023), values) if (c.measure, None) in values}
    assert met == {"dossier.vneid_share": False, "dossier.full_process_online_share": False}  # 67 % < 80 %, 75 % < 100 %


def tally(unit: str, n: int, at: datetime, level: str, sent: int, electronic: int, work: int, online: int) -> dict:
    return {"id": f"{unit}-t{n}", "type": "DocumentTally", "system": "eoffice", "dateObserved": at.isoformat(),
            "unit_code": unit, "level": level, "documents_sent": sent, "documents_sent_electronic": electronic,
            "work_records": work, "work_records_online": online}


def test_documents_and_work_records_from_the_e_office_tallies(worker, producer, db):
    """A day's tallies only grow: the greatest counts; a repeated or older tally changes nothing."""
    unit = f"plan-{uuid.uuid4().hex[:8]}"
    now = datetime.now(timezone.utc) - timedelta(seconds=30)
    events = [tally(unit, 1, now - timedelta(seconds=20), "commune", 10, 8, 6, 3),
              tally(unit, 2, now, "commune", 20, 19, 10, 7),
              tally(unit, 3, now - timedelta(seconds=10), "commune", 15, 12, 8, 5)]  # older, arriving last
    for ev in events + events[1:2]:  # and one re-sent
        producer("health", "eoffice", orjson.dumps(ev))
    producer.flush()

    def counted():
        row = db.execute("SELECT documents_sent, documents_sent_electronic, work_records, work_records_online "
                         "FROM document_day WHERE unit_code = %s", (unit,)).fetchone()
        return row if row and row[0] == 20 and db.execute(
            "SELECT count(*) FROM health_event WHERE endpoint = %s AND kind = 'tally'", (unit,)).fetchone()[0] == 3 \
            else None

    assert wait_for(counted, timeout=60, what="the day's greatest tally") == (20, 19, 10, 7)
    rows = [r for r in db.cursor(row_factory=dict_row).execute(DOCUMENT_MONTH, {"month_start": local_month_start(now)})]
    assert rows  # the wall's query reads them (with whatever else the run's database holds)
    mine = document_values([{"level": "commune", "documents_sent": 20, "documents_sent_electronic": 19,
                             "work_records": 10, "work_records_online": 7}])
    assert mine[("office.electronic_documents_share", None)] == 0.95
    assert mine[("office.work_records_online_share", "commune")] == 0.7
    met = {(c.measure, c.target.level): c.met for c in check_targets(load_plan(PLAN_2023), mine)
           if c.measure and c.measure.startswith("office.")}
    assert met == {("office.electronic_documents_share", None): False,  # 95 % of 100 %
                   ("office.work_records_online_share", "province"): None,
                   ("office.work_records_online_share", "district"): None,
                   ("office.work_records_online_share", "commune"): True}  # 70 % against 60 %
