"""Recordings: the file format, the replay plan on an injected clock, shifting timestamps."""
from __future__ import annotations

import gzip
from datetime import date, datetime, timedelta, timezone
from typing import ClassVar

import orjson
import pytest
from pydantic import BaseModel

from simulators.recording import Message, Recording, RecordingError, RecordingWriter, parse_speed, replay
from simulators.timeshift import TimeShifter, first_event_time, time_paths
from streams.cli.main import main
from streams.core.contracts.base import UtcDatetime
from streams.core.validation import Decoder

T0 = datetime(2023, 6, 1, 2, 30, tzinfo=timezone.utc)


def probe(i: int, ts: datetime) -> bytes:
    return orjson.dumps({"id": f"p{i}", "type": "ServiceProbe", "system": "gis", "endpoint": "/",
                         "dateObserved": ts.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                         "success": True, "latency_ms": 12.5})


def write(path, messages, clock=lambda: T0):
    w = RecordingWriter(path, province="91", source="test", clock=clock)
    for at, family, key, value in messages:
        w.write(at, family, key, value)
    w.close()


class FakeTime:
    """A monotonic clock and a sleep that overshoots a little, as real sleeps do."""

    def __init__(self, overshoot: float = 0.0) -> None:
        self.now, self.overshoot, self.sleeps = 100.0, overshoot, 0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.sleeps += 1
        self.now += s + self.overshoot


# --- the format -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["feed.jsonl", "feed.jsonl.gz"])
def test_a_recording_reads_back_exactly_what_was_written(tmp_path, name):
    path = tmp_path / name
    binary = b"\xff\xfe not utf-8 \x00"
    msgs = [(T0, "health", "gis", probe(0, T0)),
            (T0 + timedelta(seconds=1.5), "camera", None, binary),
            (T0 + timedelta(seconds=2), "health", "dvc", b"[" + probe(1, T0) + b"," + probe(2, T0) + b"]")]
    write(path, msgs)
    if name.endswith(".gz"):
        assert path.read_bytes()[:2] == b"\x1f\x8b"
    rec = Recording(path)
    assert rec.header["province"] == "91" and rec.header["version"] == 1 and rec.header["started"].endswith("Z")
    got = list(rec)
    assert [(m.at, m.family, m.key, m.value) for m in got] == msgs
    assert [m.events for m in got] == [1, 1, 2]
    assert [m.line for m in got] == [2, 3, 4]
    raw = (gzip.open(path) if name.endswith(".gz") else open(path, "rb")).read().splitlines()
    assert orjson.loads(raw[2])["b64"] is True and "b64" not in orjson.loads(raw[1])
    assert Recording(path, families=frozenset({"camera"})).scan() == {"camera": 1}


def test_a_bad_line_is_an_error_with_its_line_number_or_is_skipped_and_counted(tmp_path):
    path = tmp_path / "bad.jsonl"
    write(path, [(T0, "health", "gis", probe(0, T0))])
    with open(path, "ab") as f:
        f.write(b"{not json\n")
        f.write(orjson.dumps({"at": "2023-06-01T02:30:01Z", "family": "weather", "value": "{}"}) + b"\n")
        f.write(orjson.dumps({"at": "yesterday", "family": "health", "value": "{}"}) + b"\n")
        f.write(orjson.dumps({"at": "2023-06-01T02:30:02Z", "family": "health", "value": "%%", "b64": True}) + b"\n")
        f.write(orjson.dumps({"family": "health", "value": "{}"}) + b"\n")
        f.write(b"\n")
        f.write(orjson.dumps({"at": "2023-06-01T02:30:03Z", "family": "health", "key": "gis", "value": "{}"}) + b"\n")
    with pytest.raises(RecordingError, match=r"bad\.jsonl:3: not JSON"):
        Recording(path).scan()
    rec = Recording(path, skip_bad=True)
    assert [m.line for m in rec] == [2, 9]
    assert rec.skipped == 5
    errors = []
    for line in range(3, 8):
        lines = path.read_bytes().splitlines()
        only = tmp_path / f"only{line}.jsonl"
        only.write_bytes(lines[0] + b"\n" + lines[line - 1] + b"\n")
        with pytest.raises(RecordingError) as exc:
            Recording(only).scan()
        errors.append(str(exc.value))
    assert errors[0].startswith(f"{tmp_path / 'only3.jsonl'}:2: not JSON (")
    assert [e.split(": ", 1)[1] for e in errors[1:]] == [
        "unknown family 'weather'; known: health, security, camera, sensor, dossier, citizen, network",
        "`at` is not an ISO 8601 time: 'yesterday'",
        "`value` is flagged b64 but is not base64",
        "missing at",
    ]


def test_a_file_without_the_header_is_refused(tmp_path):
    path = tmp_path / "plain.jsonl"
    path.write_bytes(b'{"id": 1}\n')
    with pytest.raises(RecordingError, match=r"plain\.jsonl:1: not an ioc-recording file"):
        Recording(path)


# --- the replay plan --------------------------------------------------------------------------


def messages(gaps: list[float]) -> list[Message]:
    at, out = T0, []
    for i, gap in enumerate([0.0, *gaps]):
        at += timedelta(seconds=gap)
        out.append(Message(at, "health", "gis", probe(i, at), i + 2))
    return out


@pytest.mark.parametrize("speed", [1.0, 60.0])
def test_replay_keeps_order_and_spacing_divided_by_speed_without_drift(speed):
    gaps = [0.5, 2.0, 0.0, 30.0, 0.25] * 40
    msgs = messages(gaps)
    clock = FakeTime(overshoot=0.004)  # every sleep 4 ms late: must not add up
    sent = []
    stats = replay(msgs, lambda f, k, v: sent.append((clock.now - 100.0, v)), speed=speed,
                   monotonic=clock.monotonic, sleep=clock.sleep)
    assert [v for _, v in sent] == [m.value for m in msgs]
    due = [(m.at - T0).total_seconds() / speed for m in msgs]
    assert all(abs(t - d) <= 0.0041 for (t, _), d in zip(sent, due)), "a message left off its due time"
    assert stats.messages == len(msgs) and stats.events == len(msgs)


def test_replay_at_max_speed_never_sleeps_and_reports_progress():
    msgs = messages([10.0] * 99)
    clock = FakeTime()
    reports = []

    def send(*_):
        clock.now += 0.125  # each send takes 1/8 s

    stats = replay(msgs, send, speed=None, monotonic=clock.monotonic, sleep=clock.sleep,
                   on_progress=lambda s: reports.append((s.messages, s.done, s.eta_s)), total=100)
    assert clock.sleeps == 0
    assert stats.seconds == 12.5 and stats.rate == 8.0
    assert [r[0] for r in reports] == [40, 80]  # a report every 5 s
    assert reports[0][1] == 0.4 and reports[0][2] == pytest.approx(7.5)


def test_speed_is_a_positive_factor_or_max():
    assert parse_speed("max") is None and parse_speed("60") == 60.0 and parse_speed("0.5") == 0.5
    for bad in ("0", "-2", "fast", "inf"):
        with pytest.raises(ValueError, match="positive number or 'max'"):
            parse_speed(bad)


# --- shifting timestamps ----------------------------------------------------------------------


class Response(BaseModel):
    at: UtcDatetime
    text: str


class Report(BaseModel):
    time_field: ClassVar[str] = "start_time"
    type: str = "Report"
    start_time: UtcDatetime
    end_time: UtcDatetime | None = None
    due: date
    label: str
    responses: list[Response] = []


MODELS = {"citizen": (Report,)}


def test_timestamp_fields_are_found_from_the_contract_models():
    assert sorted(time_paths(Report)) == [
        (("due",), "date"), (("end_time",), "datetime"), (("responses", "*", "at"), "datetime"),
        (("start_time",), "datetime")]


def test_shifted_timestamps_are_shifted_and_everything_else_is_kept():
    shifter = TimeShifter(timedelta(days=2, hours=1, seconds=30.4), MODELS)
    assert shifter.delta == timedelta(days=2, hours=1, seconds=30)
    event = {"type": "Report", "id": "r1", "start_time": "2023-06-01T02:30:00.123Z",
             "end_time": "2023-06-01T09:30:00+07:00", "due": "2023-06-03", "label": "2023-06-01T02:30:00Z",
             "responses": [{"at": "2023-06-01T03:00:00.000001Z", "text": "ok"}, {"at": None, "text": "?"}]}
    one = orjson.loads(shifter.shift("citizen", orjson.dumps(event)))
    assert one == {**event, "start_time": "2023-06-03T03:30:30.123Z", "end_time": "2023-06-03T10:30:30+07:00",
                   "due": "2023-06-05",
                   "responses": [{"at": "2023-06-03T04:00:30.000001Z", "text": "ok"}, {"at": None, "text": "?"}]}
    # arrays stay arrays, even of one; a single object stays an object
    assert orjson.loads(shifter.shift("citizen", orjson.dumps([event]))) == [one]
    # what is not JSON or not a timestamp is sent as recorded
    assert shifter.shift("citizen", b"{not json") == b"{not json"
    odd = {**event, "start_time": "soon"}
    assert orjson.loads(shifter.shift("citizen", orjson.dumps(odd)))["start_time"] == "soon"
    # nor a timestamp that would leave the calendar (a bad message recorded as it came)
    edge = {**event, "start_time": "9999-12-31T00:00:00Z"}
    assert orjson.loads(shifter.shift("citizen", orjson.dumps(edge)))["start_time"] == "9999-12-31T00:00:00Z"


def test_shifting_a_health_message_moves_only_its_time_and_keeps_order():
    events = [orjson.loads(probe(i, T0 + timedelta(seconds=i))) for i in range(5)]
    value = orjson.dumps(events)
    first = first_event_time("health", value)
    assert first == T0
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    shifted = orjson.loads(TimeShifter(now - first).shift("health", value))
    assert [e["dateObserved"] for e in shifted] == [
        f"2026-01-01T00:00:0{i}.000Z" for i in range(5)]
    assert [{k: v for k, v in e.items() if k != "dateObserved"} for e in shifted] == [
        {k: v for k, v in e.items() if k != "dateObserved"} for e in events]
    decoded = Decoder("health", clock=lambda: now + timedelta(seconds=5)).decode(orjson.dumps(shifted))
    assert not decoded.rejected


# --- the command line, without Kafka ----------------------------------------------------------


def test_simulate_can_write_a_recording_instead_of_kafka(tmp_path, capsys):
    out = tmp_path / "sim.jsonl.gz"
    assert main(["simulate", "--out", str(out), "--rate", "2000", "--count", "400", "--families", "health"]) == 0
    rec = Recording(out)
    assert rec.header["source"] == "simulate"
    msgs = list(rec)
    assert sum(m.events for m in msgs) >= 400
    assert [m.at for m in msgs] == sorted(m.at for m in msgs)
    decoder = Decoder("health")
    assert not any(decoder.decode(m.value).rejected for m in msgs)


def test_replay_refuses_a_bad_file_before_sending_anything(tmp_path, capsys):
    path = tmp_path / "bad.jsonl"
    write(path, [(T0, "health", "gis", probe(0, T0))])
    with open(path, "ab") as f:
        f.write(b"garbage\n")
    assert main(["replay", str(path), "--bootstrap", "127.0.0.1:1"]) == 1
    assert capsys.readouterr().err.strip().startswith(f"RecordingError: {path}:3: not JSON")
    assert main(["replay", str(path), "--speed", "fast"]) == 1
    assert "speed is a positive number or 'max'" in capsys.readouterr().err
