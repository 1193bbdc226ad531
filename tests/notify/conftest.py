"""Fixtures of the notification tests: a fresh database per module, a clock tests move by hand,
alert rows and outbox payloads as the evaluator writes them, alerts fired by the alert store, a
local SMTP server."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from agents.alerting.evaluate import evaluate
from agents.alerting.payload import build_payload
from agents.alerting.rules import parse_rule
from agents.alerting.store import AlertStore
from tests.conftest import ADMIN_DSN
from tests.support import free_port

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


RULE = parse_rule({"name": "notify_test_down", "indicator": "health.availability", "condition": "below", "fire": 0.5,
                   "clear": 0.9, "severity": "critical",
                   "summary": {"vi": "{entity}: hệ thống ngừng hoạt động", "en": "{entity}: the system is down"}}, "test")


def fire(dsn: str, entity: str, routes: list[tuple[str, str]]) -> int:
    """An alert fired the way the engine fires one (two rounds through the AlertStore), its
    notifications queued to ``routes`` [(channel, receiver)]; returns its id."""
    store = AlertStore(dsn)
    now = datetime.now(timezone.utc)
    for at in (now - timedelta(seconds=1), now):
        states, transitions = evaluate([RULE], {"health.availability": {entity: 0.1}}, store.load_states(), at)
        store.apply_round({RULE.name: RULE}, states, transitions, at, receivers_for=lambda level, drill=None: routes)
    return next(a["id"] for a in store.alerts() if a["entity"] == entity and a["state"] == "firing")


class Inbox:
    def __init__(self) -> None:
        self.envelopes = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd's naming)
        if address.startswith("nobody@"):
            return "550 5.1.1 no such user"
        if address.startswith("full@"):
            return "452 4.2.2 mailbox full"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server():
    """(controller, inbox, logins) of an aiosmtpd server on a free loopback port (password "pw")."""
    inbox = Inbox()
    logins = []

    def authenticate(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"pw")

    ctl = Controller(inbox, hostname="127.0.0.1", port=free_port(), authenticator=authenticate,
                     auth_require_tls=False)
    ctl.start()
    yield ctl, inbox, logins
    ctl.stop()
