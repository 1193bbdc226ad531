"""The security register of a wall test: entries made the register for the test, the register as it was after.

The run shares one database: ``register_entries`` imports entries (or the sample file) as one actor,
and on leaving deletes that actor's versions and audit events and makes the versions current before
current again.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import psycopg

from agents.indicators.register import Entry, from_rows
from agents.indicators.register_files import read_rows
from agents.indicators.register_store import RegisterStore
from tests.support import ROOT

SAMPLE = ROOT / "simulators" / "data" / "register_sample.csv"


def sample_entries(systems: Sequence[str], path: Path = SAMPLE) -> list[Entry]:
    """The entries of the sample register file (every row of it must be good)."""
    result = from_rows(read_rows(path.read_bytes(), path.name), known=systems)
    assert not result.errors, result.errors
    return list(result.entries)


@contextmanager
def register_entries(dsn: str, entries: Sequence[Entry], *, actor: str) -> Iterator[RegisterStore]:
    """``entries`` made the whole register (one import by ``actor``; other systems' versions closed for
    the while); the register as it was on leaving."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        before = [r[0] for r in conn.execute("SELECT id FROM security_register WHERE valid_to IS NULL")]
        conn.execute("UPDATE security_register SET valid_to = now() WHERE valid_to IS NULL AND system <> ALL(%s)",
                      ([e.system for e in entries],))
    store = RegisterStore(dsn)
    try:
        store.import_entries(entries, actor=actor, reason="wall test", source="test")
        yield store
    finally:
        store.close()
        with psycopg.connect(dsn, autocommit=True) as conn, conn.transaction():
            conn.execute("DELETE FROM security_register WHERE changed_by = %s", (actor,))
            conn.execute("DELETE FROM auth_event WHERE actor = %s AND kind LIKE 'register_%%'", (actor,))
            conn.execute("UPDATE security_register SET valid_to = NULL, retired_by = NULL WHERE id = ANY(%s)",
                         (before,))
