"""The archive of generated reports (``report_archive``): files kept in the database with who made
them and when, listed newest first, and e-mailed through the notification outbox."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from agents.indicators.ops_report import Period
from streams.db.connect import connect

_LIST = ("SELECT id, kind, period, first_day, last_day, lang, format, size, sha256, generated_at, generated_by "
         "FROM report_archive ORDER BY generated_at DESC, id DESC LIMIT %s")
_HAS = "SELECT 1 FROM report_archive WHERE kind = %s AND period = %s AND lang = %s AND format = %s LIMIT 1"
_FILE = ("SELECT id, kind, period, first_day, last_day, lang, format, size, sha256, generated_at, generated_by, "
         "content FROM report_archive WHERE id = %s")
_SAVE = ("INSERT INTO report_archive (kind, period, first_day, last_day, lang, format, content, size, sha256, "
         "generated_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id")
_MAIL = ("INSERT INTO notification_outbox (alert_id, channel, receiver, payload) VALUES (NULL, 'email', %s, %s) "
         "RETURNING id")


@dataclass(frozen=True, slots=True)
class Archived:
    id: int
    kind: str
    period: str
    lang: str
    format: str
    size: int
    generated_at: datetime
    generated_by: str


class ReportArchive:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn

    def _conn(self):
        return connect(self.dsn, what="report archive", role="reports", dict_rows=True)

    def has(self, period: Period, lang: str, fmt: str) -> bool:
        with self._conn() as conn:
            return conn.execute(_HAS, (period.kind, period.label, lang, fmt)).fetchone() is not None

    def save(self, period: Period, lang: str, fmt: str, content: bytes, by: str) -> int:
        with self._conn() as conn, conn.transaction():
            row = conn.execute(_SAVE, (period.kind, period.label, period.first, period.last, lang, fmt, content,
                                       len(content), hashlib.sha256(content).hexdigest(), by)).fetchone()
        return int(row["id"])

    def recent(self, limit: int = 100) -> list[Archived]:
        with self._conn() as conn:
            return [Archived(r["id"], r["kind"], r["period"], r["lang"], r["format"], r["size"], r["generated_at"],
                             r["generated_by"]) for r in conn.execute(_LIST, (limit,)).fetchall()]

    def file(self, report_id: int) -> dict[str, Any] | None:
        with self._conn() as conn:
            return conn.execute(_FILE, (report_id,)).fetchone()

    def mail(self, receiver: str, subject: str, body: str, report_ids: list[int]) -> int:
        """An e-mail to the on-call file's ``receiver`` through the outbox (the notifier sends it)."""
        payload = {"message": {"subject": subject, "body": body}, "reports": report_ids}
        with self._conn() as conn, conn.transaction():
            return int(conn.execute(_MAIL, (receiver, Jsonb(payload))).fetchone()["id"])
