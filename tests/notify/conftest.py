"""Fixtures of the notification tests: a fresh database per module, a clock tests move by hand,
alert rows and outbox payloads as the evaluator writes them."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from agents.alerting.payload import build_payload
from tests.conftest import ADMIN_DSN

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=timezone.utc)


class Clock:
    """``clock()`` returns now; ``advance(seconds)`` moves it.  Starts a second after the real time,
    so that rows just written with the database's now() are due."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(timezone.utc) + timedelta(seconds=1)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def alert_row(id_: int = 7, *, rule: str = "service_unavailable", entity: str = "eoffice", state: str = "firing",
              fired_at: datetime = T0, resolved_at: datetime | None = None, **extra) -> dict:
    row = {
        "id": id_, "rule": rule, "entity": entity, "severity": "critical", "state": state,
        "started_at": T0 - timedelta(minutes=1), "fired_at": fired_at, "resolved_at": resolved_at,
        "value": 0.82, "summary_vi": f"{entity}: mức sẵn sàng 82% (ngưỡng 90%)",
        "summary_en": f"{entity}: availability 82% (threshold 90%)", "labels": {"team": "noc", "unit-code": "91"},
        "runbook": "docs/runbooks.md#service-unavailable", "acknowledged_by": None,
    }
    row.update(extra)
    return row


@pytest.fixture(scope="module")
def notify_dsn(stack):
    """A fresh, migrated database for one test module (the outbox is shared by every dispatcher)."""
    from streams.db.scratch import scratch_database

    with scratch_database(ADMIN_DSN, f"ioc_test_notify_{uuid.uuid4().hex[:8]}") as dsn:
        yield dsn


@pytest.fixture
def ndb(notify_dsn):
    """A connection to the module's database, emptied of alerts and notifications before the test."""
    with psycopg.connect(notify_dsn, autocommit=True, row_factory=dict_row) as conn:
        conn.execute("TRUNCATE notification_outbox, alert_event, alert, soc_outbox, soc_link, security_finding "
                     "RESTART IDENTITY CASCADE")
        yield conn


def insert_alert(conn, **fields) -> dict:
    row = alert_row(**fields)
    row.pop("id")
    cols = list(row)
    values = [Jsonb(v) if k == "labels" else v for k, v in row.items()]
    return conn.execute(
        f"INSERT INTO alert ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))}) RETURNING *", values
    ).fetchone()


def queue(conn, alert: dict, channel: str, receiver: str, event: str = "firing", n: int = 1) -> list[int]:
    """Outbox rows as the evaluator writes them; returns their ids."""
    payload = Jsonb(build_payload(alert, event))
    return [conn.execute(
        "INSERT INTO notification_outbox (alert_id, channel, receiver, payload) VALUES (%s, %s, %s, %s) RETURNING id",
        (alert["id"], channel, receiver, payload),
    ).fetchone()["id"] for _ in range(n)]
