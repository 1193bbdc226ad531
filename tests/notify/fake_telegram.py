"""A fake Telegram Bot API on a LocalReceiver: the methods the notifier calls, as documented
(https://core.telegram.org/bots/api).

    sendMessage              recorded; answers a Message with a new message_id and the chat
    getUpdates               long polling: answers the queued updates with update_id >= offset as soon
                             as there is one, else an empty list after ``timeout`` s (at most
                             ``max_wait_s``); an offset confirms, and drops, every update before it
    answerCallbackQuery      recorded
    editMessageReplyMarkup   recorded
    anything else            404, as the Bot API answers an unknown method

``press(data, chat_id, message_id, user)`` queues a callback_query as Telegram sends one when a
user presses an inline button; ``fail_polls(n, status)`` makes the next n getUpdates fail.
"""
from __future__ import annotations

import json
import threading
from typing import Any

from agents.alerting.notify.testing import LocalReceiver, Request


class FakeBotApi(LocalReceiver):
    def __init__(self, token: str, *, max_wait_s: float = 1.0) -> None:
        super().__init__(respond=self._answer)
        self.token = token
        self.max_wait_s = max_wait_s
        self.updates: list[dict[str, Any]] = []
        self.next_update_id = 1000
        self.next_message_id = 1
        self.failing: list[int] = []  # statuses of the next getUpdates
        self.changed = threading.Condition()

    def method(self, name: str) -> str:
        return f"/bot{self.token}/{name}"

    def calls(self, name: str) -> list[Request]:
        return self.received(self.method(name))

    def bodies(self, name: str) -> list[dict[str, Any]]:
        return [r.json() for r in self.calls(name)]

    def press(self, data: str, *, chat_id: int, message_id: int, user: dict[str, Any],
              chat_username: str | None = None) -> str:
        """Queue a press of an inline button; returns the callback query's id."""
        with self.changed:
            update_id = self.next_update_id
            self.next_update_id += 1
            chat = {"id": chat_id, "type": "supergroup", "title": "Tổ trực IOC",
                    **({"username": chat_username} if chat_username else {})}
            query = {"id": f"cq-{update_id}", "from": {"id": user["id"], "is_bot": False, "first_name": "Trực ban",
                                                       **user},
                     "chat_instance": "-42", "data": data,
                     "message": {"message_id": message_id, "date": 0, "chat": chat, "text": "…"}}
            self.updates.append({"update_id": update_id, "callback_query": query})
            self.changed.notify_all()
        return query["id"]

    def fail_polls(self, n: int, status: int = 502) -> None:
        with self.changed:
            self.failing.extend([status] * n)

    def _answer(self, req: Request) -> tuple[int, bytes]:
        name = req.path.removeprefix(f"/bot{self.token}/") if req.path.startswith(f"/bot{self.token}/") else ""
        body = req.json() if req.body else {}
        if name == "sendMessage":
            with self.changed:
                message_id = self.next_message_id
                self.next_message_id += 1
            return self._ok({"message_id": message_id, "date": 0, "chat": {"id": body["chat_id"]},
                             "text": body["text"], **({"reply_markup": body["reply_markup"]}
                                                      if "reply_markup" in body else {})})
        if name == "getUpdates":
            return self._get_updates(body)
        if name in ("answerCallbackQuery", "editMessageReplyMarkup"):
            return self._ok(True)
        return 404, json.dumps({"ok": False, "error_code": 404, "description": "Not Found"}).encode()

    def _get_updates(self, body: dict[str, Any]) -> tuple[int, bytes]:
        offset = body.get("offset")
        wait = min(float(body.get("timeout", 0)), self.max_wait_s)
        with self.changed:
            if self.failing:
                status = self.failing.pop(0)
                return status, json.dumps({"ok": False, "error_code": status, "description": "Bad Gateway"}).encode()
            if offset is not None:  # confirmed: forgotten
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
            self.changed.wait_for(lambda: self.updates, timeout=wait)
            batch = list(self.updates[: int(body.get("limit", 100))])
        return self._ok(batch)

    @staticmethod
    def _ok(result: Any) -> tuple[int, bytes]:
        return 200, json.dumps({"ok": True, "result": result}, ensure_ascii=False).encode()
