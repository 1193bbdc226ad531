"""PostgreSQL's time per event, statement by statement, from ``pg_stat_statements``.

The stack preloads the module (``deploy/postgres/postgresql.conf.in``); the benchmark creates the
extension in its own database, clears that database's figures when a drain starts and reads them
when it ends.  A statement's figure is its execution time (wall time inside the server, waits
included), summed over the drain and divided by the events drained.  Statements are grouped by what
they do to which table ("INSERT INTO event_id_ledger", "COPY ioc_stage_health_event"), so the
copies of one statement for other tables' variants count as one.

When the module is not loaded (a stack started before the setting), the drains are measured all
the same and the report says why this split is missing.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import psycopg

from streams.db.connect import connect
from streams.core.errors import IOCError

_VERB = re.compile(r"\b(INSERT\s+INTO|COPY|UPDATE|DELETE\s+FROM|SELECT)\b\s*\"?([\w.]*)", re.IGNORECASE)
_COMMENT = re.compile(r"--[^\n]*")
_FROM = re.compile(r"\bFROM\s+\"?([\w.]+)", re.IGNORECASE)


def _top_level(query: str) -> str:
    """The statement with what stands in parentheses left out: its common table expressions' bodies,
    sub-queries, column lists."""
    out, depth = [], 0
    for ch in query:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def kind(query: str) -> str:
    """What a statement does and to which table: ``INSERT INTO event_id_ledger``, ``COPY ioc_stage_x``,
    ``SELECT … FROM security_event`` (a read, by the first table it names).  A statement that begins
    with common table expressions is known by the one that follows them."""
    query = _COMMENT.sub("", query)
    m = _VERB.search(_top_level(query))
    if m is None:
        return " ".join(query.split()[:2])[:60]
    verb = " ".join(m.group(1).upper().split())
    if verb == "SELECT":
        table = _FROM.search(query)
        return f"SELECT … FROM {table.group(1)}" if table else "SELECT"
    return f"{verb} {m.group(2)}".strip()


@dataclass(frozen=True, slots=True)
class Statements:
    """How to clear and read one database's statement figures (``None`` from ``open``: not available)."""

    dsn: str

    @classmethod
    def open(cls, dsn: str) -> tuple[Statements | None, str | None]:
        """The extension made in the benchmark's database; else None and the reason."""
        try:
            with connect(dsn, what="pg_stat_statements", role="bench", autocommit=True) as conn:
                loaded = conn.execute("SELECT 'pg_stat_statements' = ANY(string_to_array("
                                      "replace(current_setting('shared_preload_libraries'), ' ', ''), ','))"
                                      ).fetchone()[0]
                if not loaded:
                    return None, ("pg_stat_statements is not loaded by this PostgreSQL: restart the stack "
                                  "(deploy/stack.sh stop; deploy/stack.sh start) to load it")
                conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        except (IOCError, psycopg.Error) as exc:
            return None, f"pg_stat_statements not available: {str(exc).strip()}"
        return cls(dsn), None

    def reset(self) -> None:
        with connect(self.dsn, what="pg_stat_statements", role="bench", autocommit=True) as conn:
            conn.execute("SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database "
                         "WHERE datname = current_database()), 0)")

    def read(self) -> list[tuple[str, int, float, int]]:
        """(query, calls, total execution ms, rows) of every statement run in this database since the reset."""
        with connect(self.dsn, what="pg_stat_statements", role="bench", autocommit=True) as conn:
            return conn.execute(
                "SELECT query, calls, total_exec_time, rows FROM pg_stat_statements "
                "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())").fetchall()


def per_event(rows: Sequence[tuple[str, int, float, int]], events: int, *, top: int = 8) -> dict:
    """µs of execution per event drained, by statement kind, the ``top`` first and the rest together."""
    if events <= 0:
        raise ValueError("events must be positive")
    by_kind: dict[str, list[float]] = {}
    for query, calls, ms, nrows in rows:
        k = by_kind.setdefault(kind(query), [0.0, 0, 0])
        k[0] += ms
        k[1] += calls
        k[2] += nrows
    ranked = sorted(by_kind.items(), key=lambda kv: -kv[1][0])
    out = {name: {"us_per_event": round(ms * 1000 / events, 2), "calls": int(calls), "rows": int(nrows)}
           for name, (ms, calls, nrows) in ranked[:top]}
    rest = sum(ms for _, (ms, _, _) in ranked[top:])
    total = sum(ms for _, (ms, _, _) in ranked)
    return {"statements": out, "rest_us_per_event": round(rest * 1000 / events, 2),
            "total_us_per_event": round(total * 1000 / events, 2)}
