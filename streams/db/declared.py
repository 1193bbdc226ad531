"""Declared tables against the database: every table and column a family declares in Python must
exist in the migrated schema, raw columns with the declared type, and no column of a table may be
left undeclared (so a column is named once in Python and once in SQL, and the two cannot drift).

``mismatches(conn, tables)`` lists what differs, one sentence each; empty means they agree.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import psycopg

from streams.core.tables import UPDATED_AT

# how PostgreSQL names the types the declarations spell short
_ALIASES = {"timestamptz": "timestamp with time zone", "int": "integer", "int4": "integer", "int2": "smallint",
            "int8": "bigint", "float8": "double precision", "float4": "real", "bool": "boolean"}

COLUMNS_SQL = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod)
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""


def pg_type(declared: str) -> str:
    t = declared.strip().lower()
    return _ALIASES.get(t, t)


def declared_columns(table: Any) -> dict[str, str | None]:
    """Column -> declared type (``None`` where the declaration names the column only)."""
    if hasattr(table, "column_names"):  # a raw table: (column, type) pairs
        return {c: pg_type(t) for c, t in table.columns}
    names = table.all_columns if hasattr(table, "all_columns") else table.columns
    return dict.fromkeys((*names, *((UPDATED_AT,) if getattr(table, "updated_at", True) else ())))


def mismatches(conn: psycopg.Connection, tables: Iterable[Any]) -> list[str]:
    problems: list[str] = []
    for table in tables:
        actual = dict(conn.execute(COLUMNS_SQL, (table.name,)).fetchall())
        if not actual:
            problems.append(f"table {table.name}: declared, but not in the database")
            continue
        declared = declared_columns(table)
        for column, kind in declared.items():
            if column not in actual:
                problems.append(f"{table.name}.{column}: declared, but not in the database")
            elif kind is not None and actual[column] != kind:
                problems.append(f"{table.name}.{column}: declared {kind}, the database has {actual[column]}")
        for column in actual.keys() - declared.keys():
            problems.append(f"{table.name}.{column}: in the database, but not declared")
    return problems
