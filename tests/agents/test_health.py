from datetime import datetime, timedelta, timezone

import pytest

from streams.core import sketch
from agents.indicators.health import (ALL_ENDPOINTS, STATUS_FILE, aggregate, health_increments, health_status,
                           load_status_rules)
from streams.core.errors import ConfigError
from streams.core.windows import window_start
from streams.core.contracts.health import RequestLog, ServiceProbe

T0 = datetime(2026, 11, 27, 1, 0, 0, tzinfo=timezone.utc)


def probe(i, ok=True, latency=50.0, at=T0, system="dvc", endpoint="/"):
    return ServiceProbe(id=f"p{i}", type="ServiceProbe", system=system, endpoint=endpoint,
                        dateObserved=at, success=ok, latency_ms=latency)


def request(i, status=200, latency=80.0, at=T0, system="dvc"):
    return RequestLog(id=f"r{i}", type="RequestLog", system=system, endpoint="/api/hoso", dateObserved=at,
                      method="GET", status_code=status, latency_ms=latency, client_ip="113.160.1.2")


def test_window_start_is_aligned():
    ts = datetime(2026, 11, 27, 1, 0, 17, 500000, tzinfo=timezone.utc)
    assert window_start(ts, 10) == datetime(2026, 11, 27, 1, 0, 10, tzinfo=timezone.utc)
    assert window_start(ts, 60) == datetime(2026, 11, 27, 1, 0, 0, tzinfo=timezone.utc)


def test_aggregate_counts_per_window_endpoint_and_system():
    events = [probe(1), probe(2, ok=False), request(1), request(2, status=503),
              request(3, at=T0 + timedelta(seconds=15))]
    incs = {i.key: i for i in aggregate(events)}
    whole = incs[("dvc", ALL_ENDPOINTS, 60, T0)]
    assert (whole.probes, whole.probes_ok, whole.requests, whole.errors) == (2, 1, 3, 1)
    assert sum(whole.latency_hist) == 5
    first10 = incs[("dvc", ALL_ENDPOINTS, 10, T0)]
    assert first10.requests == 2
    assert incs[("dvc", ALL_ENDPOINTS, 10, T0 + timedelta(seconds=10))].requests == 1
    assert incs[("dvc", "/api/hoso", 60, T0)].requests == 3
    assert incs[("dvc", "/", 60, T0)].probes == 2


def test_aggregate_is_independent_of_batching():
    events = [request(i, status=500 if i % 7 == 0 else 200, latency=10 + i,
                      at=T0 + timedelta(seconds=i)) for i in range(200)]

    def total(batches):
        acc = {}
        for b in batches:
            for inc in aggregate(b):
                row = acc.setdefault(inc.key, [0, 0, sketch.empty()])
                row[0] += inc.requests
                row[1] += inc.errors
                row[2] = sketch.merge(row[2], inc.latency_hist)
        return acc

    assert total([events]) == total([events[i:i + 13] for i in range(0, 200, 13)])


def test_increments_rows_carry_table_columns():
    incs = health_increments([probe(1)])
    (table, rows), = incs.rows.items()
    assert table.name == "health_window"
    assert set(rows[0]) == set(table.columns)


def test_status_from_counters():
    rules = load_status_rules()
    now = T0 + timedelta(seconds=30)
    base = dict(probes=10, probes_ok=10, requests=100, errors=0, latency_hist=sketch.from_values([50] * 100),
                last_event=T0)

    def status(**kw):
        return health_status("dvc", {**base, **kw}, now=now, rules=rules)

    assert status().status == "ok" and status().reasons == ()
    degraded = status(probes=100, probes_ok=95)
    assert degraded.status == "degraded" and degraded.reasons == ("availability",)
    assert status(probes=100, probes_ok=96).status == "ok"
    assert status(probes=10, probes_ok=0).status == "down"  # no probe of the window succeeded
    assert status(errors=100).status == "degraded"  # it answers its probes: failing requests are not down
    assert status(errors=5).reasons == ("error_rate",)
    assert status(requests=10, errors=6).status == "ok"  # too few requests to judge an error rate
    slow = status(latency_hist=sketch.from_values([5000] * 100))
    assert slow.status == "degraded" and slow.reasons == ("latency",)
    failing = status(probes_ok=7, last_ok=T0 - timedelta(seconds=25), last_failed=T0 - timedelta(seconds=5))
    assert failing.status == "down" and failing.reasons[0] == "not_answering"
    few = dict(probes=100, probes_ok=99)
    assert status(**few, last_ok=T0 - timedelta(seconds=15), last_failed=T0 - timedelta(seconds=5)).status == "ok"
    assert status(**few, last_ok=T0, last_failed=T0 - timedelta(seconds=30)).status == "ok"  # it answers again
    stale = health_status("dvc", base, now=T0 + timedelta(seconds=61), rules=rules)
    assert stale.status == "stale" and stale.reasons == ("no_data",)
    assert health_status("gis", {}, now=now, rules=rules).status == "stale"


def test_probes_add_their_newest_success_and_failure_to_the_window():
    s = lambda n: T0 + timedelta(seconds=n)  # noqa: E731
    events = [probe(1, at=s(0)), probe(2, ok=False, at=s(20)), probe(3, at=s(5)), probe(4, ok=False, at=s(12))]
    (row,) = [i for i in aggregate(events) if i.window_s == 60 and i.endpoint == ALL_ENDPOINTS]
    assert row.last_ok == T0 + timedelta(seconds=5) and row.last_failed == T0 + timedelta(seconds=20)
    (only_ok,) = [i for i in aggregate(events[:1]) if i.window_s == 60 and i.endpoint == ALL_ENDPOINTS]
    assert only_ok.last_failed is None


def test_the_status_file_is_checked(tmp_path):
    bad = tmp_path / "status.yaml"
    bad.write_text("window_s: 300\nstale_after_s: 60\n")
    with pytest.raises(ConfigError, match="status rules"):
        load_status_rules(bad)
    bad.write_text((STATUS_FILE.read_text()).replace("availability: 0.95", "availability: 95"))
    with pytest.raises(ConfigError, match="degraded.availability"):
        load_status_rules(bad)


def test_document_tallies_count_in_document_day_the_day_s_greatest_and_not_in_the_windows():
    from agents.indicators.health import DOCUMENT_DAY, HEALTH_WINDOW, document_values
    from streams.core.contracts.health import DocumentTally
    from streams.core.tables import combine

    at = datetime(2026, 12, 2, 3, 0, tzinfo=timezone.utc)  # 10:00 local, 2/12

    def tally(n, sent, electronic, minutes=0, level="commune"):
        return DocumentTally(id=f"t{n}", type="DocumentTally", system="eoffice", unit_code="30787", level=level,
                             dateObserved=at + timedelta(minutes=minutes), documents_sent=sent,
                             documents_sent_electronic=electronic)

    probe = ServiceProbe(id="p", type="ServiceProbe", system="eoffice", dateObserved=at, success=True, latency_ms=5.0)
    incs = health_increments([probe, tally(1, 10, 9), tally(2, 14, 12, 15), tally(3, 12, 11, 30)])
    assert sum(r["probes"] for r in incs.rows[HEALTH_WINDOW]) == 4  # 2 windows × (endpoint, *): the probe only
    row = None
    for r in incs.rows[DOCUMENT_DAY]:
        row = combine(DOCUMENT_DAY, row, r)
    assert row["time"] == datetime(2026, 12, 1, 17, 0, tzinfo=timezone.utc)  # the local day
    assert (row["documents_sent"], row["documents_sent_electronic"], row["work_records"]) == (14, 12, None)
    values = document_values([{"level": "commune", "documents_sent": 14, "documents_sent_electronic": 12,
                               "work_records": None, "work_records_online": None}])
    assert values[("office.electronic_documents_share", None)] == 12 / 14
    assert values[("office.work_records_online_share", "commune")] is None  # not counted: not measured
