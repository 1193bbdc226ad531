"""The security register as files for the department that keeps the official records: CSV and XLSX.

Written with the standard ``csv`` module (UTF-8 with a byte-order mark, so spreadsheet programs
show Vietnamese right) and xlsxwriter; XLSX read with openpyxl (read-only, values only).  The
columns are ``agents.indicators.register.FIELDS``; ``read_rows`` returns the cells for
``agents.indicators.register.from_rows``, which checks them.
"""
from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable
from typing import Any

from agents.indicators.register import FIELDS, Entry, to_rows
from streams.core.errors import InputError

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv_bytes(entries: Iterable[Entry]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(to_rows(entries))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(entries: Iterable[Entry], *, sheet: str = "register") -> bytes:
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    ws = book.add_worksheet(sheet[:31])
    bold = book.add_format({"bold": True, "bg_color": "#DDE6F0", "border": 1})
    rows = to_rows(entries)
    for r, row in enumerate(rows):
        ws.write_row(r, 0, row, bold if r == 0 else None)
    for c, name in enumerate(FIELDS):
        width = max(len(str(row[c])) for row in rows) if rows else len(name)
        ws.set_column(c, c, min(48, max(10, width + 2)))
    ws.freeze_panes(1, 1)
    book.close()
    return out.getvalue()


def read_rows(data: bytes, filename: str) -> list[list[Any]]:
    """The cells of an uploaded or given file, by its name's ending (.csv or .xlsx)."""
    if len(data) > MAX_BYTES:
        raise InputError(f"{filename}: larger than {MAX_BYTES // (1024 * 1024)} MB")
    name = filename.lower()
    if name.endswith(".csv"):
        rows = _csv_rows(data, filename)
    elif name.endswith(".xlsx"):
        rows = _xlsx_rows(data, filename)
    else:
        raise InputError(f"{filename}: a .csv or .xlsx file is expected")
    if len(rows) > MAX_ROWS + 1:
        raise InputError(f"{filename}: more than {MAX_ROWS} rows")
    return rows


def _csv_rows(data: bytes, filename: str) -> list[list[Any]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{filename}: not UTF-8 text; save the CSV as UTF-8") from None
    try:
        dialect = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [list(r) for r in csv.reader(io.StringIO(text), dialect)]


def _xlsx_rows(data: bytes, filename: str) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InputError(f"{filename}: not a readable XLSX file ({exc})") from None
    try:
        ws = book.worksheets[0]
        rows = []
        for row in ws.iter_rows(values_only=True):
            rows.append(list(row))
            if len(rows) > MAX_ROWS + 1:
                break
        return rows
    finally:
        book.close()
