"""The security register: what each information system's entry says and what it obliges.

An ``Entry`` is one system's current version (table ``security_register``, migration 040); the
fields and their legal sources are in ``docs/security-register.md``.  Everything here is plain
logic over entries, the users' states (name -> active) and a day:

- ``parse_entry(system, fields)`` checks what a person typed or a file held, and says what is wrong;
- ``coverage(entry, users, today)`` is the four-layer grid of Directive 14/CT-TTg, each layer
  ``ok``, ``due`` (an obligation falls due within ``due_within_days``) or ``missing`` (missing or overdue);
- ``obligation_values(entries, users, today)`` are the alert indicators (``register.*``);
- ``classified_share(entries, systems)`` measures the plan's target "systems classified and approved";
- ``weighted_severity(severity, level, policy)`` raises a finding's severity on higher-level systems,
  as ``agents/indicators/data/register.yaml`` configures;
- ``to_rows`` / ``from_rows`` are the columns of the CSV and XLSX files the department keeps.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields as dc_fields, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from streams.core.errors import ConfigError, InputError
from streams.core.inputs import problem

POLICY_FILE = Path(__file__).with_name("data") / "register.yaml"
LEVELS = (1, 2, 3, 4, 5)
PLAN_STATUSES = ("none", "drafting", "submitted", "approved")
ENVIRONMENTS = ("production", "test")
LAYERS = (1, 2, 3, 4)
OK, DUE, MISSING = "ok", "due", "missing"
SEVERITY_ORDER = ("informational", "low", "medium", "high", "critical")  # the findings' scale
TRUE_WORDS = {"1", "true", "yes", "y", "x", "có", "co", "đúng"}
FALSE_WORDS = {"", "0", "false", "no", "n", "không", "khong", "sai"}


@dataclass(frozen=True, slots=True)
class Entry:
    """One system's register entry (the current version unless read as of a day)."""

    system: str
    level: int | None = None
    approval_number: str = ""
    approval_date: date | None = None
    approval_authority: str = ""
    plan_status: str = "none"
    environment: str = "production"
    real_data: bool = False
    ipv6_ready: bool = False
    live: bool = False
    cleared_on: date | None = None
    onsite_users: tuple[str, ...] = ()
    onsite_contact: str = ""
    monitoring_org: str = ""
    last_inspection: date | None = None
    next_inspection: date | None = None
    inspection_findings: int | None = None
    inspection_org: str = ""
    layer4_connected: bool = False
    note: str = ""

    @property
    def approved(self) -> bool:
        """Classified and approved: a level, the approval decision (number and date) and an approved plan."""
        return (self.level is not None and bool(self.approval_number.strip()) and self.approval_date is not None
                and self.plan_status == "approved")


#: the entry's fields, in the order of the files and the form (``system`` first)
FIELDS: tuple[str, ...] = tuple(f.name for f in dc_fields(Entry))
EDITABLE: tuple[str, ...] = FIELDS[1:]
DATE_FIELDS = ("approval_date", "cleared_on", "last_inspection", "next_inspection")
BOOL_FIELDS = ("real_data", "ipv6_ready", "live", "layer4_connected")
TEXT_LIMIT = 500


@dataclass(frozen=True, slots=True)
class Policy:
    """``agents/indicators/data/register.yaml``: when an obligation counts as due, and how a
    system's level weighs its findings (severity steps added per level)."""

    due_within_days: int = 30
    severity_steps: Mapping[int, int] = field(default_factory=dict)

    def steps(self, level: int | None) -> int:
        return int(self.severity_steps.get(level, 0)) if level is not None else 0


def load_policy(path: Path = POLICY_FILE) -> Policy:
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        due = int(doc.get("due_within_days", 30))
        steps = {int(k): int(v) for k, v in (doc.get("severity_steps_by_level") or {}).items()}
    except FileNotFoundError:
        raise ConfigError(f"register policy file not found: {path}") from None
    except (yaml.YAMLError, TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(f"register policy file {path}: {exc}") from None
    if due < 0 or any(k not in LEVELS or not 0 <= v < len(SEVERITY_ORDER) for k, v in steps.items()):
        raise ConfigError(f"register policy file {path}: due_within_days >= 0, levels 1–5, steps 0–4")
    return Policy(due, steps)


# --- parsing what people typed -----------------------------------------------------------------

def _date(name: str, value: Any) -> date | None:
    if value is None or isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, datetime):
        return value.date()
    text = str(value).strip()
    if not text:
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise InputError(f"{name}: {text!r} is not a date (YYYY-MM-DD or DD/MM/YYYY)")


def _bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    text = str(value if value is not None else "").strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise InputError(f"{name}: {value!r} is not yes or no")


def _int(name: str, value: Any, low: int, high: int | None = None) -> int | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name}: {value!r} is not a number") from None
    if number != int(number) or number < low or (high is not None and number > high):
        raise InputError(f"{name}: {value!r} must be a whole number {low}–{high}" if high is not None
                         else f"{name}: {value!r} must be a whole number ≥ {low}")
    return int(number)


def _text(name: str, value: Any) -> str:
    text = "" if value is None else str(value).strip()
    if why := problem(text):
        raise InputError(f"{name} {why}")
    if len(text) > TEXT_LIMIT:
        raise InputError(f"{name}: longer than {TEXT_LIMIT} characters")
    return text


def _users(name: str, value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, (list, tuple)) else str(value or "").replace(";", ",").split(",")
    out = []
    for item in items:
        user = _text(name, item).lower()
        if user and user not in out:
            out.append(user)
    return tuple(out)


def parse_entry(system: str, values: Mapping[str, Any], *, base: Entry | None = None) -> Entry:
    """An ``Entry`` from typed or imported values (strings, or already typed); fields not given keep
    ``base``'s value (or the default).  ``InputError`` naming the first wrong field otherwise."""
    system = _text("system", system)
    if not system:
        raise InputError("system: empty")
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise InputError(f"unknown field(s): {', '.join(unknown)}; the fields are {', '.join(FIELDS)}")
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name == "system":
            continue
        if name == "level":
            out[name] = _int(name, value, 1, 5)
        elif name == "inspection_findings":
            out[name] = _int(name, value, 0)
        elif name in DATE_FIELDS:
            out[name] = _date(name, value)
        elif name in BOOL_FIELDS:
            out[name] = _bool(name, value)
        elif name == "onsite_users":
            out[name] = _users(name, value)
        elif name == "plan_status":
            out[name] = _choice(name, value, PLAN_STATUSES, "none")
        elif name == "environment":
            out[name] = _choice(name, value, ENVIRONMENTS, "production")
        else:
            out[name] = _text(name, value)
    entry = replace(base or Entry(system), system=system, **out)
    if entry.last_inspection and entry.next_inspection and entry.next_inspection < entry.last_inspection:
        raise InputError("next_inspection: before last_inspection")
    return entry


def _choice(name: str, value: Any, allowed: Sequence[str], default: str) -> str:
    text = _text(name, value).lower() or default
    if text not in allowed:
        raise InputError(f"{name}: {value!r} is not one of {', '.join(allowed)}")
    return text


# --- the four layers and the obligations --------------------------------------------------------

def gone_users(entry: Entry, users: Mapping[str, bool]) -> tuple[str, ...]:
    """The entry's on-site people who are no longer active users (disabled, or not a user at all)."""
    return tuple(u for u in entry.onsite_users if not users.get(u, False))


def coverage(entry: Entry | None, users: Mapping[str, bool], today: date, policy: Policy = Policy()) -> dict[int, str]:
    """Layer (1–4) -> ``ok`` / ``due`` / ``missing``.

    1 on-site force: someone named who is an active user (or a contact on the roster), nobody gone;
    2 professional monitoring: an organisation named;
    3 independent inspection: inspected, the next one dated and not past (``due`` within the window);
    4 national monitoring: connected."""
    if entry is None:
        return {layer: MISSING for layer in LAYERS}
    has_people = bool(entry.onsite_users) or bool(entry.onsite_contact)
    layer1 = OK if has_people and not gone_users(entry, users) else MISSING
    layer2 = OK if entry.monitoring_org else MISSING
    if entry.last_inspection is None or entry.next_inspection is None or entry.next_inspection < today:
        layer3 = MISSING
    elif (entry.next_inspection - today).days <= policy.due_within_days:
        layer3 = DUE
    else:
        layer3 = OK
    layer4 = OK if entry.layer4_connected else MISSING
    return {1: layer1, 2: layer2, 3: layer3, 4: layer4}


#: the alert indicators, each per system of the register (value, then meaning)
INDICATORS: dict[str, str] = {
    "register.inspection_overdue_days": "system: days past its next independent inspection (layer 3), "
                                        "0 when not yet due; a live system never inspected counts from its clearance",
    "register.live_uncleared": "system: 1 when live in production without a go-live clearance, else 0",
    "register.test_real_data": "system: 1 when a test system holds real data, else 0",
    "register.onsite_gone": "system: on-site people (layer 1) who are no longer active users",
}


def obligation_values(entries: Iterable[Entry], users: Mapping[str, bool], today: date) -> dict[str, dict[str, float | None]]:
    """The register's indicators for every entry (0 when the obligation is kept, so alerts clear)."""
    out: dict[str, dict[str, float | None]] = {name: {} for name in INDICATORS}
    for e in entries:
        overdue = 0
        if e.next_inspection is not None:
            overdue = max(0, (today - e.next_inspection).days)
        elif e.last_inspection is None and e.live and e.cleared_on is not None:
            overdue = max(0, (today - e.cleared_on).days)
        out["register.inspection_overdue_days"][e.system] = float(overdue)
        out["register.live_uncleared"][e.system] = float(e.live and e.environment == "production"
                                                         and (e.cleared_on is None or e.cleared_on > today))
        out["register.test_real_data"][e.system] = float(e.environment == "test" and e.real_data)
        out["register.onsite_gone"][e.system] = float(len(gone_users(e, users)))
    return out


def classified_share(entries: Iterable[Entry], systems: Iterable[str]) -> float | None:
    """Share of ``systems`` (the province file's) whose entry is classified and approved; None without systems."""
    codes = list(dict.fromkeys(systems))
    if not codes:
        return None
    approved = {e.system for e in entries if e.approved}
    return sum(code in approved for code in codes) / len(codes)


def weighted_severity(severity: str, level: int | None, policy: Policy) -> str:
    """``severity`` raised by the policy's steps for ``level`` (never past critical)."""
    if severity not in SEVERITY_ORDER:
        return severity
    i = min(len(SEVERITY_ORDER) - 1, SEVERITY_ORDER.index(severity) + policy.steps(level))
    return SEVERITY_ORDER[i]


# --- files ------------------------------------------------------------------------------------

def cell(entry: Entry, name: str) -> Any:
    """A field as a file cell: dates ISO, booleans yes/no, people comma-separated."""
    value = getattr(entry, name)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return ", ".join(value)
    return "" if value is None else value


def to_rows(entries: Iterable[Entry]) -> list[list[Any]]:
    """Header then one row per entry, in ``FIELDS`` order."""
    return [list(FIELDS), *([cell(e, name) for name in FIELDS] for e in entries)]


@dataclass(frozen=True, slots=True)
class ImportResult:
    entries: tuple[Entry, ...]
    errors: tuple[str, ...]  # "row N: why", one per refused row


def from_rows(rows: Iterable[Sequence[Any]], known: Iterable[str] | None = None) -> ImportResult:
    """Entries from a header row and data rows (CSV or XLSX cells).  A row with an error is refused
    with its row number (1 = the header) and nothing of it is taken; an unknown column refuses the file;
    ``known`` (system codes), when given, refuses rows of other systems.  Blank rows are skipped."""
    it = iter(rows)
    try:
        header = [str(h or "").strip().lower() for h in next(it)]
    except StopIteration:
        raise InputError("the file is empty: the first row must name the columns") from None
    while header and not header[-1]:
        header.pop()
    if "system" not in header:
        raise InputError(f"the first row must name the columns, with 'system' among them; columns: {', '.join(FIELDS)}")
    unknown = [h for h in header if h not in FIELDS]
    if unknown:
        raise InputError(f"unknown column(s): {', '.join(unknown)}; columns: {', '.join(FIELDS)}")
    if len(set(header)) != len(header):
        raise InputError("a column is named twice")
    codes = set(known) if known is not None else None
    entries: list[Entry] = []
    errors: list[str] = []
    seen: set[str] = set()
    for number, row in enumerate(it, start=2):
        values = {h: (row[i] if i < len(row) else None) for i, h in enumerate(header)}
        if all(v is None or str(v).strip() == "" for v in values.values()):
            continue
        system = str(values.pop("system") or "").strip()
        try:
            if codes is not None and system not in codes:
                raise InputError(f"system {system!r} is not in the province file")
            if system in seen:
                raise InputError(f"system {system!r} appears twice")
            entries.append(parse_entry(system, values))
            seen.add(system)
        except InputError as exc:
            errors.append(f"row {number}: {exc}")
    return ImportResult(tuple(entries), tuple(errors))


def changed_fields(old: Entry | None, new: Entry) -> list[str]:
    """The fields ``new`` changes compared with ``old`` (every set field for a new entry)."""
    base = old or Entry(new.system)
    return [name for name in EDITABLE if getattr(base, name) != getattr(new, name)]


def as_of(versions: Iterable[Mapping[str, Any]], when: datetime) -> Mapping[str, Any] | None:
    """The version (rows with ``valid_from``/``valid_to``) in force at ``when``."""
    for v in versions:
        if v["valid_from"] <= when and (v["valid_to"] is None or when < v["valid_to"]):
            return v
    return None


def entry_from_row(row: Mapping[str, Any]) -> Entry:
    """An ``Entry`` from a database row of ``security_register``."""
    values = {name: row[name] for name in FIELDS if name in row}
    values["onsite_users"] = tuple(values.get("onsite_users") or ())
    return Entry(**values)
