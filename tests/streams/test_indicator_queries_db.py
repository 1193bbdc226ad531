"""The read side's SQL of the indicator families (``agents/indicators/queries/``): one module per
family, the only place the wall and the alert engine take it from, and every query runs on the schema."""
import importlib
import pkgutil
from datetime import datetime, timezone

import pytest

from agents.alerting.store import INDICATOR_SQL
from agents.indicators import queries
from ioc_dash.queries import PARTS

FAMILIES = tuple(importlib.import_module(m.name) for m in pkgutil.iter_modules(queries.__path__, "agents.indicators.queries."))
QUERIES = {f"{m.__name__.rsplit('.', 1)[1]}.{name}": value for m in FAMILIES
           for name, value in vars(m).items() if name.isupper() and isinstance(value, str)}
WALL_OWN = {"workers", "alerts", "drills", "soc_links"}  # not an indicator's: the wall's own queries


def test_the_wall_and_the_engine_read_the_families_sql():
    family_parts = [p for p in PARTS if p.name not in WALL_OWN]
    # health (and the e-office's tallies) … citizen, network; the sources (per feed, per producer and its past
    # weeks); the border; the security register; the service levels, the operations report and the public
    # status page, the history over a range (read by the console, the reports, /status and the history views,
    # not by the wall's snapshot)
    assert len(FAMILIES) == 13 and len(family_parts) == 25
    assert not [p.name for p in family_parts if p.sql not in QUERIES.values()]
    assert set(INDICATOR_SQL.values()) <= set(QUERIES.values())
    assert len(set(QUERIES.values())) == len(QUERIES)  # no query twice under two names


@pytest.mark.integration
@pytest.mark.parametrize("name", sorted(QUERIES))
def test_every_query_runs(db, name):
    sql = QUERIES[name]
    now = datetime.now(timezone.utc)
    params = ({"window_s": 300, "systems": ["gis"], "month_start": now, "border_cameras": ["cam-phumy-01"],
               "camera": "cam-phumy-01", "event_id": "e1", "days": 30, "at": now, "since": now, "until": now,
               "system": "gis", "rules": ["system_unavailable"], "tz": "Asia/Ho_Chi_Minh", "down_below": 0.5,
               "ahead": now, "id": "gis", "metric": "waterLevel"} if "%(" in sql
              else (now, now) if "%s" in sql else None)
    db.execute(sql, params).fetchall()
