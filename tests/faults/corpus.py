"""A corpus of malformed messages, with the reason each event must be rejected for.

Built in code from one valid example of every event type (``tests/streams/test_contracts.py``
and two health events), moved to ``now``: invalid UTF-8, truncated JSON, oversized messages,
deep nesting, wrong types, NaN and Infinity, coordinates out of range, far-future, ancient and
out-of-range timestamps, NUL characters, scoped IPv6 addresses, SQL and HTML in text fields,
Vietnamese text in every field, and bad events inside arrays next to good ones.  Text that is
merely hostile (SQL, HTML, Vietnamese) is valid and must be stored exactly as sent.
"""
from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import orjson

from simulators.timeshift import TimeShifter
from streams.core.clock import LOCAL_TZ
from streams.core.geography import load_province
from streams.core.settings import DEFAULT_PROVINCE_FILE
from tests.streams.test_contracts import GOOD as CONTRACT_GOOD

AT = datetime(2026, 11, 27, 2, 30, tzinfo=timezone.utc)  # the time of the examples
OK = "ok"
#: free-text fields of the examples that the raw tables keep, per type
FREE_TEXT = {
    "ServiceProbe": ("endpoint", "error"), "RequestLog": ("endpoint",), "AuthFailure": ("username", "rule"),
    "WafHit": ("rule", "uri"), "IdsAlert": ("rule", "category"), "MalwareDetection": ("malware", "file_path"),
    "CameraHealth": ("reason",), "DossierReceived": ("procedure_name",),
    "DossierReturned": ("reason",), "ReportCreated": ("title", "description", "address"),
    "ReportResponded": ("response",),
}
SQL = "'); DROP TABLE health_event; -- \" OR 1=1"
HTML = "<script>alert('xss')</script><img src=x onerror=alert(1)>"
VIETNAMESE = "Trung tâm điều hành đô thị thông minh tỉnh Kiên Giang – Rạch Giá, Hà Tiên, Phú Quốc"

HEALTH_GOOD = [
    {"id": "h1", "type": "ServiceProbe", "system": "dvc", "endpoint": "/", "dateObserved": "2026-11-27T09:30:00+07:00",
     "success": True, "latency_ms": 12.5, "status_code": 200},
    {"id": "h2", "type": "RequestLog", "system": "eoffice", "endpoint": "/van-ban/den", "method": "GET",
     "dateObserved": "2026-11-27T09:30:00+07:00", "status_code": 200, "latency_ms": 85.0, "client_ip": "113.161.4.20",
     "bytes_sent": 5120},
    {"id": "h3", "type": "DocumentTally", "system": "eoffice", "dateObserved": "2026-11-27T09:30:00+07:00",
     "unit_code": "899", "level": "district", "documents_sent": 40, "documents_sent_electronic": 38,
     "work_records": 25, "work_records_online": 21},
]


def examples(now: datetime) -> dict[str, list[dict]]:
    """One valid event of every type, per family, with its timestamps moved to ``now`` and its unit the
    one valid then (an examples' unit that has ended since is followed to the unit that kept its seat)."""
    shift = TimeShifter(now - AT)
    out = {"health": copy.deepcopy(HEALTH_GOOD), **copy.deepcopy(CONTRACT_GOOD)}
    divisions = load_province(DEFAULT_PROVINCE_FILE).divisions
    day = now.astimezone(LOCAL_TZ).date()
    shifted = {family: [shift.shift_event(family, e) for e in events] for family, events in out.items()}
    for events in shifted.values():
        for e in events:
            if "unit_code" in e:
                e["unit_code"] = divisions.primary(e["unit_code"], day)
    return shifted


@dataclass(frozen=True)
class Case:
    """One Kafka message and what must become of each of its events: ``OK`` or a reject reason."""

    name: str
    family: str
    key: str
    value: bytes | None
    expect: tuple[tuple[str, str | None], ...]  # (outcome, event id or None) per element, in order

    @property
    def good_ids(self) -> list[str]:
        return [i for outcome, i in self.expect if outcome == OK and i]


def _iso(ts: datetime) -> str:
    return ts.isoformat()


def _moved(family: str, event: dict, to: datetime) -> dict:
    at = datetime.fromisoformat(event["dateObserved"])
    return TimeShifter(to - at).shift_event(family, copy.deepcopy(event))


def _ided(event: dict, suffix: str) -> dict:
    return {**event, "id": f"{event['id']}-{suffix}"}


def corpus(now: datetime, *, max_message_bytes: int) -> list[Case]:
    """Every malformed case, per family; ids are unique across the corpus."""
    now = now.replace(microsecond=0)  # so that "now" in Unix seconds is still not before the examples' times
    good = examples(now)
    cases: list[Case] = []

    def add(name: str, family: str, value, expect, key: str = "corpus") -> None:
        raw = value if isinstance(value, bytes) or value is None else orjson.dumps(value)
        cases.append(Case(name, family, key, raw, tuple(expect)))

    for family, evs in good.items():
        base = _ided(evs[0], f"{family}-base")
        n = 0

        def fresh(ev: dict, tag: str) -> dict:
            nonlocal n
            n += 1
            return _ided(ev, f"{family}-{tag}-{n}")

        # --- whole messages that are not events
        add(f"{family}: invalid UTF-8", family, b"\xff\xfe{\"id\": \"\xc3\x28\"}", [("not_json", None)])
        add(f"{family}: truncated JSON", family, orjson.dumps(fresh(base, "cut"))[:37], [("not_json", None)])
        add(f"{family}: NaN literal", family, orjson.dumps(fresh(base, "nan"))[:-1] + b', "x": NaN}',
            [("not_json", None)])
        add(f"{family}: Infinity by exponent", family, orjson.dumps(fresh(base, "inf"))[:-1] + b', "x": 1e999}',
            [("not_json", None)])
        add(f"{family}: nested 5000 deep", family, b"[" * 5000 + b"]" * 5000, [("not_json", None)])
        add(f"{family}: a number", family, b"42", [("not_an_object", None)])
        add(f"{family}: null", family, b"null", [("not_an_object", None)])
        add(f"{family}: tombstone", family, None, [("empty", None)])
        big = fresh(base, "big")
        big["padding"] = "x" * (max_message_bytes + 10)
        add(f"{family}: larger than the limit", family, big, [("too_large", None)])
        # --- single events that break the contract
        add(f"{family}: unknown type", family, {**fresh(base, "ut"), "type": "Teleport"},
            [("unknown_type", None)])
        add(f"{family}: no type", family, {k: v for k, v in fresh(base, "nt").items() if k != "type"},
            [("invalid", None)])
        add(f"{family}: id of the wrong type", family, {**fresh(base, "wt"), "id": 12345}, [("invalid", None)])
        unix = fresh(base, "unix")  # pydantic's lax datetime: Unix seconds are taken as UTC
        add(f"{family}: timestamp as Unix seconds", family, {**unix, "dateObserved": int(now.timestamp())},
            [(OK, unix["id"])])
        for tag, to, reason in (("future", now + timedelta(days=365 * 50), "future_timestamp"),
                                ("ancient", datetime(1970, 1, 1, tzinfo=timezone.utc), "too_old")):
            ev = _moved(family, fresh(base, tag), to)  # every timestamp of the event, so it stays consistent
            add(f"{family}: timestamp {tag}", family, ev, [(reason, ev["id"])])
        for tag, ts in (("year1", "0001-01-01T00:00:00+01:00"),  # out of range once in UTC
                        ("year9999", "9999-12-31T23:59:59-01:00"),
                        ("naive", "2026-11-27T09:30:00"),
                        ("nonsense", "hôm qua lúc 9 giờ")):
            ev = fresh(base, tag)
            add(f"{family}: timestamp {tag}", family, {**ev, "dateObserved": ts}, [("invalid", ev["id"])])
        nul = fresh(base, "nul")
        add(f"{family}: NUL in the id", family, {**nul, "id": nul["id"] + "\x00"}, [("invalid", None)])
        # --- Vietnamese in every text field: codes and enums refuse it, free text keeps it
        viet = fresh(base, "vi-all")
        keep = {"id", "type", "dateObserved", "reported_at", "received_date", "due_date", "start_time"}
        add(f"{family}: Vietnamese in every field", family,
            {k: (VIETNAMESE if isinstance(v, str) and k not in keep else v) for k, v in viet.items()},
            [("invalid", viet["id"])])
        # --- arrays: bad events rejected alone, good neighbours kept
        ok1, ok2 = fresh(base, "ok"), fresh(base, "ok")
        bad = {**fresh(base, "bad"), "dateObserved": True}
        add(f"{family}: array with a bad middle", family, [ok1, bad, "text", ok2],
            [(OK, ok1["id"]), ("invalid", bad["id"]), ("not_an_object", None), (OK, ok2["id"])])
        # --- hostile but valid text is stored as sent
        for ev in evs:
            fields = FREE_TEXT.get(ev["type"], ())
            for tag, text in (("sql", SQL), ("html", HTML), ("vi", VIETNAMESE)):
                if fields:
                    hostile = fresh(ev, tag)
                    for f in fields:
                        hostile[f] = text
                    add(f"{family}: {ev['type']} with {tag} text", family, hostile, [(OK, hostile["id"])])
    _family_specific(add, good, now)
    return cases


def _family_specific(add, good: dict[str, list[dict]], now: datetime) -> None:
    probe, request, tally = good["health"]
    add("health: a tally without work records", "health",
        {k: v for k, v in tally.items() if not k.startswith("work_records")} | {"id": "h-t1"}, [(OK, "h-t1")])
    add("health: more electronic documents than sent", "health", {**tally, "id": "h-t2", "documents_sent_electronic": 41},
        [("invalid", "h-t2")])
    add("health: online work records without the total", "health", {**tally, "id": "h-t3", "work_records": None},
        [("invalid", "h-t3")])
    add("health: latency as a string", "health", {**probe, "id": "h-str", "latency_ms": "12"}, [("invalid", "h-str")])
    add("health: NUL in the endpoint", "health", {**probe, "id": "h-nul", "endpoint": "/\x00"},
        [("invalid", "h-nul")])
    add("health: NUL in the error", "health", {**probe, "id": "h-nul2", "success": False, "error": "time\x00out"},
        [("invalid", "h-nul2")])
    add("health: scoped IPv6 client", "health", {**request, "id": "h-zone", "client_ip": "fe80::1%eth0"},
        [("invalid", "h-zone")])
    add("health: IPv6 client", "health", {**request, "id": "h-v6", "client_ip": "2001:db8::7"}, [(OK, "h-v6")])
    add("health: status 99", "health", {**request, "id": "h-99", "status_code": 99}, [("invalid", "h-99")])
    add("health: 2^63 bytes", "health", {**request, "id": "h-huge", "bytes_sent": 2**63 - 1}, [(OK, "h-huge")])
    add("health: 2^64 bytes (a float once parsed)", "health",
        orjson.dumps({**request, "id": "h-huger"})[:-1] + b', "bytes_sent": 18446744073709551616}',
        [("invalid", "h-huger")])
    auth = good["security"][0]
    add("security: scoped IPv6 source", "security", {**auth, "id": "s-zone", "src_ip": "fe80::1%25"},
        [("invalid", "s-zone")])
    add("security: port 65536", "security", {**good["security"][2], "id": "s-port", "dst_port": 65536},
        [("invalid", "s-port")])
    det = good["camera"][0]
    for tag, coords in (("lon200", [200.0, 10.4]), ("lat95", [104.4, 95.0]), ("hcmc", [106.70, 10.78])):
        add(f"camera: coordinates {tag}", "camera", {**det, "id": f"c-{tag}", "location": {
            "type": "Point", "coordinates": coords}}, [("out_of_area", f"c-{tag}")])
    add("camera: coordinates as strings", "camera", {**det, "id": "c-str", "location": {
        "type": "Point", "coordinates": ["104.4", "10.4"]}}, [("invalid", "c-str")])
    report = good["citizen"][0]
    add("citizen: far-future deadline", "citizen", {**good["citizen"][1], "id": "r-dl",
                                                   "deadline": "9999-12-31T23:59:59+00:00"}, [(OK, "r-dl")])
    add("citizen: description of 4001 characters", "citizen", {**report, "id": "r-long", "description": "ạ" * 4001},
        [("invalid", "r-long")])
    dossier = good["dossier"][0]
    add("dossier: due in year 9999", "dossier", {**dossier, "id": "d-9999", "due_date": "9999-12-31T23:59:59Z"},
        [(OK, "d-9999")])
    add("dossier: signed in with VNeID", "dossier", {**dossier, "id": "d-vneid", "auth_method": "vneid"},
        [(OK, "d-vneid")])
    add("dossier: unknown sign-in", "dossier", {**dossier, "id": "d-auth-x", "auth_method": "facebook"},
        [("invalid", "d-auth-x")])
    # late: far behind the newest event of its partition (same key, so the same partition)
    newest = {**probe, "id": "h-newest", "system": "gis"}
    late = {**probe, "id": "h-late", "system": "gis", "dateObserved": _iso(now - timedelta(minutes=30))}
    add("health: newest of its partition", "health", newest, [(OK, "h-newest")], key="gis")
    add("health: 30 minutes behind it", "health", late, [("late", "h-late")], key="gis")


def elements(case: Case) -> Iterator[tuple[int | None, str, str | None]]:
    """(index in the array or None, outcome, id) of each element of a case."""
    is_array = case.value is not None and case.value[:1] == b"[" and len(case.expect) > 1
    for i, (outcome, ident) in enumerate(case.expect):
        yield (i if is_array else None), outcome, ident
