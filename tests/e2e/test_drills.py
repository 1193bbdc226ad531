"""Every drill's "what an operator should see", through the real product.

The eight scenarios play over the background simulators in two ``ioc drill`` processes (one for
the sensor family, at twice the speed, so the twelve-minute flood fits in six; one for every
other family), into Kafka → worker → TimescaleDB → alert engine → notifier → a webhook receiver,
and the wall in headless Chromium.  Each promised alert must reach the drill's own receiver (never
the real on-call's) for the right entity while its condition holds; each promised wall view must
appear.  The times from the step that causes each one to the alert and to the wall are written to
``.run/drill-e2e.json`` and printed (``docs/feeds.md`` shows them).
"""
from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field

import pytest

from ioc_dash.auth.store import UserStore
from simulators.drills import load_scenario
from tests.ioc_dash.browser import Browser, DashServer
from tests.support import ROOT

pytestmark = pytest.mark.integration

FAST = ("dvc-ddos", "lgsp-ndxp-outage", "eoffice-bruteforce", "storm-citizen-reports", "border-night-intrusion",
        "dossier-backlog", "network-fibre-cut")
SLOW = ("flood-salinity",)  # sensor family only, at speed 2
SPEED = {name: 1.0 for name in FAST} | {name: 2.0 for name in SLOW}
RESULTS = ROOT / ".run" / "drill-e2e.json"
MARGIN_S = 20  # an alert may reach the receiver this long after its condition ends (one evaluation + delivery)


def cell(system: str, status: str) -> str:
    """The overview's status cell of a system, in a status."""
    return f"return !!document.querySelector(`[id*='\"system\":\"{system}\"'].cell-{status}`);"


def station(code: str, badge: str) -> str:
    """A station's row on the environment page, with its status badge of a kind (ok, degraded, down)."""
    return f"return !!document.querySelector(`[id*='\"station\":\"{code}\"'] .badge-{badge}`);"


def row_text(table: str, needle: str, first: bool = False) -> str:
    rows = f"document.querySelectorAll('#{table} tbody tr')"
    if first:
        return f"const r = {rows}; return r.length > 0 && r[0].innerText.includes({json.dumps(needle)});"
    return f"return Array.from({rows}).some(r => r.innerText.includes({json.dumps(needle)}));"


def text_in(css: str, needle: str) -> str:
    return (f"const e = document.querySelector({json.dumps(css)});"
            f"return !!e && e.textContent.includes({json.dumps(needle)});")


@dataclass
class Promise:
    scenario: str
    says: str
    at: float  # scenario seconds: when the step that causes it starts
    until: float  # scenario seconds: when that condition ends
    page: str | None = None  # a wall promise: page and the check run there
    check: str | None = None
    rule: str | None = None  # an alert promise
    entity: str | None = None
    seen_s: float | None = field(default=None)  # seconds from the cause to the operator seeing it

    @property
    def kind(self) -> str:
        return "alert" if self.rule else "wall"


def wall_promises() -> list[Promise]:
    return [
        Promise("dvc-ddos", "dvc red (down) on the overview", 90, 180, "/", cell("dvc", "down")),
        Promise("network-fibre-cut", "the Kiên Lương town link red (down) on the network page", 30, 330, "/network",
                "return !!document.querySelector('#net-link-tsl-30787 .badge-down');"),
        Promise("lgsp-ndxp-outage", "NDXP red (down) on the overview", 30, 330, "/", cell("ndxp", "down")),
        Promise("lgsp-ndxp-outage", "LGSP amber (degraded) on the overview", 45, 315, "/", cell("lgsp", "degraded")),
        Promise("eoffice-bruteforce", "198.51.100.23 among the top sources of failed logins", 30, 270, "/security",
                row_text("top-sources-table", "198.51.100.23")),
        Promise("storm-citizen-reports", "the storm's reports open on the map", 60, 270, "/map",
                text_in(".legend", "Phản ánh")),
        Promise("flood-salinity", "Tắc Cậu red (danger: 1.2 m reached at 430 s)", 430, 630, "/environment", station("wl-caibe-tachcau", "down")),
        Promise("flood-salinity", "Gò Quao red (4 ‰ reached at 300 s)", 300, 660, "/environment", station("sal-goquao", "down")),
        Promise("border-night-intrusion", "cam-phumy-02 offline on the map", 150, 330, "/map",
                text_in("#incident-list", "cam-phumy-02")),
        Promise("dossier-backlog", "Giồng Riềng tops 'about to be late'", 30, 270, "/services",
                row_text("late-units-table", "Giồng Riềng", first=True)),
    ]


def alert_promises() -> list[Promise]:
    out = []
    for name in (*FAST, *SLOW):
        sc = load_scenario(name)
        for a in sc.alerts:
            out.append(Promise(name, f"{a.rule} for {a.entity}", *a.during, rule=a.rule, entity=a.entity))
    return out


def _firing(receiver, path: str = "/drill") -> dict[tuple[str, str], float]:
    """(rule, entity) -> when its first 'firing' notification reached a receiver (epoch s): the
    drill's own receiver by default (drill alerts never page the real on-call)."""
    out: dict[tuple[str, str], float] = {}
    for r in receiver.received(path):
        body = r.json()
        if body["event"] == "firing":
            key = (body["alert"]["rule"], body["alert"]["entity"])
            out.setdefault(key, r.at)
    return out


def _started(proc, names) -> float | None:
    """Epoch seconds at which the drill process said it started (its first line), or None yet."""
    text = proc.log_path.read_text(errors="replace") if proc.log_path.exists() else ""
    return time.time() if all(f"drill {n}:" in text for n in names) else None


def test_every_drill_shows_what_it_promises(pipeline):
    token = UserStore(pipeline.settings.dsn).create_wall_token(f"e2e-{uuid.uuid4().hex[:6]}", actor="tests")
    dash = DashServer(pipeline.settings, pipeline.workdir / "dash.log", IOC_RUN_DIR=str(pipeline.workdir),
                      IOC_DASH_SESSION_KEY="e" * 40, IOC_DASH_REFRESH_S="1")
    pipeline.procs["dash"] = dash
    browser = Browser("drills")
    browser.get(f"{dash.base}/wall?token={token}")
    wall, alerts = wall_promises(), alert_promises()
    fast = pipeline.start("drill-fast", "drill", *FAST, "--families", "health,security,camera,dossier,citizen,network")
    slow = pipeline.start("drill-slow", "drill", *SLOW, "--speed", str(SPEED[SLOW[0]]), "--families", "sensor")
    t0: dict[str, float] = {}
    deadline = time.monotonic() + 60 + max(load_scenario(n).duration_s / SPEED[n] for n in SPEED)
    page = None
    try:
        while time.monotonic() < deadline:
            pipeline.check_alive()
            for proc, names in ((fast, FAST), (slow, SLOW)):
                if names[0] not in t0 and (at := _started(proc, names)):
                    t0.update({n: at for n in names})
            now = time.time()
            fired = _firing(pipeline.receiver)
            for p in alerts:
                if p.seen_s is None and p.scenario in t0 and (p.rule, p.entity) in fired:
                    p.seen_s = fired[(p.rule, p.entity)] - (t0[p.scenario] + p.at / SPEED[p.scenario])
            due = [p for p in wall if p.seen_s is None and p.scenario in t0
                   and now >= t0[p.scenario] + p.at / SPEED[p.scenario]]
            for p in sorted(due, key=lambda p: p.page != page):
                if p.page != page:
                    browser.get(f"{dash.base}{p.page}")
                    page = p.page
                    browser.wait(lambda: browser.driver.execute_script(
                        "return !!document.querySelector('.page-grid')"), timeout=30, what=f"the page {page}")
                if browser.driver.execute_script(p.check):
                    p.seen_s = time.time() - (t0[p.scenario] + p.at / SPEED[p.scenario])
                    browser.shot(f"{p.scenario}-{p.page.strip('/') or 'overview'}")
            if all(p.seen_s is not None for p in (*wall, *alerts)):
                break
            time.sleep(0.5)
    finally:
        browser.close()
    rows = [{"scenario": p.scenario, "kind": p.kind, "says": p.says, "seen_s": p.seen_s,
             "within_s": (p.until - p.at) / SPEED[p.scenario]} for p in (*alerts, *wall)]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(rows, indent=1, ensure_ascii=False))
    for r in rows:
        seen = "missed" if r["seen_s"] is None else f"{r['seen_s']:.0f} s"
        print(f"{r['scenario']:24} {r['kind']:5} {r['says']:55} {seen}")
    missed = [f"{r['scenario']}: {r['says']}" for r in rows if r["seen_s"] is None]
    assert not missed, f"not seen: {missed}\nfast drill:\n{fast.log_tail()}\nslow drill:\n{slow.log_tail()}"
    late = [f"{r['scenario']}: {r['says']} after {r['seen_s']:.0f} s (condition held {r['within_s']:.0f} s)"
            for r in rows if r["kind"] == "alert" and r["seen_s"] > r["within_s"] + MARGIN_S]
    assert not late, f"alerts that came after their condition ended: {late}"
    paged = set(_firing(pipeline.receiver, "/oncall")) & {(p.rule, p.entity) for p in alerts}
    assert not paged, f"drill alerts that reached the real on-call: {paged}"
