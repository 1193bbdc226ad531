"""The audit trails as CSV: ranges of local days, cells a spreadsheet will not run, pieces in order."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone

import pytest

from agents.alerting.audit import TRAILS, cell, csv_chunks, day_range, parse_day, trail
from streams.core.errors import InputError


def test_a_range_of_local_days_both_ends_included():
    since, until = day_range(date(2026, 11, 1), date(2026, 11, 30))
    # Vietnam is UTC+7: the first local day starts at 17:00 UTC the evening before
    assert since.astimezone(timezone.utc) == datetime(2026, 10, 31, 17, tzinfo=timezone.utc)
    assert until.astimezone(timezone.utc) == datetime(2026, 11, 30, 17, tzinfo=timezone.utc)
    one = day_range(date(2026, 12, 2), date(2026, 12, 2))
    assert (one[1] - one[0]).total_seconds() == 86_400


@pytest.mark.parametrize("first, last, words", [
    ("2026-12-02", "2026-12-01", "ends (2026-12-01) before it starts (2026-12-02)"),
])
def test_a_backwards_range_is_refused(first, last, words):
    with pytest.raises(InputError, match=words.replace("(", r"\(").replace(")", r"\)")):
        day_range(date.fromisoformat(first), date.fromisoformat(last))


@pytest.mark.parametrize("text", ["02/12/2026", "2026-13-01", "yesterday"])
def test_a_day_that_is_not_a_day_names_the_field(text):
    with pytest.raises(InputError, match=r"^from: .* is not a day \(YYYY-MM-DD\)"):
        parse_day(text, "from")


@pytest.mark.parametrize("text", ["", None, "  "])
def test_a_missing_day_names_the_field(text):
    with pytest.raises(InputError, match=r"^to: missing: give a day \(YYYY-MM-DD\)"):
        parse_day(text, "to")


def test_an_unknown_trail_lists_the_known_ones():
    with pytest.raises(InputError, match="one of alerts, signins, changes"):
        trail("passwords")


def test_cells_in_local_time_json_and_no_formulas():
    assert cell(datetime(2026, 12, 1, 17, 30, tzinfo=timezone.utc)) == "2026-12-02T00:30:00+07:00"
    assert cell({"b": 1, "a": "x"}) == '{"a":"x","b":1}'
    assert cell(None) == "" and cell(3) == "3" and cell("Nguyễn Văn A") == "Nguyễn Văn A"
    for attack in ("=HYPERLINK(\"http://x\")", "+1+1", "-2", "@SUM(A1)", "\tcmd", "\rcmd"):
        assert cell(attack) == "'" + attack
    assert cell(-2) == "'-2"  # a negative number is text here too: no column of the trails holds one


def test_the_file_in_pieces_is_one_csv_with_a_bom_and_every_row():
    cols = TRAILS["changes"].columns
    rows = [{"id": i, "at": datetime(2026, 12, 1, tzinfo=timezone.utc), "actor": "admin", "kind": "user.add",
             "subject": f"người-{i}", "detail": {"role": "viewer"}} for i in range(1234)]
    pieces = list(csv_chunks(cols, rows, every=500))
    assert len(pieces) == 3
    text = b"".join(pieces).decode("utf-8")
    assert text.startswith("\ufeff")
    read = list(csv.reader(io.StringIO(text[1:])))
    assert read[0] == list(cols)
    assert [r[0] for r in read[1:]] == [str(i) for i in range(1234)]
    assert read[-1][4] == "người-1233" and read[1][5] == '{"role":"viewer"}'
    empty = b"".join(csv_chunks(cols, [])).decode("utf-8")
    assert empty == "\ufeff" + ",".join(cols) + "\r\n"
