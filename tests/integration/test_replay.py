"""Record -> file -> replay through the real Kafka: same messages, same order, spacing / speed."""
from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import orjson
from kafka import KafkaConsumer, TopicPartition

from simulators.recording import Recording
from streams.core.topics import topic_name
from tests.support import ROOT, settings_env

GAPS = [0.05, 0.2, 0.1, 0.3, 0.0, 0.15, 0.25, 0.05, 0.1, 0.4] * 2  # seconds between sends
SPEED = 2.0
TOLERANCE_S = 0.06


def ioc(settings, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "streams.cli.main", *args], env=settings_env(settings),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)


def probe(i: int, ts: datetime) -> bytes:
    return orjson.dumps({"id": f"replay-{ts.timestamp():.0f}-{i}", "type": "ServiceProbe", "system": "gis",
                         "endpoint": "/wms", "dateObserved": ts.isoformat(timespec="milliseconds"),
                         "success": True, "latency_ms": 40.0 + i})


def read_from(settings, offsets: dict[TopicPartition, int], n: int, timeout_s: float = 60) -> list:
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers, group_id=None, enable_auto_commit=False)
    consumer.assign(list(offsets))
    for tp, offset in offsets.items():
        consumer.seek(tp, offset)
    got, deadline = [], time.monotonic() + timeout_s
    while len(got) < n and time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=500).values():
            got += records
    consumer.close()
    return sorted(got, key=lambda r: (r.timestamp, r.offset))


def end_offsets(settings, topic: str) -> dict[TopicPartition, int]:
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers, group_id=None)
    tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
    ends = consumer.end_offsets(tps)
    consumer.close()
    return ends


def test_a_recorded_feed_replays_in_order_with_its_spacing_scaled_and_times_shifted(test_settings, producer, tmp_path):
    out = tmp_path / "feed.jsonl.gz"
    n = len(GAPS) + 1
    recorder = ioc(test_settings, "record", "--out", str(out), "--families", "health", "--count", str(n))
    first = recorder.stdout.readline()
    assert first.startswith("record: health ->"), first + recorder.stdout.read()

    # the original feed: one key (one partition, one order), known gaps, events an hour old
    old = datetime.now(timezone.utc) - timedelta(hours=1)
    sent = []
    for i, gap in enumerate([0.0, *GAPS]):
        time.sleep(gap)
        value = probe(i, old + timedelta(seconds=sum(GAPS[:i])))
        producer("health", "gis", value)
        sent.append(value)
    producer.flush()
    assert recorder.wait(timeout=60) == 0, recorder.stdout.read()

    recorded = list(Recording(out))
    assert [m.value for m in recorded] == sent
    assert {(m.family, m.key) for m in recorded} == {("health", "gis")}
    rec_offsets = [(m.at - recorded[0].at).total_seconds() for m in recorded]
    assert abs(rec_offsets[-1] - sum(GAPS)) < 0.2  # the recording kept the original spacing

    topic = topic_name(test_settings, "health")
    before = end_offsets(test_settings, topic)
    started = datetime.now(timezone.utc)
    replayer = ioc(test_settings, "replay", str(out), "--speed", str(SPEED), "--shift-to-now")
    output, _ = replayer.communicate(timeout=60)
    assert replayer.returncode == 0, output
    assert f"replay: done, {n} messages, {n} events" in output

    replayed = read_from(test_settings, before, n)
    assert len(replayed) == n
    # the same messages, in the same order, but each event's time moved by one delta to about now
    events = [orjson.loads(r.value) for r in replayed]
    originals = [orjson.loads(v) for v in sent]
    assert [e["id"] for e in events] == [o["id"] for o in originals]
    assert [{**e, "dateObserved": None} for e in events] == [{**o, "dateObserved": None} for o in originals]
    deltas = {datetime.fromisoformat(e["dateObserved"]) - datetime.fromisoformat(o["dateObserved"])
              for e, o in zip(events, originals)}
    assert len(deltas) == 1
    assert abs((old + deltas.pop() - started).total_seconds()) < 5
    # spacing: the recorded spacing divided by the speed, without drift
    t0 = replayed[0].timestamp
    late = [round((r.timestamp - t0) / 1000 - rec / SPEED, 3) for r, rec in zip(replayed, rec_offsets)]
    assert all(abs(x) <= TOLERANCE_S for x in late), late
