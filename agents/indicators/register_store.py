"""The security register in TimescaleDB (``security_register``): read, change, import, retire.

Each change is one transaction that closes the system's current version, inserts the next (who,
when, why) and appends an ``auth_event`` (``register_changed``, ``register_imported``,
``register_retired``) with the fields changed, so the console's audit lists it with the other
administrative changes.  Saving an entry identical to the current one changes nothing.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from agents.indicators.queries import register as sql
from agents.indicators.register import EDITABLE, Entry, changed_fields, entry_from_row
from streams.core.errors import InputError, SinkError
from streams.core.inputs import check_all
from streams.db.connect import Connection, Pool
from streams.db.errors import translated



@dataclass(frozen=True, slots=True)
class Saved:
    system: str
    version: int | None  # None: nothing changed
    changed: tuple[str, ...]


_HINT = " (a table missing: run `ioc db migrate`)"

# the writes (the reads are in agents/indicators/queries/register.py)
_CLOSE_CURRENT = """UPDATE security_register SET valid_to = %(at)s, retired_by = %(retired_by)s
                   WHERE system = %(system)s AND valid_to IS NULL RETURNING id"""

_LOCK_CURRENT = "SELECT * FROM security_register WHERE system = %s AND valid_to IS NULL FOR UPDATE"

#: a new version: valid_from, the entry's fields in ``agents.indicators.register.FIELDS`` order, who and why
_INSERT = """INSERT INTO security_register (valid_from, system, level, approval_number, approval_date,
              approval_authority, plan_status, environment, real_data, ipv6_ready, live, cleared_on, onsite_users,
              onsite_contact, monitoring_org, last_inspection, next_inspection, inspection_findings, inspection_org,
              layer4_connected, note, changed_by, change_reason)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            RETURNING id"""


class RegisterStore:
    def __init__(self, dsn: str, *, max_connections: int = 2) -> None:
        self.pool = Pool(dsn, role="register", max_size=max_connections, timeout_s=5, dict_rows=True)

    def close(self) -> None:
        self.pool.close()

    @contextmanager
    def _conn(self) -> Iterator[Connection]:
        with translated("security register unavailable", table="security_register", refused=SinkError, limit=200,
                        hint=_HINT), \
                self.pool.connection() as conn:
            yield conn

    # --- reading ---------------------------------------------------------------------------------

    def rows(self, at: datetime | None = None) -> list[dict[str, Any]]:
        """The current versions (or those in force at ``at``) as rows, with who changed them and when."""
        with self._conn() as conn:
            if at is None:
                return conn.execute(sql.CURRENT).fetchall()
            return conn.execute(sql.AS_OF, {"at": at}).fetchall()

    def entries(self, at: datetime | None = None) -> list[Entry]:
        return [entry_from_row(r) for r in self.rows(at)]

    def history(self, system: str) -> list[dict[str, Any]]:
        """Every version of ``system``, newest first."""
        with self._conn() as conn:
            return conn.execute(sql.HISTORY, {"system": system}).fetchall()

    def changes(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        with self._conn() as conn:
            return conn.execute(sql.CHANGES, {"since": since, "until": until}).fetchall()

    def user_states(self, at: datetime | None = None) -> dict[str, bool]:
        """User name -> active (not disabled); at ``at``: the users created by then, as the audit of
        disabling and enabling them says."""
        with self._conn() as conn:
            rows = conn.execute(sql.USER_STATES).fetchall() if at is None else \
                conn.execute(sql.USER_STATES_AT, {"at": at}).fetchall()
            return {r["name"]: r["active"] for r in rows}

    def retirements(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        """The retirements of a period: ``at``, ``actor``, ``subject`` (the system), ``reason``."""
        with self._conn() as conn:
            return conn.execute(sql.RETIREMENTS, {"since": since, "until": until}).fetchall()

    # --- changing --------------------------------------------------------------------------------

    def save(self, entry: Entry, *, actor: str, reason: str = "", at: datetime | None = None) -> Saved:
        """Make ``entry`` the system's current version (a new version only when something changed)."""
        with self._conn() as conn, conn.transaction():
            saved = self._save(conn, entry, actor, reason, at)
            if saved.version is not None:
                self._audit(conn, actor, "register_changed", entry.system,
                            {"fields": list(saved.changed), "reason": reason, "version": saved.version})
            return saved

    def import_entries(self, entries: Sequence[Entry], *, actor: str, reason: str = "",
                       source: str = "") -> list[Saved]:
        """Every entry saved in one transaction (all or nothing), one audit event for the import."""
        with self._conn() as conn, conn.transaction():
            out = [self._save(conn, e, actor, reason, None) for e in entries]
            self._audit(conn, actor, "register_imported", source,
                        {"systems": [s.system for s in out if s.version is not None],
                         "unchanged": sum(s.version is None for s in out), "reason": reason})
            return out

    def retire(self, system: str, *, actor: str, reason: str = "") -> bool:
        """Close the system's current version with no successor; False when it had none."""
        check_all({"actor": actor, "reason": reason})
        with self._conn() as conn, conn.transaction():
            row = conn.execute(_CLOSE_CURRENT, {"at": _now(conn), "retired_by": actor, "system": system}).fetchone()
            if row is None:
                return False
            self._audit(conn, actor, "register_retired", system, {"reason": reason})
            return True

    def _save(self, conn: Connection, entry: Entry, actor: str, reason: str, at: datetime | None) -> Saved:
        check_all({"actor": actor, "reason": reason})
        if not actor:
            raise InputError("a change needs the name of who makes it")
        current = conn.execute(_LOCK_CURRENT, (entry.system,)).fetchone()
        old = entry_from_row(current) if current else None
        changed = changed_fields(old, entry)
        if current is not None and not changed:
            return Saved(entry.system, None, ())
        when = at or _now(conn)
        if current is not None:
            if when < current["valid_from"]:
                raise InputError(f"{entry.system}: a change dated before the current version's start")
            conn.execute("UPDATE security_register SET valid_to = %s WHERE id = %s", (when, current["id"]))
        values = [getattr(entry, name) for name in ("system", *EDITABLE)]
        values[EDITABLE.index("onsite_users") + 1] = list(entry.onsite_users)
        row = conn.execute(_INSERT, (when, *values, actor, reason)).fetchone()
        return Saved(entry.system, row["id"], tuple(changed))

    @staticmethod
    def _audit(conn: Connection, actor: str, kind: str, subject: str, detail: dict[str, Any]) -> None:
        conn.execute("INSERT INTO auth_event (actor, kind, subject, detail) VALUES (%s, %s, %s, %s)",
                     (actor, kind, subject, Jsonb(detail)))


def _now(conn: Connection) -> datetime:
    return conn.execute("SELECT now() AS now").fetchone()["now"]
