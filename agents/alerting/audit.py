"""The audit trails as CSV for a range of days: the alert history, sign-ins, and changes to users,
tokens, the register and the rest (``auth_event``).

A range is given in local days (``Asia/Ho_Chi_Minh``), both ends included.  Rows are read with a
server-side cursor and written as they come, so a year of history never sits in memory.  Text that
a spreadsheet would take for a formula (``=``, ``+``, ``-``, ``@`` and a tab or return first) gets a
leading apostrophe: a user name tried at the sign-in page is attacker-chosen.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import orjson

from streams.core.clock import LOCAL_TZ
from streams.core.errors import InputError
from streams.db.connect import connect

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BATCH = 2_000  # rows fetched from the server per round trip


@dataclass(frozen=True, slots=True)
class Trail:
    name: str
    title: str  # what the file holds, for the file name and the page
    columns: tuple[str, ...]
    query: str  # %(since)s, %(until)s: a half-open range of instants


TRAILS: dict[str, Trail] = {t.name: t for t in (
    Trail("alerts", "alert-history",
          ("event_id", "at", "alert_id", "rule", "entity", "severity", "kind", "actor", "detail"),
          "SELECT e.id AS event_id, e.at, e.alert_id, a.rule, a.entity, a.severity, e.kind, e.actor, e.detail "
          "FROM alert_event e JOIN alert a ON a.id = e.alert_id "
          "WHERE e.at >= %(since)s AND e.at < %(until)s ORDER BY e.at, e.id"),
    Trail("signins", "sign-ins",
          ("id", "at", "username", "address", "outcome", "user_agent"),
          "SELECT id, at, username, address, outcome, user_agent FROM login_attempt "
          "WHERE at >= %(since)s AND at < %(until)s ORDER BY at, id"),
    Trail("changes", "user-and-audit-changes",
          ("id", "at", "actor", "kind", "subject", "detail"),
          "SELECT id, at, actor, kind, subject, detail FROM auth_event "
          "WHERE at >= %(since)s AND at < %(until)s ORDER BY at, id"),
)}


def trail(name: str) -> Trail:
    try:
        return TRAILS[name]
    except KeyError:
        raise InputError(f"unknown audit trail {name!r}: one of {', '.join(TRAILS)}") from None


def parse_day(text: str | None, what: str) -> date:
    if not (text or "").strip():
        raise InputError(f"{what}: missing: give a day (YYYY-MM-DD)")
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        raise InputError(f"{what}: {text!r} is not a day (YYYY-MM-DD)") from None


def day_range(first: date, last: date) -> tuple[datetime, datetime]:
    """The instants of local days ``first`` … ``last`` (both included), as a half-open range."""
    if last < first:
        raise InputError(f"the range ends ({last}) before it starts ({first})")
    since = datetime.combine(first, time(), LOCAL_TZ)
    return since, datetime.combine(last + timedelta(days=1), time(), LOCAL_TZ)


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(LOCAL_TZ).isoformat(timespec="seconds")
    if isinstance(value, (dict, list)):
        text = orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    else:
        text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_chunks(columns: Iterable[str], rows: Iterable[Mapping[str, Any]], *, every: int = 500) -> Iterator[bytes]:
    """The CSV file in pieces: a byte-order mark and the header first (so a spreadsheet reads UTF-8),
    then ``every`` rows per piece."""
    columns = tuple(columns)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    out.write("\ufeff")
    writer.writerow(columns)
    n = 0
    for row in rows:
        writer.writerow([cell(row.get(c)) for c in columns])
        n += 1
        if n % every == 0:
            yield out.getvalue().encode("utf-8")
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode("utf-8")


def rows(dsn: str, which: Trail, since: datetime, until: datetime) -> Iterator[dict[str, Any]]:
    """The trail's rows in the range, oldest first, read in batches with a server-side cursor."""
    with connect(dsn, what="cannot read the audit trail", role="audit", dict_rows=True) as conn:
        with conn.cursor(name=f"audit_{which.name}") as cur:
            cur.itersize = BATCH
            cur.execute(which.query, {"since": since, "until": until})
            yield from cur


def file_name(which: Trail, first: date, last: date) -> str:
    return f"{which.title}-{first.isoformat()}-{last.isoformat()}.csv"
