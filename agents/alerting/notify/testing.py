"""A local HTTP receiver that records what it is sent: the webhook receiver of tests and of the
demo, a fake Telegram Bot API, a fake upstream SOC.  Loopback only.

    with LocalReceiver() as rx:              # random free port on 127.0.0.1
        ...post to rx.url("/ioc")...
        rx.wait_for(1)                       # the requests received so far

``respond(request) -> (status, body)`` decides the answer (default 200 ``{"ok": true}``);
``stop()`` then ``start()`` again on the same port makes a receiver that is down for a while.

Run one for the demo:  python -m agents.alerting.notify.testing   (on IOC_DEMO_RECEIVER_PORT, 9194)
"""
from __future__ import annotations

import argparse
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from streams.core.settings import Settings


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.time)

    def json(self) -> Any:
        return json.loads(self.body)


Responder = Callable[[Request], tuple[int, bytes]]


def _ok(_: Request) -> tuple[int, bytes]:
    return 200, b'{"ok": true}'


class LocalReceiver:
    def __init__(self, port: int = 0, respond: Responder = _ok, *, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port
        self.respond = respond
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        if port == 0:  # reserve a free port now, so the URL is known before the receiver is up
            probe = ThreadingHTTPServer((host, 0), BaseHTTPRequestHandler)
            self.port = probe.server_address[1]
            probe.server_close()

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def start(self) -> LocalReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                req = Request(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with receiver._lock:
                    receiver.requests.append(req)
                status, answer = receiver.respond(req)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        threading.Thread(target=self._server.serve_forever, name=f"receiver:{self.port}", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def received(self, path: str | None = None) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if path is None or r.path.startswith(path)]

    def wait_for(self, n: int, *, path: str | None = None, timeout: float = 30) -> list[Request]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.received(path)
            if len(got) >= n:
                return got
            time.sleep(0.05)
        raise AssertionError(f"receiver {self.url()}: {len(self.received(path))} requests after {timeout:g} s, "
                             f"expected {n}")

    def __enter__(self) -> LocalReceiver:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="local webhook receiver: prints what it is sent")
    parser.add_argument("--port", type=int, default=None, help="default IOC_DEMO_RECEIVER_PORT (9194)")
    args = parser.parse_args()
    port = Settings().demo_receiver_port if args.port is None else args.port

    def show(req: Request) -> tuple[int, bytes]:
        print(f"{time.strftime('%H:%M:%S')} POST {req.path} {req.body.decode('utf-8', 'replace')[:2000]}", flush=True)
        return 200, b'{"ok": true}'

    rx = LocalReceiver(port, show).start()
    print(f"receiving on {rx.url()} (Ctrl-C stops)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        rx.stop()


if __name__ == "__main__":
    main()
