"""``ioc register``: the security register of the information systems (docs/security-register.md).

    ioc register list [--at 2026-01-31]                 every entry (or as it stood that day), with its four layers
    ioc register show SYSTEM                            one entry and every version of it (the audit)
    ioc register set SYSTEM field=value… [--reason R]   change fields of an entry (creates it when new)
    ioc register retire SYSTEM [--reason R]             close an entry (its history stays)
    ioc register export FILE.csv|FILE.xlsx              the current entries as a file
    ioc register import FILE.csv|FILE.xlsx [--reason R] entries from a file: all of it, or nothing when a row is wrong
    ioc register report --month 2026-01 [--lang en] [--out DIR]
                                                        the month's report of the register, PDF and XLSX
"""
from __future__ import annotations

import argparse
from datetime import datetime, time
from pathlib import Path

from streams.cli.common import command, group
from streams.cli.users import _actor
from streams.core.clock import LOCAL_TZ, utcnow
from streams.core.errors import InputError


def _store(settings):
    from agents.indicators.register_store import RegisterStore

    return RegisterStore(settings.dsn, max_connections=1)


def _systems(settings) -> list[str]:
    from streams.core.geography import load_province

    return [s.code for s in load_province(settings.province_file).systems]


def cmd_list(args: argparse.Namespace, settings) -> int:
    from agents.indicators.register import coverage, load_policy

    at = None
    if args.at:
        try:
            at = datetime.combine(datetime.strptime(args.at, "%Y-%m-%d").date(), time(23, 59, 59), LOCAL_TZ)
        except ValueError:
            raise InputError(f"--at {args.at!r}: a date YYYY-MM-DD is expected") from None
    store = _store(settings)
    try:
        entries = {e.system: e for e in store.entries(at)}
        users = store.user_states()
    finally:
        store.close()
    today = (at or utcnow()).astimezone(LOCAL_TZ).date()
    policy = load_policy()
    print(f"{'system':14} {'level':5} {'approved':8} {'env':10} {'L1':7} {'L2':7} {'L3':7} {'L4':7} next inspection")
    for code in dict.fromkeys([*_systems(settings), *entries]):
        e = entries.get(code)
        layers = coverage(e, users, today, policy)
        print(f"{code:14} {str(e.level) if e and e.level else '-':5} {('yes' if e and e.approved else 'no'):8} "
              f"{e.environment if e else '-':10} " + " ".join(f"{layers[i]:7}" for i in (1, 2, 3, 4)) +
              f" {e.next_inspection.isoformat() if e and e.next_inspection else '-'}")
    return 0


def cmd_show(args: argparse.Namespace, settings) -> int:
    from agents.indicators.register import FIELDS, cell, entry_from_row

    store = _store(settings)
    try:
        versions = store.history(args.system)
    finally:
        store.close()
    if not versions:
        print(f"{args.system}: not in the register")
        return 1
    current = versions[0]
    if current["valid_to"] is None:
        entry = entry_from_row(current)
        for name in FIELDS:
            print(f"{name:20} {cell(entry, name)}")
    else:
        print(f"{args.system}: retired {current['valid_to'].astimezone(LOCAL_TZ):%Y-%m-%d %H:%M} by {current['retired_by'] or '?'}")
    print("\nversions (newest first):")
    for v in versions:
        end = f"{v['valid_to'].astimezone(LOCAL_TZ):%Y-%m-%d %H:%M}" if v["valid_to"] else "current"
        print(f"  #{v['id']:<6} {v['valid_from'].astimezone(LOCAL_TZ):%Y-%m-%d %H:%M} → {end:16} by {v['changed_by']}"
              + (f": {v['change_reason']}" if v["change_reason"] else ""))
    return 0


def cmd_set(args: argparse.Namespace, settings) -> int:
    from agents.indicators.register import entry_from_row, parse_entry

    values = {}
    for pair in args.values:
        name, sep, value = pair.partition("=")
        if not sep:
            raise InputError(f"{pair!r}: write field=value (fields: see `ioc register show`)")
        values[name.strip()] = value
    if args.system not in _systems(settings):
        raise InputError(f"{args.system}: not a system of the province file {settings.province_file}")
    store = _store(settings)
    try:
        history = store.history(args.system)
        base = entry_from_row(history[0]) if history and history[0]["valid_to"] is None else None
        saved = store.save(parse_entry(args.system, values, base=base), actor=_actor(), reason=args.reason or "")
    finally:
        store.close()
    print(f"{args.system}: " + (f"version #{saved.version}, changed {', '.join(saved.changed) or 'nothing'}"
                                if saved.version else "unchanged"))
    return 0


def cmd_retire(args: argparse.Namespace, settings) -> int:
    store = _store(settings)
    try:
        done = store.retire(args.system, actor=_actor(), reason=args.reason or "")
    finally:
        store.close()
    print(f"{args.system}: " + ("retired" if done else "not in the register, nothing changed"))
    return 0 if done else 1


def cmd_export(args: argparse.Namespace, settings) -> int:
    from agents.indicators.register_files import csv_bytes, xlsx_bytes

    path = Path(args.file)
    if path.suffix.lower() not in (".csv", ".xlsx"):
        raise InputError(f"{path}: name the file .csv or .xlsx")
    store = _store(settings)
    try:
        entries = store.entries()
    finally:
        store.close()
    path.write_bytes(csv_bytes(entries) if path.suffix.lower() == ".csv" else xlsx_bytes(entries))
    print(f"{path}: {len(entries)} entries")
    return 0


def cmd_import(args: argparse.Namespace, settings) -> int:
    from agents.indicators.register import from_rows
    from agents.indicators.register_files import read_rows

    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror}") from None
    result = from_rows(read_rows(data, path.name), known=_systems(settings))
    if result.errors:
        for e in result.errors:
            print(f"{path}: {e}")
        print(f"{path}: {len(result.errors)} row(s) wrong; nothing was imported — correct them and import again")
        return 1
    store = _store(settings)
    try:
        saved = store.import_entries(result.entries, actor=_actor(), reason=args.reason or "", source=path.name)
    finally:
        store.close()
    changed = [s.system for s in saved if s.version]
    print(f"{path}: {len(changed)} entries changed ({', '.join(changed) or 'none'}), {len(saved) - len(changed)} unchanged")
    return 0


SAMPLE = Path(__file__).resolve().parents[2] / "simulators" / "data" / "register_sample.csv"


def seed_sample(settings, path: Path = SAMPLE) -> int:
    """``ioc demo``: the sample register for the province file's systems when the register is empty
    (an operator's own entries are never touched); the number of entries imported."""
    from agents.indicators.register import from_rows
    from agents.indicators.register_files import read_rows

    store = _store(settings)
    try:
        if store.rows():
            return 0
        result = from_rows(read_rows(path.read_bytes(), path.name), known=_systems(settings))
        if not result.entries:
            return 0
        store.import_entries(result.entries, actor="demo", reason="sample register of the demo", source=path.name)
        return len(result.entries)
    finally:
        store.close()


def cmd_report(args: argparse.Namespace, settings) -> int:
    from ioc_dash.reports.register_report import generate
    from streams.core.progress import Progress

    with Progress() as progress:
        written = generate(settings, args.month, lang=args.lang, out_dir=Path(args.out), now=utcnow(),
                           step=progress.step)
    for path in written:
        print(path)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    rsub = group(sub, "register", "the security register of the information systems",
                 description="the security register: levels, approvals, inspections, the people on site "
                             "(docs/security-register.md)")
    p = command(rsub, "list", cmd_list, "every entry with its four layers", db=True, log_level=False)
    p.add_argument("--at", help="the register as it stood at the end of that day (YYYY-MM-DD)")
    p = command(rsub, "show", cmd_show, "one entry and its versions", db=True, log_level=False)
    p.add_argument("system")
    p = command(rsub, "set", cmd_set, "change fields of an entry (field=value …)", db=True, log_level=False)
    p.add_argument("system")
    p.add_argument("values", nargs="+", metavar="field=value")
    p.add_argument("--reason", help="why (kept with the version)")
    p = command(rsub, "retire", cmd_retire, "close an entry; its history stays", db=True, log_level=False)
    p.add_argument("system")
    p.add_argument("--reason", help="why (kept with the version)")
    p = command(rsub, "export", cmd_export, "the current entries as .csv or .xlsx", db=True, log_level=False)
    p.add_argument("file")
    p = command(rsub, "import", cmd_import, "entries from a .csv or .xlsx file (all or nothing)", db=True,
                log_level=False)
    p.add_argument("file")
    p.add_argument("--reason", help="why (kept with each version)")
    p = command(rsub, "report", cmd_report, "the month's report of the register as PDF and XLSX", db=True,
                log_level=False,
                description="the register as it stood at the end of the month (Asia/Ho_Chi_Minh), its changes and "
                            "inspections during the month: register-report-YYYY-MM-LANG.pdf and .xlsx "
                            "(docs/security-register.md#the-monthly-report)")
    p.add_argument("--month", required=True, help="the month, YYYY-MM")
    p.add_argument("--lang", choices=("vi", "en"), default="vi", help="the report's language (default vi)")
    p.add_argument("--out", default=".", help="folder to write the files to (default: the current folder)")
