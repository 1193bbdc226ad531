"""Producer counters of a whole province, for the sources page: every system, security device, camera link,
station, unit, agency and network link of the province file sending at its usual rate over the last two
hours and the same hours of the last four weeks, with a few that are wrong (silent, copying, invalid,
short)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

from agents.indicators.producers import UNKNOWN, WEEK
from streams.core.geography import Province
from streams.core.windows import window_start
from streams.core.tables import PRODUCER_WINDOW_S

INSERT = """
INSERT INTO producer_window (time, family, producer, received, accepted, duplicates, invalid, late, dropped,
                             last_event, last_arrival)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT DO NOTHING
RETURNING family, producer, time
"""


def producers(province: Province) -> dict[tuple[str, str], int]:
    """(family, producer) -> events per hour."""
    out = {("health", s.code): 720 for s in province.systems}
    out.update({("security", d["code"]): 300 for d in province.extra.get("security_devices") or ()})
    out.update({("security", s.code): 60 for s in province.systems[:4]})
    out.update({("camera", link): 24 * n for link, n in _links(province).items()})
    out.update({("sensor", s.code): 60 for s in province.stations})
    out.update({("dossier", u.code): 24 for u in province.units})
    out.update({("citizen", a.code): 6 for a in province.agencies})
    out.update({("network", n.code): 120 for n in province.networks})
    return out


def _links(province: Province) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in province.cameras:
        out[c.parent] = out.get(c.parent, 0) + 1
    return out


def rows(province: Province, now: datetime) -> list[tuple]:
    """The counter rows: 10-minute windows of the last two hours and of the same two hours 1–4 weeks back."""
    rates = producers(province)
    stations = [s.code for s in province.stations]
    silent = {("sensor", stations[0]): timedelta(minutes=40), ("camera", next(iter(_links(province)))): timedelta(hours=3)}
    copies = {("network", province.networks[-1].code)}
    invalid = {("health", province.systems[-1].code)}
    short = {("dossier", province.units[0].code)}
    current = window_start(now, PRODUCER_WINDOW_S)
    h0 = now.replace(minute=0, second=0, microsecond=0)
    out = []
    for back in range(5):
        newest = current if back == 0 else h0 + timedelta(minutes=50) - back * WEEK  # past weeks: whole hours
        for i in range(13 if back == 0 else 12):
            start = newest - i * timedelta(seconds=PRODUCER_WINDOW_S)
            for key, per_hour in rates.items():
                n = per_hour // 6
                if key in short and back == 0:
                    n //= 2
                if back == 0 and key in silent and now - start < silent[key]:
                    continue
                dups = n // 8 if back == 0 and key in copies else 0
                bad = n // 20 if back == 0 and key in invalid else 0
                arrival = min(now - timedelta(seconds=3), start + timedelta(seconds=PRODUCER_WINDOW_S - 5))
                out.append((start, *key, n + dups + bad, n, dups, bad, 0, 0, arrival - timedelta(seconds=1), arrival))
    out.append((current, "security", UNKNOWN, 4, 0, 0, 4, 0, 0, None, now - timedelta(seconds=30)))
    return out


@contextmanager
def seeded_producers(db, province: Province) -> Iterator[None]:
    """The rows inserted for the time of the test; only the rows this inserted are deleted afterwards."""
    made = []
    with db.cursor() as cur:
        for row in rows(province, datetime.now(timezone.utc)):
            cur.execute(INSERT, row)
            made += cur.fetchall()
    try:
        yield
    finally:
        with db.cursor() as cur:
            cur.executemany("DELETE FROM producer_window WHERE family = %s AND producer = %s AND time = %s", made)
