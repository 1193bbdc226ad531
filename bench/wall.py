"""Wall load: simulated screens posting the wall's refresh callback to a running ``ioc dash``.

Each screen is a thread that posts the tick's callback requests to ``/_dash-update-component``
every refresh period, as the browser's ``dcc.Interval`` does, starting at a random point of the
first period.  The requests come from the server (``bench.dash_server``: ``/bench/refresh``).
When the wall has sign-in (``ioc_dash.auth``), every screen enters with a read-only wall token,
as a real screen does (``/?token=…`` sets its cookie).
"""
from __future__ import annotations

import http.cookiejar
import json
import random
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field


def create_token(dsn: str, name: str = "bench-wall") -> str | None:
    """A read-only wall token in the run's database; None when the wall has no sign-in."""
    try:
        from ioc_dash.auth.store import UserStore
    except ImportError:
        return None
    store = UserStore(dsn)
    try:
        return store.create_wall_token(name, actor="bench")
    finally:
        store.close()


def session(base: str, token: str | None) -> urllib.request.OpenerDirector:
    """An HTTP client with its own cookies, signed in with ``token`` when there is one."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    if token:
        with opener.open(f"{base}/?token={token}", timeout=30) as resp:
            resp.read()
    return opener


@dataclass
class WallRun:
    screens: int
    seconds: float
    latencies_s: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[str, int] = field(default_factory=dict)  # why requests failed: HTTP status or error
    late: int = 0  # refreshes that started after their period had already passed


def _screen(base: str, token: str | None, bodies: list[bytes], period: float, until: float, offset: float,
            run: WallRun, lock: threading.Lock) -> None:
    url = f"{base}/_dash-update-component"
    client = session(base, token)
    next_at = time.monotonic() + offset
    while True:
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        elif delay < -period:
            with lock:
                run.late += 1
        if time.monotonic() >= until:
            return
        started = time.perf_counter()
        ok, why = True, ""
        for body in bodies:  # the browser sends them together; one after the other here
            try:
                req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
                with client.open(req, timeout=30) as resp:
                    resp.read()
            except urllib.error.HTTPError as exc:
                ok, why = False, f"HTTP {exc.code}"
            except OSError as exc:
                ok, why = False, type(exc).__name__
        elapsed = time.perf_counter() - started
        with lock:
            if ok:
                run.latencies_s.append(elapsed)
            else:
                run.errors += 1
                run.statuses[why] = run.statuses.get(why, 0) + 1
        next_at += period
        if next_at < time.monotonic():
            next_at = time.monotonic()


def refresh_bodies(base: str, token: str | None) -> list[bytes]:
    with session(base, token).open(f"{base}/bench/refresh", timeout=10) as resp:
        return [json.dumps(b).encode() for b in json.loads(resp.read())["bodies"]]


def run_screens(base: str, token: str | None, screens: int, seconds: float, period: float,
                seed: int = 1) -> WallRun:
    rng = random.Random(seed)
    bodies = refresh_bodies(base, token)
    run = WallRun(screens, seconds)
    lock = threading.Lock()
    until = time.monotonic() + seconds
    threads = [threading.Thread(target=_screen, args=(base, token, bodies, period, until, rng.random() * period, run, lock),
                                daemon=True) for _ in range(screens)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 60)
    return run


def stats(base: str, token: str | None) -> dict:
    with session(base, token).open(f"{base}/bench/stats", timeout=10) as resp:
        return json.loads(resp.read())
