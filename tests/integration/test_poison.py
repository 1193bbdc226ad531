"""No message can stall a partition: messages the dead-letter topic cannot take, through the real worker.

To every feed topic of the shared broker (``message.max.bytes`` at its default, about 1 MiB) go,
on one partition: a good event, a 1,010,022-byte event (over ``IOC_MAX_MESSAGE_BYTES`` =
1,000,000, under the broker's limit: the message that stalled five health partitions), a
999,990-byte message that is not JSON (under the worker's limit, but with its headers over the
dead-letter producer's), and a good event again.  Each big one must be dead-lettered as a
reference, the group's committed offset must move past it, both neighbours must be stored, and
no agent may have crashed.
"""
from __future__ import annotations

import base64
import hashlib
import socket
import time
import uuid
from datetime import datetime, timezone

import orjson

from agents.worker.workers import FEED_SPECS
from streams.core.topics import FEEDS
from tests.faults.corpus import examples
from tests.faults.harness import committed, produce
from tests.support import read_dead_letters, wait_for

OVER_LIMIT = 1_010_022  # the size seen in production
NOT_JSON = 999_990
TABLES = {spec.family: spec.raw.name for spec in FEED_SPECS}


def _padded(event: dict, size: int) -> bytes:
    """``event`` with a ``padding`` field making its JSON exactly ``size`` bytes."""
    bare = len(orjson.dumps({**event, "padding": ""}))
    value = orjson.dumps({**event, "padding": "x" * (size - bare)})
    assert len(value) == size
    return value


def test_messages_too_large_for_the_dead_letter_topic_never_stall_a_partition(worker, test_settings, db):
    run = uuid.uuid4().hex[:6]
    now = datetime.now(timezone.utc)
    messages, good, big = [], {}, {}
    for family in FEEDS:
        example = examples(now)[family][0]
        before, after = ({**example, "id": f"poison-{run}-{family}-{side}"} for side in ("before", "after"))
        good[family] = [before["id"], after["id"]]
        over = _padded({**example, "id": f"poison-{run}-{family}-big"}, OVER_LIMIT)
        garbage = b"{" + b"\x00not json " * ((NOT_JSON - 1) // 10) + b"!" * ((NOT_JSON - 1) % 10)
        assert len(garbage) == NOT_JSON
        key = f"poison-{run}-{family}"  # one key: one partition, in this order
        messages += [(family, key, orjson.dumps(before)), (family, key, over), (family, key, garbage),
                     (family, key, orjson.dumps(after))]
        big[family] = {"too_large": over, "not_json": garbage}
    placed = produce(test_settings, messages)  # aiokafka with max_request_size raised to 2 MB
    where = {}  # (topic, partition, offset) of each big message -> (family, reason, bytes)
    for i, family in enumerate(FEEDS):
        first, over, garbage, last = placed[4 * i: 4 * i + 4]
        assert first.partition == last.partition and last.offset == first.offset + 3
        where[(over.topic, over.partition, over.offset)] = (family, "too_large", big[family]["too_large"])
        where[(garbage.topic, garbage.partition, garbage.offset)] = (family, "not_json", big[family]["not_json"])

    def source(h: dict[str, str]) -> tuple[str | None, int, int]:
        return h.get("ioc-source-topic"), int(h.get("ioc-source-partition", -1)), int(h.get("ioc-source-offset", -1))

    read = read_dead_letters(test_settings, lambda letters: len({source(h) for h, _ in letters} & set(where)) == len(where),
                             timeout=120, what=f"{len(where)} dead letters of the big messages", logs=worker.log_tail)
    found = {source(h): (h, orjson.loads(value)) for h, value in read if source(h) in where}
    for at, (family, reason, original) in where.items():
        headers, doc = found[at]
        assert headers["ioc-reason"] == reason and headers["ioc-reference"] == "1", (family, headers)
        assert doc["size"] == len(original) == int(headers["ioc-original-size"])
        assert doc["sha256"] == hashlib.sha256(original).hexdigest() == headers["ioc-original-sha256"]
        assert base64.b64decode(doc["head_base64"]) == original[:1024]
        assert (doc["topic"], doc["partition"], doc["offset"], doc["reason"]) == (*at, reason)

    for family, ids in good.items():  # the neighbours, before and after, stored
        wait_for(lambda f=family, i=ids: db.execute(f"SELECT count(DISTINCT id) FROM {TABLES[f]} WHERE id = ANY(%s)",
                                                    (i,)).fetchone()[0] == 2,
                 timeout=60, what=f"both neighbours of the big {family} messages stored")
    ends = {(p.topic, p.partition): p.offset + 1 for p in placed[3::4]}  # past each partition's last message

    def moved() -> bool:
        done = committed(test_settings)
        return all(done.get(tp, -1) >= end for tp, end in ends.items())

    wait_for(moved, timeout=60, what="committed offsets past the big messages")

    # no agent crashed or was restarted: the worker says so in its next heartbeat
    name, checked = f"{socket.gethostname()}:{worker.proc.pid}", time.time()
    info = wait_for(lambda: (row := db.execute("SELECT info FROM worker_heartbeat WHERE worker = %s AND "
                                               "last_seen > to_timestamp(%s)", (name, checked)).fetchone()) and row[0],
                    timeout=30, what="a heartbeat of the worker")
    assert info["status"] == "ok" and info["degraded"] == [], info
    assert {f: a["crashes"] for f, a in info["agents"].items()} == {f: 0 for f in FEEDS}
    assert worker.alive() and "crashed" not in worker.log_path.read_text(errors="replace")
