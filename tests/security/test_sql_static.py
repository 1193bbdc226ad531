"""No SQL built from strings: every ``execute``/``executemany``/``copy`` gets a constant or ``psycopg.sql``.

Walks the AST of every module of the packages that talk to the database and fails for a call whose
SQL argument (the first positional one, or ``query=``) is an f-string, a ``%`` or ``+`` expression,
or ``"...".format(...)``.  Values go in as parameters; identifiers (database names, channels) go
through ``sql.SQL(...).format(sql.Identifier(...))``, which quotes them.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support import ROOT

PACKAGES = ("streams", "agents", "simulators", "ioc_dash", "bench")
METHODS = {"execute", "executemany", "copy"}


def built_from_strings(node: ast.AST) -> str | None:
    """What is wrong with ``node`` as SQL text, or None when it is not built from strings."""
    if isinstance(node, ast.JoinedStr):
        return "an f-string"
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add)):
        return f"a {'%' if isinstance(node.op, ast.Mod) else '+'} expression"
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format"
            and isinstance(node.func.value, (ast.Constant, ast.JoinedStr, ast.BinOp))):
        return "str.format()"
    return None


def _is_sql_composable(node: ast.AST) -> bool:
    """``sql.SQL(...)`` / ``psycopg.sql.SQL(...)``: its text must be a constant too."""
    return isinstance(node, ast.Call) and (
        (isinstance(node.func, ast.Attribute) and node.func.attr == "SQL")
        or (isinstance(node.func, ast.Name) and node.func.id == "SQL"))


def offenders_in(source: str, filename: str = "<string>") -> list[str]:
    tree = ast.parse(source, filename)
    # names bound to built strings anywhere in the module: ``q = f"..."; conn.execute(q)`` is caught too
    assigned: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and (why := built_from_strings(node.value)):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    assigned[target.id] = why
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and isinstance(node.op, ast.Add) \
                and isinstance(node.value, (ast.JoinedStr, ast.BinOp, ast.Name)):
            assigned[node.target.id] = "a += expression"
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        if _is_sql_composable(node) and node.args and (why := built_from_strings(node.args[0])):
            found.append(f"{filename}:{node.lineno}: sql.SQL() of {why}")
            continue
        if not (isinstance(node.func, ast.Attribute) and node.func.attr in METHODS):
            continue
        args = list(node.args[:1]) + [k.value for k in node.keywords if k.arg == "query"]
        for arg in args:
            why = built_from_strings(arg)
            if why is None and isinstance(arg, ast.Name) and arg.id in assigned:
                why = f"{assigned[arg.id]} (through {arg.id!r})"
            if why:
                found.append(f"{filename}:{node.lineno}: .{node.func.attr}() with SQL from {why}")
    return found


def modules() -> list[Path]:
    files = [p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))]
    assert len(files) > 50, f"expected the packages' modules under {ROOT}, found {len(files)}"
    return files


def test_no_sql_is_built_from_strings():
    found = [o for path in modules() for o in offenders_in(path.read_text(encoding="utf-8"),
                                                            str(path.relative_to(ROOT)))]
    assert not found, "SQL built from strings (use parameters, or psycopg.sql for identifiers):\n" + "\n".join(found)


@pytest.mark.parametrize("code", [
    'conn.execute(f"LISTEN {channel}")',
    'cur.execute("SELECT * FROM t WHERE a = \'%s\'" % value)',
    'cur.execute("SELECT * FROM " + table)',
    'cur.executemany("INSERT INTO {} VALUES (%s)".format(table), rows)',
    'cur.copy(f"COPY {table} FROM STDIN")',
    'conn.execute(query=f"DROP TABLE {name}")',
    'q = f"DELETE FROM {table}"\nconn.execute(q)',
    'conn.execute(sql.SQL(f"LISTEN {channel}"))',
])
def test_the_checker_catches(code):
    assert offenders_in(code)


@pytest.mark.parametrize("code", [
    'conn.execute("SELECT * FROM alert WHERE id = %s", (alert_id,))',
    'conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))',
    'conn.execute(QUERY, params)',
    'conn.execute("SELECT 1 "\n "FROM t")',
    'cur.copy(sql.SQL("COPY {} FROM STDIN").format(sql.Identifier(table)))',
])
def test_the_checker_lets_through(code):
    assert not offenders_in(code)
