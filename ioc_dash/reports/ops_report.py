"""The operations report (daily, weekly, monthly) as PDF and XLSX, in Vietnamese or English.

``generate(settings, "month", "2026-11", lang="vi")`` reads the period's figures
(``agents/indicators/ops_report.py``) and returns the two files; ``ioc report`` and the console's
reports page call it, and archive what it returns (``agents/indicators/report_archive.py``).

- PDF: HTML and CSS laid out by WeasyPrint (the register's report's stylesheet and helpers), with
  charts drawn by Matplotlib as SVG — vector, so they print sharp, and Matplotlib draws without a
  browser or a display, which Plotly's static export needs (Chrome through Kaleido).
- XLSX (xlsxwriter): one sheet per section, figures as numbers (shares as percentages), and the
  spreadsheet's own charts, so the department can rework them.

Every word is in ``ioc_dash/locale/ops_report.yaml``.
"""
from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from agents.indicators.ops_report import OpsReport, Period, parse_period, read_report
from agents.indicators.sla import load_sla_policy
from ioc_dash.i18n import t
from ioc_dash.reports.register_report import CSS_FILE, _css_string, _e, _table, _td
from streams.core.clock import LOCAL_TZ, utcnow
from streams.core.geography import Province

LAYERS = ("1", "2", "3", "4", "0")
VERDICT_COLOURS = {"meets": "#2e9d4f", "misses": "#c8372d", "undetermined": "#e8a317", "no_data": "#8a96a3"}


@dataclass(frozen=True, slots=True)
class Words:
    lang: str
    province: str
    names: dict[str, str]

    def __call__(self, key: str, **values: Any) -> str:
        text = t(key, self.lang)
        return text.format(**values) if values else text

    def number(self, value: float, decimals: int = 1) -> str:
        text = f"{value:,.{decimals}f}"
        return text.replace(",", " ").replace(".", ",") if self.lang == "vi" else text

    def count(self, value: int) -> str:
        return self.number(value, 0)

    def percent(self, share: float | None, decimals: int = 2) -> str:
        return self("opsrep_none") if share is None else f"{self.number(share * 100, decimals)} %"

    def time(self, when: datetime | None) -> str:
        if when is None:
            return self("opsrep_none")
        return when.astimezone(LOCAL_TZ).strftime("%d/%m/%Y %H:%M" if self.lang == "vi" else "%Y-%m-%d %H:%M")

    def day(self, d) -> str:
        return d.strftime("%d/%m/%Y" if self.lang == "vi" else "%Y-%m-%d")

    def period(self, p: Period) -> str:
        if p.kind == "day":
            return self("opsrep_period_day", day=self.day(p.first))
        if p.kind == "week":
            return self("opsrep_period_week", week=p.first.isocalendar()[1], first=self.day(p.first),
                        last=self.day(p.last))
        return self("opsrep_period_month", month=f"{p.first.month:02d}/{p.first.year}")

    def title(self, p: Period) -> str:
        return self(f"opsrep_title_{p.kind}")

    def minutes(self, n: float) -> str:
        hours, minutes = divmod(round(n), 60)
        return self("opsrep_hm", h=hours, m=f"{minutes:02d}") if hours else self("opsrep_m", m=minutes)

    def layer(self, key: str) -> str:
        return self(f"opsrep_layer_{key}")

    def system(self, code: str) -> str:
        return self.names.get(code, code)

    def plan(self, r: OpsReport) -> str:
        """The plan the targets come from: its number, else its short name; or that none was in effect."""
        if r.plan is None:
            return self("opsrep_no_plan", day=self.day(r.period.last))
        return r.plan.number or (r.plan.short_vi if self.lang == "vi" else r.plan.short_en) or r.plan.name


# --- rows shared by the PDF and the XLSX ----------------------------------------------------------

def headline(r: OpsReport, w: Words) -> list[tuple[str, str, Any]]:
    """(label, text, cell value) of the report's first table."""
    met = sum(s.verdict == "meets" for s in r.services)
    d = r.dossiers
    return [
        (w("opsrep_h_services"), f"{met}/{len(r.services)}", met),
        (w("opsrep_h_outages"), w.count(sum(len(s.outages) for s in r.services)), sum(len(s.outages) for s in r.services)),
        (w("opsrep_h_security"), w.count(r.security_events), r.security_events),
        (w("opsrep_h_dossiers"), w.count(d.received), d.received),
        (w("opsrep_h_on_time"), w.percent(d.on_time_rate, 1), d.on_time_rate),
        (w("opsrep_h_citizens"), w.count(r.citizens_received), r.citizens_received),
        (w("opsrep_h_satisfaction"), w.percent(r.satisfaction, 1), r.satisfaction),
    ]


def service_rows(r: OpsReport, w: Words) -> list[list[Any]]:
    return [[w.system(s.system), s.target, s.availability, s.worst if s.up + s.down else None, s.down, s.unknown,
             s.maintenance, len(s.outages), w(f"opsrep_verdict_{s.verdict}")] for s in r.services]


def dossier_rows(r: OpsReport, w: Words) -> list[list[Any]]:
    d = r.dossiers
    rows: list[list[Any]] = [[w("opsrep_d_received"), d.received, None, None],
                             [w("opsrep_d_resolved"), d.resolved, None, None]]
    for c in r.targets:
        if c.measure is None:
            continue
        level = w(f"opsrep_level_{c.target.level}") if c.target.level else w("opsrep_level_all")
        name = (c.target.vi if w.lang == "vi" else c.target.en) + f" ({level})"
        rows.append([name, c.value, c.target.value,
                     w("opsrep_none") if c.met is None else w("opsrep_met" if c.met else "opsrep_not_met")])
    return rows


def citizen_rows(r: OpsReport, w: Words) -> list[list[Any]]:
    return [[a, s.responded, s.responded_late, s.p50_minutes / 60 if s.p50_minutes is not None else None,
             s.rating_mean, s.satisfaction_share] for a, s in sorted(r.citizens.items())]


def source_rows(r: OpsReport, w: Words) -> list[list[Any]]:
    return [[s.source, s.received, s.correct, s.clean, s.rejected, w.time(s.last_arrival)] for s in r.sources]


# --- charts (Matplotlib, SVG) -----------------------------------------------------------------------

def _svg(fig: Any) -> str:
    out = io.BytesIO()
    fig.savefig(out, format="svg", bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def availability_chart(r: OpsReport, w: Words) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [w.system(s.system) for s in r.services][::-1]
    values = [(s.availability or 0) * 100 for s in r.services][::-1]
    colours = [VERDICT_COLOURS[s.verdict] for s in r.services][::-1]
    fig, ax = plt.subplots(figsize=(7.2, 0.32 * len(names) + 0.9))
    ax.barh(names, values, color=colours)
    low = min([v for v in values if v] + [99.0])
    ax.set_xlim(max(0.0, low - 0.5), 100)
    for target in {s.target * 100 for s in r.services}:
        ax.axvline(target, color="#555", lw=0.6, ls="--")
    ax.set_xlabel(w("opsrep_chart_availability"), fontsize=8)
    ax.tick_params(labelsize=7)
    fig.patch.set_alpha(0)
    return _svg(fig)


def security_chart(r: OpsReport, w: Words) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by = {row.key: row for row in r.security_layers}
    labels = [w.layer(k) for k in LAYERS]
    events = [by[k].events if k in by else 0 for k in LAYERS]
    blocked = [by[k].blocked if k in by else 0 for k in LAYERS]
    fig, ax = plt.subplots(figsize=(7.2, 2.4))
    ax.bar(labels, events, color="#4e79a7", label=w("opsrep_c_events"))
    ax.bar(labels, blocked, color="#f28e2b", label=w("opsrep_c_blocked"), width=0.4)
    ax.legend(fontsize=7)
    ax.tick_params(labelsize=7)
    fig.patch.set_alpha(0)
    return _svg(fig)


# --- PDF ------------------------------------------------------------------------------------------------

def _cell(value: Any, w: Words, kind: str = "") -> str:
    if value is None:
        return _td(w("opsrep_none"), "num")
    if kind == "pct":
        return _td(w.percent(value), "num")
    if kind == "min":
        return _td(w.minutes(value), "num")
    if kind == "h":
        return _td(w.number(value, 1), "num")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _td(w.count(value) if isinstance(value, int) else w.number(value, 2), "num")
    return _td(value)


def _rows(rows: Sequence[Sequence[Any]], kinds: Sequence[str], w: Words) -> list[str]:
    return ["<tr>" + "".join(_cell(v, w, k) for v, k in zip(row, kinds)) + "</tr>" for row in rows]


SERVICE_HEAD = ("opsrep_c_system", "opsrep_c_target", "opsrep_c_availability", "opsrep_c_worst", "opsrep_c_down",
                "opsrep_c_unknown", "opsrep_c_maintenance", "opsrep_c_outages", "opsrep_c_verdict")
SERVICE_KINDS = ("", "pct", "pct", "pct", "min", "min", "min", "", "")
DOSSIER_HEAD = ("opsrep_c_indicator", "opsrep_c_value", "opsrep_c_plan_target", "opsrep_c_met")
CITIZEN_HEAD = ("opsrep_c_agency", "opsrep_c_answered", "opsrep_c_late", "opsrep_c_p50_h", "opsrep_c_rating",
                "opsrep_c_satisfied")
CITIZEN_KINDS = ("", "", "", "h", "", "pct")
SOURCE_HEAD = ("opsrep_c_source", "opsrep_c_received", "opsrep_c_correct", "opsrep_c_clean", "opsrep_c_rejected",
               "opsrep_c_last")
SOURCE_KINDS = ("", "", "pct", "pct", "", "")


def html_document(r: OpsReport, w: Words) -> str:
    period = w.period(r.period)
    page_css = (f"@page {{ @top-left {{ content: {_css_string(w('opsrep_province', province=w.province))}; }}"
                f" @top-right {{ content: {_css_string(w.title(r.period) + ' · ' + period)}; }}"
                f" @bottom-right {{ content: {_css_string(w('opsrep_page') + ' ')} counter(page); }} }}")
    head = lambda keys: [(w(k), "") for k in keys]  # noqa: E731
    dossier_kinds = ["", *(["pct"] * 2), ""]
    d_rows = dossier_rows(r, w)
    parts = [
        f"<h1>{_e(w.title(r.period))}</h1>",
        f"<p class=\"meta\">{_e(w('opsrep_province', province=w.province))} · {_e(period)}</p>",
        f"<p class=\"meta\">{_e(w('opsrep_generated', time=w.time(r.generated)))}</p>",
        f"<h2>{_e(w('opsrep_s_headline'))}</h2>",
        _table([(w("opsrep_c_indicator"), ""), (w("opsrep_c_value"), "num")],
               [f"<tr>{_td(label)}{_td(text, 'num')}</tr>" for label, text, _ in headline(r, w)], "figures"),
        f"<h2>{_e(w('opsrep_s_services'))}</h2>",
        f'<img class="chart" src="{availability_chart(r, w)}" alt="">',
        _table(head(SERVICE_HEAD), _rows(service_rows(r, w), SERVICE_KINDS, w), "services"),
        f"<p class=\"legend\">{_e(w('opsrep_services_legend'))}</p>",
        f"<h2>{_e(w('opsrep_s_security'))}</h2>",
        f'<img class="chart" src="{security_chart(r, w)}" alt="">',
        _table(head(("opsrep_c_layer", "opsrep_c_events", "opsrep_c_blocked")),
               _rows([[w.layer(x.key), x.events, x.blocked] for x in r.security_layers], ("", "", ""), w), "small"),
        _table(head(("opsrep_c_kind", "opsrep_c_events", "opsrep_c_blocked")),
               _rows([[x.key, x.events, x.blocked] for x in r.security_types], ("", "", ""), w), "small"),
        f"<h2>{_e(w('opsrep_s_dossiers', plan=w.plan(r)))}</h2>",
        _table(head(DOSSIER_HEAD), [
            "<tr>" + "".join(_cell(v, w, k if i > 1 else "") for v, k in zip(row, dossier_kinds)) + "</tr>"
            for i, row in enumerate(d_rows)], "small"),
        f"<h2>{_e(w('opsrep_s_citizens'))}</h2>",
        _table(head(CITIZEN_HEAD), _rows(citizen_rows(r, w), CITIZEN_KINDS, w), "small")
        if r.citizens else f'<p class="empty">{_e(w("opsrep_no_citizens"))}</p>',
        f"<h2>{_e(w('opsrep_s_sources'))}</h2>",
        _table(head(SOURCE_HEAD), _rows(source_rows(r, w), SOURCE_KINDS, w), "small"),
    ]
    return (f'<!DOCTYPE html><html lang="{w.lang}"><head><meta charset="utf-8"><title>{_e(w.title(r.period))} · '
            f'{_e(period)}</title><style>{page_css} img.chart {{ width: 100%; }}</style></head>'
            f'<body>{"".join(parts)}</body></html>')


def render_pdf(r: OpsReport, w: Words) -> bytes:
    from weasyprint import CSS, HTML

    return HTML(string=html_document(r, w), base_url=str(CSS_FILE.parent)).write_pdf(
        stylesheets=[CSS(filename=str(CSS_FILE))])


# --- XLSX -----------------------------------------------------------------------------------------

def render_xlsx(r: OpsReport, w: Words) -> bytes:
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    bold = book.add_format({"bold": True, "bg_color": "#DDE6F0", "border": 1, "text_wrap": True, "valign": "top"})
    title = book.add_format({"bold": True, "font_size": 14, "font_color": "#0B3D6B"})
    pct = book.add_format({"num_format": "0.00%"})
    num = book.add_format({"num_format": "#,##0"})
    dec = book.add_format({"num_format": "0.0"})

    def sheet(name: str, head: Sequence[str], rows: Sequence[Sequence[Any]], kinds: Sequence[str]) -> Any:
        ws = book.add_worksheet(w(name)[:31])
        ws.write(0, 0, f"{w.title(r.period)} · {w.period(r.period)}", title)
        ws.write_row(2, 0, [w(k) for k in head], bold)
        for i, row in enumerate(rows):
            for j, (value, kind) in enumerate(zip(row, kinds)):
                fmt = {"pct": pct, "h": dec}.get(kind, num if isinstance(value, int) else None)
                if value is None:
                    ws.write_blank(3 + i, j, None)
                else:
                    ws.write(3 + i, j, value, fmt)
        ws.set_column(0, 0, 34)
        ws.set_column(1, len(head), 14)
        ws.freeze_panes(3, 1)
        return ws

    summary = book.add_worksheet(w("opsrep_sheet_summary")[:31])
    summary.write(0, 0, w.title(r.period), title)
    summary.write(1, 0, f"{w('opsrep_province', province=w.province)} · {w.period(r.period)}")
    summary.write(2, 0, w("opsrep_generated", time=w.time(r.generated)))
    summary.write_row(4, 0, [w("opsrep_c_indicator"), w("opsrep_c_value")], bold)
    for i, (label, _, value) in enumerate(headline(r, w)):
        summary.write(5 + i, 0, label)
        if value is None:
            summary.write(5 + i, 1, w("opsrep_none"))
        else:
            summary.write(5 + i, 1, value, pct if isinstance(value, float) else num)
    summary.set_column(0, 0, 48)
    summary.set_column(1, 1, 16)

    services = service_rows(r, w)
    ws = sheet("opsrep_sheet_services", SERVICE_HEAD, services,
               ("", "pct", "pct", "pct", "", "", "", "", ""))
    if services:
        chart = book.add_chart({"type": "bar"})
        chart.add_series({"name": w("opsrep_c_availability"),
                          "categories": [ws.name, 3, 0, 2 + len(services), 0],
                          "values": [ws.name, 3, 2, 2 + len(services), 2]})
        chart.set_x_axis({"num_format": "0.0%", "min": 0.95, "max": 1})
        chart.set_legend({"none": True})
        ws.insert_chart(4 + len(services), 0, chart)
    layers = [[w.layer(x.key), x.events, x.blocked] for x in r.security_layers]
    ws = sheet("opsrep_sheet_security", ("opsrep_c_layer", "opsrep_c_events", "opsrep_c_blocked"),
               layers + [[]] + [[x.key, x.events, x.blocked] for x in r.security_types], ("", "", ""))
    if layers:
        chart = book.add_chart({"type": "column"})
        chart.add_series({"name": w("opsrep_c_events"), "categories": [ws.name, 3, 0, 2 + len(layers), 0],
                          "values": [ws.name, 3, 1, 2 + len(layers), 1]})
        ws.insert_chart(1, 5, chart)
    sheet("opsrep_sheet_dossiers", DOSSIER_HEAD, dossier_rows(r, w), ("", "pct", "pct", ""))
    sheet("opsrep_sheet_citizens", CITIZEN_HEAD, citizen_rows(r, w), CITIZEN_KINDS)
    sheet("opsrep_sheet_sources", SOURCE_HEAD, source_rows(r, w), SOURCE_KINDS)
    book.close()
    return out.getvalue()


# --- the whole ----------------------------------------------------------------------------------------

def _province(settings: Any, province: Province | None) -> Province:
    from streams.core.geography import load_province

    return province if province is not None else load_province(settings.province_file)


def build(settings: Any, kind: str, period_text: str, *, now: datetime | None = None,
          province: Province | None = None) -> OpsReport:
    from agents.indicators.plan import load_plans

    province = _province(settings, province)
    period = parse_period(kind, period_text)
    return read_report(settings.dsn, period, systems=[s.code for s in province.systems],
                       policy=load_sla_policy(settings.sla_file), plan=load_plans(settings.plan_dir).in_effect(period.last),
                       tz=LOCAL_TZ, now=now or utcnow())


def words(settings: Any, lang: str, province: Province | None = None) -> Words:
    province = _province(settings, province)
    names = {s.code: (s.name if lang == "vi" else s.name_en) for s in province.systems}
    return Words(lang, province.name, names)


def render(report: OpsReport, w: Words) -> dict[str, bytes]:
    return {"pdf": render_pdf(report, w), "xlsx": render_xlsx(report, w)}


def make_report(settings: Any, kind: str, period: str, langs: Sequence[str], *, by: str, out: Path | None = None,
                now: datetime | None = None) -> list[tuple[int, str]]:
    """Make and archive (and write to ``out``) the report of ``kind`` and ``period`` in each language:
    (archive id, file name) of every file."""
    from agents.indicators.report_archive import ReportArchive

    province = _province(settings, None)
    report = build(settings, kind, period, now=now, province=province)
    archive = ReportArchive(settings.dsn)
    made = []
    for lang in langs:
        for fmt, content in render(report, words(settings, lang, province)).items():
            name = f"ioc-report-{report.period.label}-{lang}.{fmt}"
            made.append((archive.save(report.period, lang, fmt, content, by), name))
            if out is not None:
                out.mkdir(parents=True, exist_ok=True)
                (out / name).write_bytes(content)
    return made
