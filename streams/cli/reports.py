"""History and figures for the province's leadership.

    ioc sla [--month YYYY-MM] [--csv FILE]     service levels per system for a month, as a table or CSV
    ioc rollup --since YYYY-MM-DD [--until D]  rebuild the hourly and daily rollups of those local days
    ioc report make KIND [PERIOD] [--lang vi] [--out DIR]   a report now: PDF and XLSX, archived
    ioc report due                             the reports whose period ended and that are not archived yet
                                               (the schedule: deploy/systemd/ioc-reports.timer), e-mailed
    ioc report list                            the archive, newest first
"""
from __future__ import annotations

import argparse
import csv
from pathlib import Path

from streams.cli.common import command, group
from streams.core.clock import LOCAL_TZ, utcnow

CSV_COLUMNS = ("system", "month", "target", "availability", "availability_no_data_as_down", "minutes", "up",
               "down", "no_data", "maintenance", "down_allowed", "outages", "verdict")


def _share(value: float | None) -> str:
    return "" if value is None else f"{value:.6f}"


def cmd_sla(args: argparse.Namespace, settings) -> int:
    from agents.indicators.sla import load_sla_policy, month_report, parse_month
    from streams.core.geography import load_province

    now = utcnow()
    month = parse_month(args.month) if args.month else now.astimezone(LOCAL_TZ).date().replace(day=1)
    province = load_province(settings.province_file)
    rows = month_report(settings.dsn, month, [s.code for s in province.systems], load_sla_policy(settings.sla_file),
                        LOCAL_TZ, now)
    if args.csv:
        with open(args.csv, "w", newline="", encoding="utf-8-sig") as f:
            out = csv.writer(f, lineterminator="\r\n")
            out.writerow(CSV_COLUMNS)
            for r in rows:
                out.writerow([r.system, f"{month:%Y-%m}", _share(r.target), _share(r.availability), _share(r.worst),
                              r.minutes, r.up, r.down, r.unknown, r.maintenance, round(r.allowed_down_minutes, 1),
                              len(r.outages), r.verdict])
        print(f"{args.csv}: {len(rows)} systems, {month:%Y-%m}")
        return 0
    print(f"service levels {month:%Y-%m} (Asia/Ho_Chi_Minh), {rows[0].minutes if rows else 0} minutes so far")
    print(f"{'system':<12} {'target':>8} {'avail.':>9} {'no-data':>9} {'down':>6} {'allowed':>8} "
          f"{'no data':>8} {'maint.':>7} {'outages':>7}  verdict")
    for r in rows:
        avail = "—" if r.availability is None else f"{r.availability:.4%}"
        worst = "—" if r.worst is None else f"{r.worst:.4%}"
        print(f"{r.system:<12} {r.target:>8.2%} {avail:>9} {worst:>9} {r.down:>6} {r.allowed_down_minutes:>8.0f} "
              f"{r.unknown:>8} {r.maintenance:>7} {len(r.outages):>7}  {r.verdict}")
        for o in r.outages:
            seen = f"alert #{o.alert_id}" if o.alert_id else "no alert"
            print(f"  outage {o.start.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M} – {o.end.astimezone(LOCAL_TZ):%H:%M} "
                  f"({o.minutes} min, {seen})")
    return 0


def cmd_rollup(args: argparse.Namespace, settings) -> int:
    from datetime import date, datetime, time, timedelta

    from agents.indicators.rollup_store import rebuild
    from streams.core.errors import InputError

    def day(text: str, what: str) -> date:
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise InputError(f"{what}: {text!r} is not a day (YYYY-MM-DD)") from None

    first = day(args.since, "--since")
    last = day(args.until, "--until") if args.until else utcnow().astimezone(LOCAL_TZ).date()
    if last < first:
        raise InputError(f"--until {last} is before --since {first}")
    since = datetime.combine(first, time(), LOCAL_TZ)
    until = datetime.combine(last + timedelta(days=1), time(), LOCAL_TZ)

    def progress(done: int, total: int, through: datetime) -> None:
        print(f"rollups: {done}/{total} weeks rebuilt, through {(through - timedelta(microseconds=1)).astimezone(LOCAL_TZ):%Y-%m-%d}", flush=True)

    result = rebuild(settings.dsn, since, until, LOCAL_TZ, progress=progress)
    print(f"rollups rebuilt for {first} – {last}: {result.hours} hour ranges and {result.days} day ranges")
    return 0


def cmd_report_make(args: argparse.Namespace, settings) -> int:
    from agents.indicators.ops_report import last_complete
    from ioc_dash.reports.ops_report import make_report

    today = utcnow().astimezone(LOCAL_TZ).date()
    period = args.period or last_complete(args.kind, today).label
    for report_id, name in make_report(settings, args.kind, period, args.lang.split(","), by="command line",
                                       out=Path(args.out) if args.out else None):
        print(f"#{report_id} {name}" + (f" -> {Path(args.out) / name}" if args.out else ""))
    return 0


def cmd_report_due(args: argparse.Namespace, settings) -> int:
    from agents.indicators.ops_report import KINDS, last_complete, parse_period
    from agents.indicators.report_archive import ReportArchive
    from ioc_dash.reports.ops_report import make_report, words

    now = utcnow()
    today = now.astimezone(LOCAL_TZ).date()
    archive = ReportArchive(settings.dsn)
    langs = settings.report_langs.split(",")
    made = 0
    for kind in KINDS:
        period = last_complete(kind, today)
        missing = [lang for lang in langs if not archive.has(period, lang, "pdf")]
        if not missing:
            continue
        files = make_report(settings, kind, period.label, missing, by="schedule", now=now)
        made += len(files)
        for report_id, name in files:
            print(f"#{report_id} {name}")
        if settings.report_receiver:
            w = words(settings, missing[0])
            p = parse_period(kind, period.label)
            subject = w("opsrep_mail_subject", title=w.title(p), period=w.period(p))
            links = [f"{name}: {settings.alert_page.split('/alerts/')[0]}/console/reports/file?id={i}"
                     for i, name in files]
            outbox = archive.mail(settings.report_receiver, subject, "\n".join([subject, "", *links, ""]),
                                  [i for i, _ in files])
            print(f"e-mail to {settings.report_receiver} queued (outbox #{outbox})")
    if not made:
        print("every report due is archived already")
    return 0


def cmd_report_list(args: argparse.Namespace, settings) -> int:
    from agents.indicators.report_archive import ReportArchive

    for a in ReportArchive(settings.dsn).recent(args.limit):
        print(f"#{a.id:<6} {a.kind:<5} {a.period:<10} {a.lang} {a.format:<4} {a.size:>9,} B  "
              f"{a.generated_at.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M}  {a.generated_by}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    rsub = group(sub, "report", "the operations reports (daily, weekly, monthly)",
                 description="the operations reports for the province's leadership: PDF and XLSX, archived in the "
                             "database, listed in the console (docs/reports.md)")
    p = command(rsub, "make", cmd_report_make, "make a report now (PDF and XLSX), archive it", db=True,
                log_level=False)
    p.add_argument("kind", choices=("day", "week", "month"))
    p.add_argument("period", nargs="?", help="2026-11-30 | 2026-W48 | 2026-11 (default: the last complete one)")
    p.add_argument("--lang", default="vi", choices=("vi", "en", "vi,en"), help="language(s) (default vi)")
    p.add_argument("--out", help="also write the files to this folder")
    command(rsub, "due", cmd_report_due, "make the reports whose period ended and that are not archived yet",
            db=True, log_level=False)
    p = command(rsub, "list", cmd_report_list, "the archive, newest first", db=True, log_level=False)
    p.add_argument("--limit", type=int, default=30)
    p = command(sub, "rollup", cmd_rollup, "rebuild the hourly and daily rollups of a range of days", db=True,
                log_level=False,
                description="recompute the hourly and daily rollups (agents/indicators/rollups.py) of the local days "
                            "from --since to --until (default: today) from the stored windows, a week per "
                            "transaction; the worker keeps them up to date itself, this is for history loaded "
                            "another way or a rollup added later (docs/operations.md#rollups)")
    p.add_argument("--since", required=True, help="first local day, YYYY-MM-DD")
    p.add_argument("--until", help="last local day, YYYY-MM-DD (default: today)")
    p = command(sub, "sla", cmd_sla, "service levels per system for a calendar month", db=True, log_level=False,
                description="each system's availability over a calendar month (Asia/Ho_Chi_Minh): minutes up, "
                            "down, without data (never counted up) and under maintenance (left out), the verdict "
                            "against its target (agents/indicators/data/sla.yaml, IOC_SLA_FILE) and the outages "
                            "(docs/sla.md)")
    p.add_argument("--month", help="YYYY-MM (default: this month so far)")
    p.add_argument("--csv", type=Path, help="write the figures to this CSV file instead of printing a table")
