"""The TimescaleDB sink: one transaction per batch, idempotent, with offsets committed after.

For each batch:
1. the raw rows are copied (binary ``COPY``) into a temporary staging table of the connection
   (made once per connection, emptied at every commit);
2. the events' ids go from there into the id ledger (``event_id_ledger``, keyed by family and id):
   first all of them with a plain ``INSERT … SELECT`` in a savepoint, which takes the usual batch
   (every id new, each once) at about half the cost; when that fails on a known id (a replayed or
   re-sent event's id is already there, whatever its timestamp) or one twice in the batch, the
   savepoint is rolled back and ``INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING`` tells which
   events are fresh.  Then the fresh ones go into the raw table: the whole staging table when every
   event was fresh, else the first copy of each fresh id (a small batch sent as arrays does both in
   one statement, with ``ON CONFLICT``);
3. the family's increments are computed from the fresh events only, merged per key, and added
   with one ``INSERT … SELECT FROM unnest(…) ON CONFLICT DO UPDATE`` per counter table (sums
   add, histograms merge), rows in key order so two workers never deadlock;
4. the source's own counters are added, per feed and per producer, and a mark of what the batch
   touched (its fresh events' oldest and newest event time, its arrival) for the hourly and daily
   rollups (``agents.indicators.rollups``); then the transaction commits.

The agent acknowledges the Kafka messages only after ``write`` returns, so a crash at any
point either loses the whole transaction (and the messages are read again) or keeps it (and
the re-read events are duplicates, which change nothing).

This is the feed writer only; the worker's other work on the database goes through the same
pool (``streams.db.connect.AsyncPool``): heartbeat, retention and purges in
``agents.worker.housekeeping``, the security detectors' reads and findings in
``agents.worker.detectors``.
"""
from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any

import orjson

from psycopg import sql

from streams.core.errors import SinkError
from streams.core.contracts import Event
from agents.indicators.rollup_store import MARK
from agents.worker.sinks.base import WriteResult
from streams.core.tables import (EVENT_TIME, UPDATED_AT, CounterTable, FeedSpec, RawTable, SourceStats, States,
                                 StateTable, add_source_counts, combine)
from streams.db.connect import AsyncPool
from streams.db.declared import COLUMNS_SQL
from streams.db.errors import UniqueViolation, translated

log = logging.getLogger(__name__)


LEDGER = "event_id_ledger"

#: column types a binary COPY takes from the Python values of a raw row as they are; the other
#: columns (inet, jsonb: strings in a raw row) are staged as text and cast when inserted
COPY_TYPES = frozenset({"timestamptz", "text", "boolean", "smallint", "integer", "bigint", "real",
                        "double precision"})
#: batches of this many events or more are copied into the staging table; smaller ones go as array
#: parameters of the insert itself: the staging table's emptying at commit (a truncation) and the
#: COPY's round trips cost more than a small batch's whole write
COPY_FROM = 256
ORDINAL = "ioc_ord"  # the staging table's row number: of two copies of an event in a batch, the first wins


def stage_type(pg_type: str) -> str:
    return pg_type if pg_type in COPY_TYPES else "text"


def stage_name(table: RawTable) -> str:
    return f"ioc_stage_{table.name}"


def stage_sql(table: RawTable) -> sql.Composed:
    """The connection's staging table for ``table``'s rows, emptied at every commit."""
    cols = sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(stage_type(t)))
                              for c, t in table.columns)
    return sql.SQL("CREATE TEMP TABLE IF NOT EXISTS {s} ({o} integer, {cols}) ON COMMIT DELETE ROWS").format(
        s=sql.Identifier(stage_name(table)), o=sql.Identifier(ORDINAL), cols=cols)


def copy_sql(table: RawTable) -> sql.Composed:
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in (ORDINAL, *table.column_names))
    return sql.SQL("COPY {s} ({cols}) FROM STDIN (FORMAT BINARY)").format(s=sql.Identifier(stage_name(table)),
                                                                         cols=cols)


def copy_types(table: RawTable) -> list[str]:
    return ["integer", *(stage_type(t) for _, t in table.columns)]


def raw_insert_sql(table: RawTable, family: str) -> sql.Composed:
    """A small batch's one statement, from one array parameter per column (the batch's row number
    first): the ids go into the family's ledger first, and only the events whose (id, time) the
    ledger took are stored; it returns their ids, the fresh events.

    The ledger, keyed by (family, id), is the only guard: the raw table has no unique index (a
    TimescaleDB one would have to hold the time too, so an event re-sent with its time written
    differently would be new to it anyway; migration 053).  Of two copies in one batch the first one
    (in batch order) is kept, even when their ids and times are the same, and an id is returned at
    most once."""
    cols, values = _columns_and_values(table)
    stage = sql.Identifier(stage_name(table))
    return sql.SQL(
        "WITH {stage} AS (SELECT * FROM unnest({params}) AS u ({o}, {cols})), "
        "first AS (INSERT INTO {ledger} (family, id, time) SELECT {family}, id, time FROM {stage} "
        "ORDER BY {o} ON CONFLICT DO NOTHING RETURNING id, time) "
        "INSERT INTO {t} ({cols}) SELECT DISTINCT ON (s.id) {values} FROM {stage} AS s JOIN first USING (id, time) "
        "ORDER BY s.id, s.{o} RETURNING id"
    ).format(t=sql.Identifier(table.name), cols=cols, values=values, ledger=sql.Identifier(LEDGER),
             stage=stage, o=sql.Identifier(ORDINAL), family=sql.Literal(family),
             params=sql.SQL(", ").join(sql.SQL("%b::{}[]").format(sql.SQL(t)) for t in copy_types(table)))


def ledger_insert_sql(table: RawTable, family: str) -> sql.Composed:
    """The staged events' ids into the family's ledger, in batch order (of two copies of an id the
    first is taken); it returns the ids it took, the fresh events."""
    return sql.SQL(
        "INSERT INTO {ledger} (family, id, time) SELECT {family}, id, time FROM {stage} ORDER BY {o} "
        "ON CONFLICT DO NOTHING RETURNING id"
    ).format(ledger=sql.Identifier(LEDGER), family=sql.Literal(family), stage=sql.Identifier(stage_name(table)),
             o=sql.Identifier(ORDINAL))


def ledger_all_insert_sql(table: RawTable, family: str) -> sql.Composed:
    """Every staged event's id into the family's ledger, with no ``ON CONFLICT`` and nothing returned:
    the usual batch, of ids new to the ledger and each once.  An id the ledger holds, or one twice in
    the batch, makes it fail with a unique violation; the sink runs it in a savepoint, rolls that back
    and lets ``ledger_insert_sql`` decide.  Without the speculative insertion and the returned ids it
    costs PostgreSQL about half as much per row."""
    return sql.SQL("INSERT INTO {ledger} (family, id, time) SELECT {family}, id, time FROM {stage}").format(
        ledger=sql.Identifier(LEDGER), family=sql.Literal(family), stage=sql.Identifier(stage_name(table)))


def staged_insert_sql(table: RawTable) -> sql.Composed:
    """Every staged row into the raw table: the usual batch, whose ids the ledger took all."""
    cols, values = _columns_and_values(table)
    return sql.SQL("INSERT INTO {t} ({cols}) SELECT {values} FROM {stage} AS s").format(
        t=sql.Identifier(table.name), cols=cols, values=values, stage=sql.Identifier(stage_name(table)))


def chosen_insert_sql(table: RawTable) -> sql.Composed:
    """The first staged copy (in batch order) of each id in the statement's one parameter, a text
    array (the ids the ledger took), into the raw table."""
    cols, values = _columns_and_values(table)
    return sql.SQL(
        "INSERT INTO {t} ({cols}) SELECT DISTINCT ON (s.id) {values} FROM {stage} AS s "
        "JOIN unnest(%s::text[]) AS f (id) USING (id) ORDER BY s.id, s.{o}"
    ).format(t=sql.Identifier(table.name), cols=cols, values=values, stage=sql.Identifier(stage_name(table)),
             o=sql.Identifier(ORDINAL))


def _columns_and_values(table: RawTable) -> tuple[sql.Composed, sql.Composed]:
    """A raw table's column list, and the staged rows' values (``s``) cast to the columns' types."""
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in table.column_names)
    values = sql.SQL(", ").join(sql.SQL("s.{}::{}").format(sql.Identifier(c), sql.SQL(t)) for c, t in table.columns)
    return cols, values


def raw_arrays(table: RawTable, events: Sequence[Event]) -> list[list[Any]]:
    """A batch's raw rows as the array parameters of ``raw_insert_sql``."""
    to_row = table.to_row
    rows = [to_row(ev) for ev in events]
    return [list(range(len(rows))), *([row[i] for row in rows] for i in range(len(table.columns)))]


def state_load_sql(state: StateTable) -> sql.Composed:
    """A batch's rows of a state table, locked, in key order (the keys as text arrays)."""
    return sql.SQL(
        "SELECT {cols} FROM {t} WHERE ({key}) IN (SELECT * FROM unnest({arrays})) ORDER BY {key} FOR UPDATE"
    ).format(
        cols=sql.SQL(", ").join(sql.Identifier(c) for c in state.all_columns),
        t=sql.Identifier(state.name),
        key=sql.SQL(", ").join(sql.Identifier(c) for c in state.key),
        arrays=sql.SQL(", ").join(sql.SQL("%s::text[]") for _ in state.key),
    )


def counter_sets(table: CounterTable) -> list[sql.Composable]:
    """The ``SET`` list of a counter table's upsert: what happens to a row already there."""
    t = sql.Identifier(table.name)
    sets: list[sql.Composable] = []
    for c in table.sums:
        sets.append(sql.SQL("{c} = {t}.{c} + EXCLUDED.{c}").format(c=sql.Identifier(c), t=t))
    for c in table.hists:
        sets.append(sql.SQL("{c} = ioc_hist_add({t}.{c}, EXCLUDED.{c})").format(c=sql.Identifier(c), t=t))
    for c in table.greatest:
        sets.append(sql.SQL("{c} = greatest({t}.{c}, EXCLUDED.{c})").format(c=sql.Identifier(c), t=t))
    for c in table.least:
        sets.append(sql.SQL("{c} = least({t}.{c}, EXCLUDED.{c})").format(c=sql.Identifier(c), t=t))
    for c in table.latest:
        sets.append(sql.SQL("{c} = coalesce(EXCLUDED.{c}, {t}.{c})").format(c=sql.Identifier(c), t=t))
    if table.updated_at:
        sets.append(sql.SQL("{} = now()").format(sql.Identifier(UPDATED_AT)))
    return sets


def upsert_sql(name: str, columns: Sequence[str], key: Sequence[str], sets: Sequence[sql.Composable],
               types: Mapping[str, str]) -> sql.Composed:
    """One statement for all of a batch's rows of a table: arrays, one per column (in
    ``param_type``), unnested and cast to the column's type (``types``: column -> SQL type)."""
    return sql.SQL(
        "INSERT INTO {t} ({cols}) SELECT {values} FROM unnest({arrays}) AS u ({cols}) "
        "ON CONFLICT ({key}) DO UPDATE SET {sets}"
    ).format(
        t=sql.Identifier(name),
        cols=sql.SQL(", ").join(sql.Identifier(c) for c in columns),
        values=sql.SQL(", ").join(sql.SQL("u.{}::{}").format(sql.Identifier(c), sql.SQL(types[c])) for c in columns),
        arrays=sql.SQL(", ").join(sql.SQL("%b::{}[]").format(sql.SQL(param_type(types[c]))) for c in columns),
        key=sql.SQL(", ").join(sql.Identifier(c) for c in key),
        sets=sql.SQL(", ").join(sets),
    )


def counter_upsert_sql(table: CounterTable, types: Mapping[str, str]) -> sql.Composed:
    return upsert_sql(table.name, table.columns, table.key, counter_sets(table), types)


def state_upsert_sql(state: StateTable, types: Mapping[str, str]) -> sql.Composed:
    """A state table's rows replaced (inserted when new) in one statement."""
    sets = [sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(c)) for c in state.columns]
    if state.updated_at:
        sets.append(sql.SQL("{} = now()").format(sql.Identifier(UPDATED_AT)))
    return upsert_sql(state.name, state.all_columns, state.key, sets, types)


_FLOATS = frozenset({"double precision", "real", "numeric"})
_INTS = frozenset({"smallint", "integer", "bigint"})
_AS_IS = frozenset({"timestamp with time zone", "timestamp without time zone", "date", "text"})


def param_type(pg_type: str) -> str:
    """The element type a column's values are sent as: numbers, booleans and times as themselves,
    anything else as text (arrays as their literal) and cast by the statement."""
    return pg_type if pg_type in _FLOATS | _INTS | _AS_IS or pg_type == "boolean" else "text"


def _element(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, (int, float)):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _array_literal(value: Any) -> str:
    if all(type(v) is int for v in value):  # a histogram: numbers only, written at C speed
        return "{" + ",".join(map(str, value)) + "}"
    return "{" + ",".join(map(_element, value)) + "}"


def _json_text(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def converter(pg_type: str) -> Callable[[Any], Any] | None:
    """What a column's non-null values go through before they are sent (``None``: nothing): one
    type per array, as a binary array wants."""
    if pg_type in _FLOATS:
        return float
    if pg_type in _INTS:
        return int
    if pg_type == "boolean":
        return bool
    if pg_type in _AS_IS:
        return None
    if pg_type.endswith("[]"):
        return _array_literal
    if pg_type in ("json", "jsonb"):
        return _json_text
    return str


def merged_rows(table: CounterTable, rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A batch's rows of a counter table merged per key as the database merges them, in key order:
    one statement then touches each key once, and two workers lock keys in the same order."""
    by_key: dict[tuple[Any, ...], dict[str, Any]] = {}
    key = itemgetter(*table.key) if len(table.key) > 1 else lambda row: (row[table.key[0]],)
    for row in rows:
        k = key(row)
        old = by_key.get(k)
        by_key[k] = dict(row) if old is None else combine(table, old, row)
    try:  # keys without None (or with None only where the keys before it differ): as they are
        order = sorted(by_key)
    except TypeError:
        order = sorted(by_key, key=_key_order)
    return [by_key[k] for k in order]


def _key_order(key: tuple[Any, ...]) -> tuple[tuple[bool, Any], ...]:
    """One total order of a table's keys, the same in every worker (a key column holds one type, or
    None: None last)."""
    return tuple([(v is None, v) for v in key])


def column_arrays(columns: Sequence[str], rows: Sequence[Mapping[str, Any]],
                  types: Mapping[str, str]) -> list[list[Any]]:
    """The rows as one list per column, each value converted for its column's type."""
    out: list[list[Any]] = []
    for c in columns:
        conv = converter(types[c])
        values = [r.get(c) for r in rows]
        out.append(values if conv is None else [None if v is None else conv(v) for v in values])
    return out


class TimescaleSink:
    """Writes feed batches to TimescaleDB through a small async connection pool: its own, made
    from a DSN, or the worker's (``AsyncPool``), which the worker's other parts share."""

    def __init__(self, db: str | AsyncPool, *, min_size: int = 1, max_size: int = 4,
                 copy_from: int = COPY_FROM) -> None:
        self.pool = db if isinstance(db, AsyncPool) else AsyncPool(db, role="worker", min_size=min_size,
                                                                    max_size=max_size)
        self.copy_from = copy_from
        self._sql: dict[tuple[str, str], str] = {}  # statements rendered once: (kind, table) -> text
        self._column_types: dict[str, dict[str, str]] = {}
        self._staged: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()

    async def open(self, wait_s: float = 30) -> None:
        """Wait for the pool's first connection; ``SinkUnavailable`` after ``wait_s``."""
        await self.pool.open(wait_s)

    async def close(self) -> None:
        await self.pool.close()

    async def write(self, spec: FeedSpec, events: Sequence[Event], stats: SourceStats) -> WriteResult:
        await self.pool.ensure_open()
        copy = len(events) >= self.copy_from
        with translated("database unavailable", table=spec.raw.name, refused=SinkError,
                        refused_what="write failed") as where:
            async with self.pool.connection(timeout=10) as conn:
                async with conn.transaction():
                    staged = await self._stage(conn, spec.raw, events) if copy else False
                    fresh = await self._fresh(conn, spec, events, copied=copy)
                    written = await self._count(conn, spec, events, fresh, stats, where)
                if staged:
                    self._staged.setdefault(conn, set()).add(spec.raw.name)
        return WriteResult(len(fresh), len(events) - len(fresh), written)

    async def _fresh(self, conn, spec: FeedSpec, events: Sequence[Event], *, copied: bool) -> list[Event]:
        """The batch's events stored now (their ids new to the ledger), in event-time order: the
        staged rows (``copied``) or the rows sent as arrays go into the ledger and the raw table."""
        if not events:
            return []
        raw = spec.raw
        if copied:
            # the usual batch (every event fresh) in two plain statements: every id into the ledger,
            # every staged row into the raw table, with no join of the ledger's answer back to the
            # staged rows and no sort
            if await self._ledger_takes_all(conn, spec):
                await conn.execute(self._statement(conn, "staged", raw.name, lambda: staged_insert_sql(raw)))
                return sorted(events, key=EVENT_TIME)
            # a known id or one twice in the batch: the ledger's answer says which copies are new
            cur = await conn.execute(self._statement(conn, "ledger", raw.name,
                                                     lambda: ledger_insert_sql(raw, spec.family)))
            inserted = {r[0] for r in await cur.fetchall()}
            if inserted:
                await conn.execute(self._statement(conn, "staged chosen", raw.name,
                                                   lambda: chosen_insert_sql(raw)), (list(inserted),))
        else:
            cur = await conn.execute(self._statement(conn, "raw arrays", raw.name,
                                                     lambda: raw_insert_sql(raw, spec.family)),
                                     raw_arrays(raw, events))
            inserted = {r[0] for r in await cur.fetchall()}
        if len(inserted) == len(events):  # the usual batch: every event new, no id twice
            return sorted(events, key=EVENT_TIME)
        fresh: list[Event] = []
        for ev in events:
            if ev.id in inserted:  # the batch's first copy of the id: the one stored
                inserted.discard(ev.id)  # a second copy in the same batch is a duplicate
                fresh.append(ev)
        fresh.sort(key=EVENT_TIME)
        return fresh

    async def _ledger_takes_all(self, conn, spec: FeedSpec) -> bool:
        """Whether the ledger took every staged id (``ledger_all_insert_sql``, in a savepoint); false,
        with the savepoint rolled back and nothing taken, when one of them is known or twice."""
        raw = spec.raw
        query = self._statement(conn, "ledger all", raw.name, lambda: ledger_all_insert_sql(raw, spec.family))
        try:
            async with conn.transaction():  # a savepoint: the violation undoes this statement alone
                await conn.execute(query)
        except UniqueViolation:
            return False
        return True

    async def _count(self, conn, spec: FeedSpec, events: Sequence[Event], fresh: list[Event], stats: SourceStats,
                     where: Any) -> dict[str, int]:
        """The fresh events' increments (and the family's states) added, with the source's counters;
        what each table took."""
        states = await self._load_states(conn, spec.state, fresh) if spec.state else {}
        incs = spec.increments(fresh, states)
        if spec.state and incs.states:
            where.table = spec.state.name
            await self._save_states(conn, spec.state, incs.states)
        add_source_counts(incs, spec, stats, events, fresh)
        written = {spec.raw.name: len(fresh)}
        for ctable, crows in incs.rows.items():
            where.table = ctable.name
            types = await self._types(conn, ctable.name)
            query = self._statement(conn, "upsert", ctable.name, lambda: counter_upsert_sql(ctable, types))
            await conn.execute(query, column_arrays(ctable.columns, merged_rows(ctable, crows), types))
            written[ctable.name] = written.get(ctable.name, 0) + len(crows)
        where.table = "rollup_pending"
        await conn.execute(MARK, (spec.family, fresh[0].event_time if fresh else None,
                                  fresh[-1].event_time if fresh else None, stats.arrival))
        return written

    async def _stage(self, conn, table: RawTable, events: Sequence[Event]) -> bool:
        """Copies the events' raw rows into the connection's staging table, made first if this
        connection has none yet; true when it was made (it lasts once the transaction commits)."""
        made = table.name not in self._staged.get(conn, ())
        if made:
            await conn.execute(stage_sql(table))
        to_row = table.to_row
        async with conn.cursor() as cur:
            async with cur.copy(self._statement(conn, "copy", table.name, lambda: copy_sql(table))) as copy:
                copy.set_types(copy_types(table))
                # the rows formatted in one loop without an await per row (what ``write_row`` does for
                # each, less its coroutine): the formatter hands back its buffer whenever it fills
                format_row = copy.formatter.write_row
                for i, ev in enumerate(events):
                    if data := format_row((i, *to_row(ev))):
                        await copy.write(data)
        return made

    async def _load_states(self, conn, state: StateTable, fresh: Sequence[Event]) -> States:
        keys = sorted(state.keys_of(fresh), key=lambda k: tuple(str(v) for v in k))
        if not keys:
            return {}
        cols = state.all_columns
        query = self._statement(conn, "load", state.name, lambda: state_load_sql(state))
        cur = await conn.execute(query, [[str(k[i]) for k in keys] for i in range(len(state.key))])
        out: States = {}
        for row in await cur.fetchall():
            d = dict(zip(cols, row))
            out[tuple(d[c] for c in state.key)] = d
        return out

    async def _save_states(self, conn, state: StateTable, rows: States) -> None:
        types = await self._types(conn, state.name)
        query = self._statement(conn, "upsert", state.name, lambda: state_upsert_sql(state, types))
        ordered = [row for _, row in sorted(rows.items(), key=lambda kv: tuple(str(v) for v in kv[0]))]
        await conn.execute(query, column_arrays(state.all_columns, ordered, types))

    async def known_ids(self, spec: FeedSpec, ids: Sequence[str]) -> set[str]:
        """Which of these ids the family's ledger holds: events already stored and counted."""
        with translated("id ledger not readable", table=LEDGER):
            await self.pool.ensure_open()
            async with self.pool.connection(timeout=10) as conn:
                cur = await conn.execute(sql.SQL("SELECT id FROM {} WHERE family = %s AND id = ANY(%s)").format(
                    sql.Identifier(LEDGER)), (spec.family, list(ids)))
                return {r[0] for r in await cur.fetchall()}

    def _statement(self, conn, kind: str, table: str, make: Callable[[], sql.Composed]) -> str:
        """A statement's text, composed and rendered the first time only: rendering a composed
        statement costs more than a small batch's whole write."""
        key = (kind, table)
        text = self._sql.get(key)
        if text is None:
            text = self._sql[key] = make().as_string(conn)
        return text

    async def _types(self, conn, name: str) -> dict[str, str]:
        """A table's columns and their SQL types, read from the catalog once."""
        types = self._column_types.get(name)
        if types is None:
            cur = await conn.execute(COLUMNS_SQL, (name,))
            types = self._column_types[name] = {column: pg_type for column, pg_type in await cur.fetchall()}
        return types
