"""Each producer counted by the real worker (``producer_window``): valid, re-sent, invalid and late events
of one system; cameras under their network link; and the sources page's and the pager's reading of them."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import orjson

from agents.alerting.derived import source_quiet_values
from agents.indicators.producers import UNKNOWN, load_source_rules, producer_healths
from agents.indicators.queries.sources import PRODUCER_HISTORY, PRODUCER_RECENT
from streams.core.geography import load_province
from tests.support import wait_for

COUNTS = "received, accepted, duplicates, invalid, late, dropped"


def counts(db, family: str, producer: str) -> tuple | None:
    return db.execute(f"SELECT {', '.join(f'sum({c})::int' for c in COUNTS.split(', '))} FROM producer_window "
                      "WHERE family = %s AND producer = %s", (family, producer)).fetchone()


def probe(system: str, i: int, at: datetime, **over) -> dict:
    return {"id": f"{system}-p{i}", "type": "ServiceProbe", "system": system, "endpoint": "/",
            "dateObserved": at.isoformat(), "success": True, "latency_ms": 40.0 + i, **over}


def test_one_system_is_counted_valid_copied_invalid_and_late(worker, producer, db, test_settings):
    system, now = "itest-producer", datetime.now(timezone.utc)
    first = [probe(system, i, now - timedelta(seconds=60 - i)) for i in range(20)]
    producer("health", system, orjson.dumps(first))
    producer.flush()
    wait_for(lambda: counts(db, "health", system) == (20, 20, 0, 0, 0, 0), timeout=60, what="20 probes counted")

    invalid = [probe(system, 100 + i, now, latency_ms="fast") for i in range(3)]
    late = probe(system, 200, now - timedelta(minutes=30))  # behind the partition's newest by more than 10 min
    producer("health", system, orjson.dumps([*first[:5], *invalid, late]))
    producer("health", system, b"{not json")  # nobody can tell who sent it
    producer.flush()
    wait_for(lambda: counts(db, "health", system) == (29, 20, 5, 3, 1, 0), timeout=60,
             what="5 copies, 3 invalid and 1 late counted for the system")
    wait_for(lambda: (counts(db, "health", UNKNOWN) or (0,))[0], timeout=60, what="the unreadable message counted")

    with db.cursor() as cur:
        recent = [dict(zip([c.name for c in cur.description], r)) for r in cur.execute(PRODUCER_RECENT).fetchall()]
        history = [dict(zip([c.name for c in cur.description], r)) for r in cur.execute(PRODUCER_HISTORY).fetchall()]
    (h,) = [h for h in producer_healths(recent, history, datetime.now(timezone.utc)) if h.producer == system]
    assert h.valid == 26 / 29 and h.clean == 20 / 26 and h.live
    assert h.status == "dirty" and h.checks[0] is False and h.checks[2] is False
    values = source_quiet_values(recent, history, load_source_rules(), datetime.now(timezone.utc))
    assert values["source.quiet"][f"health:{system}"] == 0  # nothing expected of it yet: nothing missed


def test_cameras_are_counted_under_their_network_link(worker, producer, db, test_settings):
    province = load_province(test_settings.province_file)
    link = province.cameras[-1].parent
    cams = [c.code for c in province.cameras if c.parent == link][:3]
    now = datetime.now(timezone.utc)
    before = (counts(db, "camera", link) or (0, 0))[1] or 0
    for n, cam in enumerate(cams):
        producer("camera", cam, orjson.dumps([
            {"id": f"itest-prod-{cam}-{i}", "type": "CameraHealth", "camera": cam, "condition": "online",
             "dateObserved": (now - timedelta(seconds=10 - i)).isoformat()} for i in range(n + 2)]))
    producer.flush()
    want = before + sum(n + 2 for n in range(len(cams)))
    wait_for(lambda: ((counts(db, "camera", link) or (0, 0))[1] or 0) >= want, timeout=60,
             what=f"the cameras' events counted under {link}")
    # none under the cameras' own codes (rows other tests of the run wrote arrived before this one began)
    assert db.execute("SELECT count(*) FROM producer_window WHERE family = 'camera' AND producer = ANY(%s) "
                      "AND last_arrival >= %s", (cams, now)).fetchone()[0] == 0
