"""The security register's monthly report as PDF and XLSX, in Vietnamese or English.

``generate(settings, "2026-01", lang="vi", out_dir=…)`` reads the register as it stood at the end
of the month (``RegisterStore``), computes the figures (``agents/indicators/register_report.py``)
and writes ``register-report-2026-01-vi.pdf`` and ``.xlsx``; ``ioc register report`` calls it.

- PDF: HTML and CSS (``register_report.css``) laid out by WeasyPrint — A4, DejaVu Sans (it has every
  Vietnamese glyph), the province and the month at the top of every page, page numbers at the bottom;
  the headline figures on portrait pages, the tables on landscape ones.
- XLSX (xlsxwriter): a summary sheet with a chart of the four layers' coverage, one row per system,
  the changes and the inspections of the month, each on its sheet.

Every word of the report is in ``ioc_dash/locale/register_report.yaml`` (the layers' names in
``security.yaml``).
"""
from __future__ import annotations

import html
import io
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from agents.indicators.register import DUE, EDITABLE, LAYERS, LEVELS, MISSING, OK, Entry, Policy
from agents.indicators.register_report import (RETIRED, STATUSES, TICK, Change, Headline, Inspection, RegisterReport,
                                               SystemRow)
from ioc_dash.i18n import t
from streams.core.clock import LOCAL_TZ

CSS_FILE = Path(__file__).with_name("register_report.css")
STATUS_COLOURS = {OK: "#2e9d4f", DUE: "#e8a317", MISSING: "#c8372d"}
Step = Callable[[str], AbstractContextManager[Any]]


# --- words --------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Words:
    """The report's words and formats in one language."""

    lang: str
    province: str
    names: dict[str, str]   # system code -> its name in this language
    due_days: int

    def __call__(self, key: str, **values: Any) -> str:
        text = t(key, self.lang)
        return text.format(**values) if values else text

    def date(self, day: date | None) -> str:
        if day is None:
            return self("regrep_none")
        return day.strftime("%d/%m/%Y" if self.lang == "vi" else "%Y-%m-%d")

    def time(self, when: datetime) -> str:
        return when.astimezone(LOCAL_TZ).strftime("%d/%m/%Y %H:%M" if self.lang == "vi" else "%Y-%m-%d %H:%M")

    def number(self, value: float, decimals: int = 1) -> str:
        text = f"{value:.{decimals}f}"
        return text.replace(".", ",") if self.lang == "vi" else text

    def percent(self, share: float | None) -> str:
        if share is None:
            return self("regrep_none")
        value = share * 100
        return f"{self.number(value, 0 if value == round(value) else 1)} %"

    def period(self, year: int, month: int) -> str:
        return self("regrep_period", m=self(f"regrep_m{month:02d}"), year=year)

    def yes_no(self, value: bool) -> str:
        return self("regrep_yes" if value else "regrep_no")

    def level(self, level: int | None) -> str:
        return self("regrep_unclassified") if level is None else self("regrep_level_n", n=level)

    def status(self, status: str) -> str:
        return self(f"regrep_{status}")

    def system(self, code: str) -> str:
        return self.names.get(code, "")

    def approval(self, e: Entry | None) -> str:
        parts = [e.approval_number, self.date(e.approval_date) if e.approval_date else "", e.approval_authority] \
            if e is not None else []
        return ", ".join(p for p in parts if p) or self("regrep_none")

    def plan(self, e: Entry | None) -> str:
        return self(f"regrep_plan_{e.plan_status}") if e is not None else self("regrep_no_entry")

    def environment(self, e: Entry | None) -> str:
        if e is None:
            return self("regrep_none")
        parts = [self(f"regrep_env_{e.environment}")]
        if e.real_data:
            parts.append(self("regrep_real_data"))
        if e.live:
            parts.append(self("regrep_live"))
        if e.cleared_on is not None:
            parts.append(self("regrep_cleared", day=self.date(e.cleared_on)))
        return ", ".join(parts)

    def field(self, e: Entry, name: str) -> Any:
        """A field as a spreadsheet cell: dates stay dates, numbers numbers, the rest words."""
        value = getattr(e, name)
        if name == "environment":
            return self(f"regrep_env_{value}")
        if isinstance(value, bool):
            return self.yes_no(value)
        if isinstance(value, tuple):
            return ", ".join(value)
        return value

    def findings(self, e: Entry | None) -> str:
        return self("regrep_none") if e is None or e.inspection_findings is None else str(e.inspection_findings)

    def flags(self, row: SystemRow) -> list[str]:
        out = []
        if not row.in_province:
            out.append(self("regrep_not_in_province"))
        if row.overdue_days:
            out.append(self("regrep_flag_overdue", days=row.overdue_days))
        if row.live_uncleared:
            out.append(self("regrep_flag_uncleared"))
        if row.test_real_data:
            out.append(self("regrep_flag_test_real"))
        if row.gone:
            out.append(self("regrep_flag_gone", people=", ".join(row.gone)))
        return out

    def kind(self, change: Change) -> str:
        return self(f"regrep_k_{change.kind}")

    def fields(self, names: Iterable[str]) -> str:
        return ", ".join(self(f"regrep_f_{n}") for n in names) or self("regrep_none")

    def target(self, h: Headline, plan_number: str) -> str:
        if h.target.due is None:  # a standing target (a plan carried on)
            return self("regrep_h_target_standing", plan=plan_number, value=self.percent(h.target.value))
        return self("regrep_h_target", plan=plan_number, value=self.percent(h.target.value),
                    due=self.date(h.target.due))

    def met(self, h: Headline) -> str:
        return self("regrep_none") if h.target_met is None else self("regrep_met" if h.target_met else "regrep_not_met")


def headline_rows(h: Headline, w: Words, plan_number: str) -> list[tuple[str, str, float | int | str]]:
    """The headline figures: (label, as text, as a cell value: a count, a share 0–1 or words)."""
    return [
        (w("regrep_h_systems"), str(h.systems), h.systems),
        (w("regrep_h_approved"), str(h.approved), h.approved),
        (w("regrep_h_share"), w.percent(h.share), h.share if h.share is not None else w.percent(None)),
        (w.target(h, plan_number), w.met(h), w.met(h)),
        (w("regrep_h_overdue"), str(h.inspections_overdue), h.inspections_overdue),
        (w("regrep_h_uncleared"), str(h.live_uncleared), h.live_uncleared),
        (w("regrep_h_test_real"), str(h.test_real_data), h.test_real_data),
        (w("regrep_h_gone"), str(h.onsite_gone), h.onsite_gone),
    ]


def level_rows(h: Headline, w: Words) -> list[tuple[str, int]]:
    return [(w.level(level), h.by_level[level]) for level in (*LEVELS, None)]


def layer_rows(h: Headline, w: Words) -> list[tuple[str, list[int]]]:
    return [(w(f"layer_{layer}"), [h.layers[layer][s] for s in STATUSES]) for layer in LAYERS]


# --- PDF ----------------------------------------------------------------------------------------

def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def _table(headers: Sequence[tuple[str, str]], rows: Iterable[str], cls: str, widths: Sequence[int] = ()) -> str:
    """A table; ``widths`` in per cent of the page's width, one per column."""
    cols = "".join(f'<col style="width: {w}%">' for w in widths)
    head = "".join(f'<th class="{c}">{_e(h)}</th>' for h, c in headers)
    return (f'<table class="{cls}"><colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def _td(text: Any, cls: str = "") -> str:
    return f'<td class="{cls}">{_e(text)}</td>' if cls else f"<td>{_e(text)}</td>"


def html_document(report: RegisterReport, w: Words, *, plan_number: str, generated: datetime) -> str:
    h = report.headline
    period = w.period(report.month.year, report.month.month)
    page_css = (f"@page {{ @top-left {{ content: {_css_string(w('regrep_province', province=w.province))}; }}"
                f" @top-right {{ content: {_css_string(w('regrep_title') + ' · ' + period)}; }}"
                f" @bottom-right {{ content: {_css_string(w('regrep_page') + ' ')} counter(page)"
                f" {_css_string(' ' + w('regrep_page_of') + ' ')} counter(pages); }} }}")
    figures = "".join(f"<tr>{_td(label)}{_td(text, 'num')}</tr>" for label, text, _ in headline_rows(h, w, plan_number))
    levels = "".join(f"<tr>{_td(label)}{_td(n, 'num')}</tr>" for label, n in level_rows(h, w))
    layers = "".join(f"<tr>{_td(label)}" + "".join(_td(n, f"num {s}" if n else "num") for s, n in zip(STATUSES, counts))
                     + "</tr>" for label, counts in layer_rows(h, w))
    parts = [
        f"<h1>{_e(w('regrep_title'))}</h1>",
        f"<p class=\"meta\">{_e(w('regrep_province', province=w.province))} · {_e(period)}</p>",
        f"<p class=\"meta\">{_e(w('regrep_as_of', time=w.time(report.as_of), day=w.date(report.today)))} "
        f"{_e(w('regrep_generated', time=w.time(generated)))}</p>",
        f"<h2>{_e(w('regrep_s_headline'))}</h2>",
        _table([(w("regrep_c_label"), ""), (w("regrep_c_value"), "num")], [figures], "figures"),
        f"<h2>{_e(w('regrep_s_levels'))}</h2>",
        _table([(w("regrep_c_level"), ""), (w("regrep_systems_count"), "num")], [levels], "small"),
        f"<h2>{_e(w('regrep_s_layers'))}</h2>",
        _table([("", ""), *((w.status(s), "num") for s in STATUSES)], [layers], "small"),
        f"<p class=\"legend\">{_e(w('regrep_legend', days=w.due_days))}</p>",
        '<section class="wide">',
        f"<h2>{_e(w('regrep_s_systems'))}</h2>",
        _table([(w(k), c) for k, c in SYSTEM_HEADERS], (_system_tr(r, w) for r in report.systems), "systems",
               SYSTEM_WIDTHS_PDF),
        f"<h2>{_e(w('regrep_s_changes'))}</h2>",
        _changes(report.changes, w),
        f"<h2>{_e(w('regrep_s_inspections'))}</h2>",
        _inspections(report.inspections, w),
        "</section>",
    ]
    return (f'<!DOCTYPE html><html lang="{w.lang}"><head><meta charset="utf-8"><title>{_e(w("regrep_title"))} · '
            f'{_e(period)}</title><style>{page_css}</style></head><body>{"".join(parts)}</body></html>')


SYSTEM_HEADERS = [("regrep_c_system", ""), ("regrep_c_level", "num"), ("regrep_c_approval", ""), ("regrep_c_plan", ""),
                  ("regrep_c_env", ""), *((f"regrep_layer_{n}", "") for n in LAYERS), ("regrep_c_last", ""),
                  ("regrep_c_next", ""), ("regrep_c_findings", "num"), ("regrep_c_alerts", "")]
SYSTEM_WIDTHS_PDF = (15, 4, 12, 8, 11, 5, 5, 5, 5, 7, 7, 6, 10)  # per cent, 100 in all


def _system_tr(r: SystemRow, w: Words) -> str:
    e = r.entry
    name = w.system(r.system)
    cells = [f'<td class="code">{_e(r.system)}' + (f'<span class="name">{_e(name)}</span>' if name else "") + "</td>",
             _td(e.level if e is not None and e.level is not None else w("regrep_none"), "num"),
             _td(w.approval(e)), _td(w.plan(e)), _td(w.environment(e)),
             *(_td(w.status(r.layers[n]), r.layers[n]) for n in LAYERS),
             _td(w.date(e.last_inspection if e else None)), _td(w.date(e.next_inspection if e else None)),
             _td(w.findings(e), "num"), _td("; ".join(w.flags(r)), "flags")]
    return f'<tr class="{"" if r.in_province else "outside"}">{"".join(cells)}</tr>'


def _changes(changes: Sequence[Change], w: Words) -> str:
    if not changes:
        return f'<p class="empty">{_e(w("regrep_no_changes"))}</p>'
    rows = (f"<tr>{_td(w.time(c.at))}{_td(c.system)}{_td(w.kind(c))}{_td(c.actor)}{_td(c.reason or w('regrep_none'))}"
            f"{_td(w.fields(c.fields) if c.kind != RETIRED else w('regrep_none'))}</tr>" for c in changes)
    return _table([(w(k), "") for k in ("regrep_c_when", "regrep_c_system", "regrep_c_kind", "regrep_c_who",
                                        "regrep_c_why", "regrep_c_fields")], rows, "changes",
                  (11, 9, 8, 11, 21, 40))


def _inspections(inspections: Sequence[Inspection], w: Words) -> str:
    if not inspections:
        return f'<p class="empty">{_e(w("regrep_no_inspections"))}</p>'
    rows = (f"<tr>{_td(w.date(i.day))}{_td(i.system)}{_td(i.org or w('regrep_none'))}"
            f"{_td(w('regrep_none') if i.findings is None else i.findings, 'num')}{_td(w.date(i.next_day))}</tr>"
            for i in inspections)
    return _table([(w("regrep_c_day"), ""), (w("regrep_c_system"), ""), (w("regrep_c_org"), ""),
                   (w("regrep_c_findings"), "num"), (w("regrep_c_next"), "")], rows, "inspections",
                  (12, 12, 46, 12, 18))


def render_pdf(report: RegisterReport, w: Words, *, plan_number: str, generated: datetime) -> bytes:
    from weasyprint import CSS, HTML

    document = html_document(report, w, plan_number=plan_number, generated=generated)
    return HTML(string=document, base_url=str(CSS_FILE.parent)).write_pdf(stylesheets=[CSS(filename=str(CSS_FILE))])


# --- XLSX ---------------------------------------------------------------------------------------

def render_xlsx(report: RegisterReport, w: Words, *, plan_number: str, generated: datetime) -> bytes:
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    f = _Formats(book, w.lang)
    _summary_sheet(book, f, report, w, plan_number, generated)
    _systems_sheet(book, f, report, w)
    _changes_sheet(book, f, report, w)
    _inspections_sheet(book, f, report, w)
    book.close()
    return out.getvalue()


class _Formats:
    def __init__(self, book: Any, lang: str) -> None:
        day = "dd/mm/yyyy" if lang == "vi" else "yyyy-mm-dd"
        self.title = book.add_format({"bold": True, "font_size": 14, "font_color": "#0B3D6B"})
        self.meta = book.add_format({"font_color": "#4A5A6A"})
        self.head = book.add_format({"bold": True, "bg_color": "#DDE6F0", "border": 1, "text_wrap": True,
                                     "valign": "top"})
        self.cell = book.add_format({"border": 1, "valign": "top", "text_wrap": True})
        self.int = book.add_format({"border": 1, "valign": "top"})
        self.pct = book.add_format({"border": 1, "num_format": "0.0%"})
        self.date = book.add_format({"border": 1, "valign": "top", "num_format": day})
        self.time = book.add_format({"border": 1, "valign": "top", "num_format": f"{day} hh:mm"})
        self.section = book.add_format({"bold": True, "font_size": 11, "font_color": "#0B3D6B"})
        self.status = {s: book.add_format({"border": 1, "bg_color": c, "font_color": "#FFFFFF", "bold": True})
                       for s, c in STATUS_COLOURS.items()}

    def value(self, value: Any) -> Any:
        if isinstance(value, datetime):
            return self.time
        if isinstance(value, date):
            return self.date
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return self.int
        return self.cell


def _sheet_name(w: Words, key: str) -> str:
    return "".join(c for c in w(key) if c not in "[]:*?/\\")[:31]


def _write_table(ws: Any, f: _Formats, row: int, headers: Sequence[str], rows: Sequence[Sequence[Any]],
                 widths: Sequence[int], empty: str = "") -> int:
    ws.write_row(row, 0, headers, f.head)
    r = row
    if not rows and empty:
        ws.write(row + 1, 0, empty, f.meta)
    for r, values in enumerate(rows, start=row + 1):
        for c, value in enumerate(values):
            if isinstance(value, datetime):
                value = value.astimezone(LOCAL_TZ).replace(tzinfo=None)
            ws.write(r, c, "" if value is None else value, f.value(value))
    for c, width in enumerate(widths):
        ws.set_column(c, c, width)
    ws.freeze_panes(row + 1, 1)
    return r


def _summary_sheet(book: Any, f: _Formats, report: RegisterReport, w: Words, plan_number: str,
                   generated: datetime) -> None:
    h = report.headline
    ws = book.add_worksheet(_sheet_name(w, "regrep_sheet_summary"))
    ws.set_column(0, 0, 62)
    ws.set_column(1, 3, 16)
    ws.write(0, 0, w("regrep_title"), f.title)
    ws.write(1, 0, f"{w('regrep_province', province=w.province)} · {w.period(report.month.year, report.month.month)}",
             f.meta)
    ws.write(2, 0, w("regrep_as_of", time=w.time(report.as_of), day=w.date(report.today)), f.meta)
    ws.write(3, 0, w("regrep_generated", time=w.time(generated)), f.meta)
    row = 5
    ws.write(row, 0, w("regrep_s_headline"), f.section)
    ws.write_row(row + 1, 0, [w("regrep_c_label"), w("regrep_c_value")], f.head)
    row += 2
    for label, _, value in headline_rows(h, w, plan_number):
        ws.write(row, 0, label, f.cell)
        ws.write(row, 1, value, f.pct if isinstance(value, float) else f.value(value))
        row += 1
    row += 1
    ws.write(row, 0, w("regrep_s_levels"), f.section)
    ws.write_row(row + 1, 0, [w("regrep_c_level"), w("regrep_systems_count")], f.head)
    row += 2
    for label, n in level_rows(h, w):
        ws.write(row, 0, label, f.cell)
        ws.write(row, 1, n, f.int)
        row += 1
    row += 1
    ws.write(row, 0, w("regrep_s_layers"), f.section)
    ws.write_row(row + 1, 0, ["", *(w.status(s) for s in STATUSES)], f.head)
    first = row + 2
    for i, (label, counts) in enumerate(layer_rows(h, w)):
        ws.write(first + i, 0, label, f.cell)
        ws.write_row(first + i, 1, counts, f.int)
    last = first + len(LAYERS) - 1
    ws.write(last + 1, 0, w("regrep_legend", days=w.due_days), f.meta)
    chart = book.add_chart({"type": "bar", "subtype": "stacked"})
    for c, status in enumerate(STATUSES, start=1):
        chart.add_series({"name": [ws.name, first - 1, c], "categories": [ws.name, first, 0, last, 0],
                          "values": [ws.name, first, c, last, c], "fill": {"color": STATUS_COLOURS[status]},
                          "gap": 60})
    chart.set_title({"name": w("regrep_chart_title"), "name_font": {"size": 11}})
    chart.set_x_axis({"min": 0, "max": max(h.systems, 1), "major_unit": 1, "name": w("regrep_systems_count")})
    chart.set_y_axis({"reverse": True})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 620, "height": 300})
    ws.insert_chart(5, 3, chart)


SYSTEM_COLUMNS = ("regrep_c_code", "regrep_c_name", "regrep_c_in_province", "regrep_f_level", "regrep_c_approved",
                  "regrep_f_approval_number", "regrep_f_approval_date", "regrep_f_approval_authority",
                  "regrep_f_plan_status", "regrep_f_environment", "regrep_f_real_data", "regrep_f_live",
                  "regrep_f_cleared_on", "regrep_f_ipv6_ready", "layer_1", "layer_2", "layer_3", "layer_4",
                  "regrep_f_onsite_users", "regrep_f_onsite_contact", "regrep_f_monitoring_org",
                  "regrep_f_last_inspection", "regrep_f_next_inspection", "regrep_f_inspection_findings",
                  "regrep_f_inspection_org", "regrep_f_layer4_connected", "regrep_c_overdue_days", "regrep_c_gone",
                  "regrep_c_alerts", "regrep_f_note")
SYSTEM_WIDTHS = (12, 34, 10, 8, 10, 16, 12, 20, 16, 12, 8, 8, 12, 8, 14, 14, 14, 14, 18, 26, 30, 12, 12, 10, 28, 10,
                 10, 16, 34, 34)


def system_values(r: SystemRow, w: Words) -> list[Any]:
    """One system's cells of the systems sheet, in ``SYSTEM_COLUMNS`` order (empty fields for a system
    without an entry)."""
    values: dict[str, Any] = {
        "regrep_c_code": r.system, "regrep_c_name": w.system(r.system), "regrep_c_in_province": w.yes_no(r.in_province),
        "regrep_c_approved": w.yes_no(r.approved), "regrep_f_plan_status": w.plan(r.entry),
        **{f"layer_{n}": w.status(r.layers[n]) for n in LAYERS},
        "regrep_c_overdue_days": r.overdue_days, "regrep_c_gone": ", ".join(r.gone),
        "regrep_c_alerts": "; ".join(w.flags(r))}
    if r.entry is not None:
        for name in EDITABLE:
            values.setdefault(f"regrep_f_{name}", w.field(r.entry, name))
    return [values.get(key) for key in SYSTEM_COLUMNS]


def _systems_sheet(book: Any, f: _Formats, report: RegisterReport, w: Words) -> None:
    ws = book.add_worksheet(_sheet_name(w, "regrep_sheet_systems"))
    rows = [system_values(r, w) for r in report.systems]
    _write_table(ws, f, 0, [w(k) for k in SYSTEM_COLUMNS], rows, SYSTEM_WIDTHS)
    first_layer = SYSTEM_COLUMNS.index("layer_1")
    for i, r in enumerate(report.systems, start=1):
        for n in LAYERS:
            ws.write(i, first_layer + n - 1, w.status(r.layers[n]), f.status[r.layers[n]])


def _changes_sheet(book: Any, f: _Formats, report: RegisterReport, w: Words) -> None:
    ws = book.add_worksheet(_sheet_name(w, "regrep_sheet_changes"))
    rows = [[c.at, c.system, w.kind(c), c.actor, c.reason, w.fields(c.fields) if c.kind != RETIRED else ""]
            for c in report.changes]
    _write_table(ws, f, 0, [w(k) for k in ("regrep_c_when", "regrep_c_system", "regrep_c_kind", "regrep_c_who",
                                           "regrep_c_why", "regrep_c_fields")], rows, (17, 12, 14, 18, 40, 60),
                 w("regrep_no_changes"))


def _inspections_sheet(book: Any, f: _Formats, report: RegisterReport, w: Words) -> None:
    ws = book.add_worksheet(_sheet_name(w, "regrep_sheet_inspections"))
    rows = [[i.day, i.system, i.org, i.findings, i.next_day] for i in report.inspections]
    _write_table(ws, f, 0, [w(k) for k in ("regrep_c_day", "regrep_c_system", "regrep_c_org", "regrep_c_findings",
                                           "regrep_c_next")], rows, (12, 12, 44, 12, 16),
                 w("regrep_no_inspections"))


# --- the report from the database ---------------------------------------------------------------

def file_stem(month_label: str, lang: str) -> str:
    return f"register-report-{month_label}-{lang}"


def generate(settings: Any, month_text: str, *, lang: str, out_dir: Path, now: datetime,
             step: Step = lambda _: nullcontext(), policy: Policy | None = None) -> list[Path]:
    """Read the register, compute the report of the month ``YYYY-MM`` and write its PDF and XLSX
    into ``out_dir``; ``step(what)`` wraps each stage (progress lines).  The paths written."""
    from agents.indicators.plan import load_plans
    from agents.indicators.register import load_policy
    from agents.indicators.register_report import build_report, classified_target, parse_month, report_time
    from agents.indicators.register_store import RegisterStore
    from streams.core.geography import load_province

    month = parse_month(month_text)
    as_of = report_time(month, now)
    province = load_province(settings.province_file)
    plan = load_plans(settings.plan_dir).require(as_of.astimezone(LOCAL_TZ).date())  # the plan of the month
    policy = policy or load_policy()
    with step("reading the register"):
        store = RegisterStore(settings.dsn, max_connections=1)
        try:
            entries = store.entries(as_of)
            users = store.user_states(None if as_of == now else as_of)
            before = store.rows(month.start - TICK)
            versions = store.changes(month.start, month.end)
            retirements = store.retirements(month.start, month.end)
        finally:
            store.close()
    report = build_report(month, as_of=as_of, entries=entries, systems=[s.code for s in province.systems],
                          users=users, policy=policy, target=classified_target(plan), before=before,
                          versions=versions, retirements=retirements)
    names = {s.code: (s.name_en if lang == "en" else s.name) for s in province.systems}
    w = Words(lang, province.name_on(date(month.year, month.month, 1)), names,
              policy.due_within_days)  # the province of the month: a predecessor before a merger
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / file_stem(month.label, lang)
    written = []
    for suffix, render in ((".pdf", render_pdf), (".xlsx", render_xlsx)):
        with step(f"writing {stem.with_suffix(suffix).name}"):
            data = render(report, w, generated=now,
                          plan_number=plan.number or (plan.short_en if lang == "en" else plan.short_vi))
            path = stem.with_suffix(suffix)
            path.write_bytes(data)
            written.append(path)
    return written
