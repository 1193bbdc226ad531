"""Reads of history over a range for the wall: a page's family or one entity, from the rollups.

Unlike the live snapshot (one read per refresh period, shared), a history read is asked for by a
screen when its range changes; each is one query on the hour or day rollups
(``agents/indicators/queries/history.py``), whose rows are few (at most ~400 buckets per series).
"""
from __future__ import annotations

from typing import Any

from agents.indicators.history import Entity, HistoryRange
from agents.indicators.queries import history as q
from streams.core.clock import LOCAL_TZ_NAME
from streams.db.connect import Pool
from streams.db.errors import translated

Rows = list[dict[str, Any]]


class HistoryStore:
    def __init__(self, dsn: str, *, tz: str = LOCAL_TZ_NAME) -> None:
        self.tz = tz
        self.pool = Pool(dsn, role="dash-history", max_size=2, timeout_s=5, dict_rows=True)

    def _params(self, rng: HistoryRange, **extra: Any) -> dict[str, Any]:
        return {"since": rng.since, "until": rng.until, "tz": self.tz, **extra}

    def _rows(self, query: Any, params: dict[str, Any], what: str) -> Rows:
        with translated(f"wall cannot read the history of {what}", limit=200), self.pool.connection() as conn:
            return conn.execute(query, params).fetchall()

    def page(self, key: str, rng: HistoryRange) -> Rows:
        """The rows of a wall page's history (``queries.history.PAGE_QUERIES``) over ``rng``."""
        query = q.PAGE_QUERIES[key]
        return self._rows(query.sql(rng.resolution), self._params(rng), query.name)

    def entity(self, entity: Entity, rng: HistoryRange) -> Rows:
        query = q.ENTITY_QUERIES[entity.kind]
        return self._rows(query.sql(rng.resolution), self._params(rng, id=entity.id, metric=entity.metric),
                          f"{entity.kind} {entity.id}")

    def alerts(self, entity: Entity, rng: HistoryRange) -> Rows:
        return self._rows(q.ENTITY_ALERTS, self._params(rng, id=entity.id), f"the alerts of {entity.id}")

    def close(self) -> None:
        self.pool.close()
