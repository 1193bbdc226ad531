"""Versioned SQL migrations: ``NNN_name.sql`` files applied in order, each in one transaction.

Applied versions are recorded with a checksum in ``ioc_schema_migrations``; running again
applies nothing; a changed file that was already applied is an error, not a silent skip.
An advisory lock keeps two processes from migrating at once.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import psycopg

from streams.core.errors import MigrationError
from streams.db.connect import connect

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")
_LOCK_ID = 7_402_180_001


@dataclass(frozen=True, slots=True)
class Migration:
    version: str
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found = []
    for path in sorted(directory.glob("*.sql")):
        m = _NAME.match(path.name)
        if not m:
            raise MigrationError(f"file name {path.name!r} is not NNN_name.sql")
        found.append(Migration(m.group(1), m.group(2), path.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migrations share a version in {directory}")
    return found


def migrate(dsn: str, *, directory: Path = MIGRATIONS_DIR, log=print) -> list[str]:
    """Apply pending migrations; returns the versions applied now."""
    migrations = load_migrations(directory)
    conn = connect(dsn, what="cannot connect to the database to migrate", role="migrate", timeout_s=10,
                   autocommit=True)
    applied_now: list[str] = []
    with conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_ID,))
        try:
            conn.execute(
                """CREATE TABLE IF NOT EXISTS ioc_schema_migrations (
                     version text PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
                     applied_at timestamptz NOT NULL DEFAULT now())"""
            )
            done = dict(conn.execute("SELECT version, checksum FROM ioc_schema_migrations").fetchall())
            for mig in migrations:
                if mig.version in done:
                    if done[mig.version] != mig.checksum:
                        raise MigrationError(
                            "file changed after it was applied; add a new migration instead", version=mig.version
                        )
                    continue
                try:
                    with conn.transaction():
                        conn.execute(mig.sql)
                        conn.execute(
                            "INSERT INTO ioc_schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                            (mig.version, mig.name, mig.checksum),
                        )
                except psycopg.Error as exc:
                    raise MigrationError(str(exc).strip().splitlines()[0], version=mig.version) from exc
                log(f"migrate: applied {mig.version}_{mig.name}")
                applied_now.append(mig.version)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_ID,))
    return applied_now
