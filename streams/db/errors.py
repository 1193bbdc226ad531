"""The one translation of the database driver's errors into the project's.

``translated(what)`` wraps database work: inside it, an error of the driver comes out as

- ``SinkUnavailable`` when the database cannot be reached or the connection was lost, or a pool
  has no connection to give (``psycopg.OperationalError``, which the pool's ``PoolTimeout`` and
  ``PoolClosed`` are): the caller waits and tries again;
- for any other error of the driver (the database answered and refused), what ``refused`` says:
  ``SinkUnavailable`` too (the default: a reader or a periodic job skips its turn), ``SinkError``
  (a write that a retry will not mend), or ``None``, left as the driver raised it.

The message is ``"<what>: <the driver's message>"``; a ``SinkError`` keeps only the first line of
the driver's message.  The ``Where`` it yields names the table in the error; work that moves from
table to table updates ``where.table``.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from streams.core.errors import SinkError, SinkUnavailable


#: the driver's error for a row a unique index refuses, for the writers that try the usual case first
#: (every key new, a plain insert in a savepoint) and fall back to ``ON CONFLICT`` on it
UniqueViolation = psycopg.errors.UniqueViolation


class Where:
    """The table the work inside ``translated`` is at (named in the error)."""

    __slots__ = ("table",)

    def __init__(self, table: str | None) -> None:
        self.table = table


def _detail(exc: BaseException, limit: int | None) -> str:
    text = str(exc).strip()
    return text[:limit] if limit else text


@contextmanager
def translated(what: str, *, table: str | None = None, refused: type[SinkError] | None = SinkUnavailable,
               refused_what: str | None = None, limit: int | None = None, hint: str = "") -> Iterator[Where]:
    """The driver's errors raised inside as ``SinkUnavailable`` or ``SinkError`` (see the module).

    ``refused_what`` replaces ``what`` in the message of a refusal; ``limit`` cuts the driver's
    message to that many characters (for a banner on the wall); ``hint`` is appended to the message.
    """
    where = Where(table)
    try:
        yield where
    except psycopg.OperationalError as exc:
        raise SinkUnavailable(f"{what}: {_detail(exc, limit)}{hint}", table=where.table) from exc
    except psycopg.Error as exc:
        if refused is None:
            raise
        prefix = refused_what or what
        if refused is SinkUnavailable:
            raise SinkUnavailable(f"{prefix}: {_detail(exc, limit)}{hint}", table=where.table) from exc
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise refused(f"{prefix}: {first}{hint}", table=where.table) from exc
