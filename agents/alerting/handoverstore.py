"""The shift handover log in TimescaleDB (``shift_handover``, migration 043).

An operator writes a handover at the end of a shift — to whom, notes — saved with a snapshot of the
open alerts and the incidents not closed (``IncidentStore.shift_state``); the incoming operator, not
its writer, acknowledges it.  Both are audited in ``auth_event`` (``handover_written``,
``handover_acknowledged``, subject ``handover:<id>``) besides the row's own who and when.
"""
from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any

from psycopg.types.json import Jsonb

from streams.core.errors import IOCError
from streams.core.inputs import check_all
from streams.db.connect import Connection, connect
from streams.db.errors import translated

NOTES_MAX = 8000

WRITE = """
INSERT INTO shift_handover (written_by, handed_to, notes, snapshot) VALUES (%s, %s, %s, %s) RETURNING *
"""
ACKNOWLEDGE = """
UPDATE shift_handover SET acknowledged_by = %s, acknowledged_at = now()
WHERE id = %s AND acknowledged_by IS NULL RETURNING *
"""
AUDIT = "INSERT INTO auth_event (actor, kind, subject, detail) VALUES (%s, %s, %s, %s)"


def subject(handover_id: int) -> str:
    """The ``auth_event.subject`` of a handover's audit rows."""
    return f"handover:{handover_id}"


def _stored(what: str) -> AbstractContextManager:
    return translated(f"cannot {what}", table="shift_handover", limit=200, hint=" (ioc db migrate?)")


class HandoverStore:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn

    def _connect(self) -> Connection:
        return connect(self.dsn, what="handover log unavailable", table="shift_handover", role="handover",
                       dict_rows=True)

    def handovers(self, limit: int = 50) -> list[dict[str, Any]]:
        """The latest first."""
        with _stored("read the handover log"), self._connect() as conn:
            return conn.execute("SELECT * FROM shift_handover ORDER BY written_at DESC, id DESC LIMIT %s",
                                (limit,)).fetchall()

    def handover(self, handover_id: int) -> dict[str, Any]:
        with _stored("read the handover"), self._connect() as conn:
            row = conn.execute("SELECT * FROM shift_handover WHERE id = %s", (handover_id,)).fetchone()
        if row is None:
            raise IOCError(f"no handover {handover_id}")
        return row

    def write(self, actor: str, handed_to: str, notes: str, snapshot: Mapping[str, Any]) -> dict[str, Any]:
        handed_to, notes = (handed_to or "").strip(), (notes or "").strip()
        if not handed_to:
            raise ValueError("a handover goes to someone")
        if not notes:
            raise ValueError("a handover needs notes")
        if len(notes) > NOTES_MAX:
            raise ValueError(f"a handover's notes have at most {NOTES_MAX} characters")
        if handed_to == actor:
            raise ValueError("a handover goes to someone else")
        check_all({"actor": actor, "handed_to": handed_to, "notes": notes})
        with _stored("write the handover"), self._connect() as conn, conn.transaction():
            row = conn.execute(WRITE, (actor, handed_to, notes, Jsonb(dict(snapshot)))).fetchone()
            conn.execute(AUDIT, (actor, "handover_written", subject(row["id"]),
                                 Jsonb({"to": handed_to, "incidents": len(snapshot.get("incidents", ())),
                                        "alerts": len(snapshot.get("alerts", ()))})))
            return row

    def acknowledge(self, handover_id: int, actor: str) -> dict[str, Any]:
        """The incoming operator takes the shift; its writer cannot, and only once."""
        check_all({"actor": actor})
        with _stored("acknowledge the handover"), self._connect() as conn, conn.transaction():
            row = conn.execute("SELECT * FROM shift_handover WHERE id = %s FOR UPDATE", (handover_id,)).fetchone()
            if row is None:
                raise IOCError(f"no handover {handover_id}")
            if row["acknowledged_by"] is not None:
                raise IOCError(f"handover {handover_id} was acknowledged already by {row['acknowledged_by']}")
            if row["written_by"] == actor:
                raise IOCError(f"handover {handover_id} is yours: the incoming operator acknowledges it")
            row = conn.execute(ACKNOWLEDGE, (actor, handover_id)).fetchone()
            conn.execute(AUDIT, (actor, "handover_acknowledged", subject(handover_id),
                                 Jsonb({"written_by": row["written_by"], "to": row["handed_to"]})))
            return row
