"""Sources: is what each producer sends correct, complete, clean and live (Guidance 1709/BKHCN-CĐSQG)?

The producers — systems, agencies, camera links, stations — are judged by
``agents.indicators.producers.producer_healths`` (``WallContext.producers``), grouped by their feed
family.  A wall shows them all at 20 px on one screen only when there are few; with many (a province's
stations, links and agencies), each family shows its worst producers first and sums up the rest in a
line ("+ 18 đơn vị khác: tốt"), so what is wrong is always on the screen and nothing is cut.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dash import html

from agents.indicators.producers import UNKNOWN, Counts, ProducerHealth, clean_share, valid_share
from ioc_dash.figures import badge, pct
from ioc_dash.i18n import t
from streams.core.families import FAMILIES

FEED_COLORS = {f.name: f.colour for f in FAMILIES}
#: worst first: what is wrong comes before what is fine
STATUS_ORDER = {"silent": 0, "dirty": 1, "incomplete": 2, "ok": 3}
#: table rows of one column of the page at 1920x1080 (20 px text): family lines, producers, "+N" lines
ROWS_PER_COLUMN = 19  # and room below them for two open alerts
COLUMNS = 2
HEAD = ("producer", "producer_last", "events_1h", "expected_h", "check_correct", "check_complete", "check_clean",
        "check_live")


@dataclass(frozen=True, slots=True)
class FamilyBlock:
    """One family's producers, worst first, and how many of them the page shows."""

    family: str
    producers: tuple[ProducerHealth, ...]
    shown: int

    @property
    def hidden(self) -> tuple[ProducerHealth, ...]:
        return self.producers[self.shown:]

    @property
    def rows(self) -> int:
        return 1 + self.shown + (1 if self.hidden else 0)


def worst_first(healths: Sequence[ProducerHealth]) -> tuple[ProducerHealth, ...]:
    """Silent, dirty, incomplete, then fine; among equals the most expected events missed, then by code."""
    return tuple(sorted(healths, key=lambda h: (STATUS_ORDER[h.status], -h.missed, h.producer)))


def fit(sizes: Sequence[int], budget: int) -> list[int]:
    """How many producers each family shows so that its line, its producers and a "+N more" line
    when some are left out fit ``budget`` rows: one more for each family in turn while they fit."""
    shown = [0] * len(sizes)

    def rows(s: list[int]) -> int:
        return sum(1 + k + (1 if k < n else 0) for k, n in zip(s, sizes))

    grew = True
    while grew:
        grew = False
        for i, n in enumerate(sizes):
            if shown[i] < n:
                more = [*shown[:i], shown[i] + 1, *shown[i + 1:]]
                if rows(more) <= budget:
                    shown, grew = more, True
    return shown


def split(sizes: Sequence[int], columns: int = COLUMNS) -> list[int]:
    """Where the families (in their order) break into ``columns`` columns of about equal rows: the
    index each column starts at."""
    if columns <= 1 or len(sizes) <= 1:
        return [0]
    total, best = sum(sizes), (float("inf"), 1)
    for k in range(1, len(sizes)):
        left = sum(sizes[:k])
        best = min(best, (max(left, total - left), k))
    return [0, best[1]]


def family_blocks(healths: Sequence[ProducerHealth], families: Sequence[str], *, rows: int = ROWS_PER_COLUMN,
                  columns: int = COLUMNS) -> list[list[FamilyBlock]]:
    """The page's columns of family blocks: families in their declared order, those with no producer
    left out, each column's producers fitted to ``rows``."""
    by_family = {f: worst_first([h for h in healths if h.family == f]) for f in families}
    present = [f for f in families if by_family[f]]
    sizes = [1 + len(by_family[f]) for f in present]
    starts = split(sizes, columns)
    out = []
    for a, b in zip(starts, [*starts[1:], len(present)]):
        fams = present[a:b]
        shown = fit([len(by_family[f]) for f in fams], rows)
        out.append([FamilyBlock(f, by_family[f], k) for f, k in zip(fams, shown)])
    return out


def family_counts(block: FamilyBlock) -> tuple[Counts, int, float | None, float | None]:
    """A family's sums over its producers: counts of the last hour, received in the last complete hour,
    expected in it and in the current hour (None when no producer has an expectation)."""
    total = sum((h.recent for h in block.producers), Counts())
    received_last = sum(h.received_last for h in block.producers if h.expected_last is not None)
    last = [h.expected_last for h in block.producers if h.expected_last is not None]
    now = [h.expected_now for h in block.producers if h.expected_now is not None]
    return total, received_last, (sum(last) if last else None), (sum(now) if now else None)


def since(ts: datetime | None, now: datetime, lang: str) -> str:
    """How long ago, in the column's few words ("11 giây", "37 phút")."""
    if ts is None:
        return t("never", lang)
    s = max(0, int((now - ts).total_seconds()))
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if s >= size:
            return t(f"for_{unit}", lang).format(n=s // size)
    return t("for_seconds", lang).format(n=s)


def count(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}".replace(",", ".")


def share(value: float | None, ok: bool | None) -> html.Span:
    """A check's share, coloured by its verdict; "—" when there is nothing to judge."""
    kind = "muted" if ok is None else "ok" if ok else "bad"
    return html.Span(pct(value, 0), className=f"share share-{kind}")


def live_badge(live: bool) -> html.Span:
    return badge("✓", "ok") if live else badge("✗", "down")


def producer_row(h: ProducerHealth, names: Mapping[str, str], now: datetime, lang: str) -> html.Tr:
    correct, complete, clean, live = h.checks
    name = t("producer_unknown", lang) if h.producer == UNKNOWN else names.get(h.producer, h.producer)
    cells = [html.Span(name, title=h.producer, className="producer-name"), since(h.last_event or h.last_arrival, now, lang),
             count(h.recent.received), count(h.expected_now), share(h.valid, correct), share(h.complete, complete),
             share(h.clean, clean), live_badge(live)]
    return html.Tr([html.Td(c, className="num" if 1 <= i <= 6 else None) for i, c in enumerate(cells)],
                   className=f"producer-row status-{h.status}",
                   id={"type": "producer", "family": h.family, "producer": h.producer})


def family_row(block: FamilyBlock, now: datetime, lang: str) -> html.Tr:
    total, received_last, expected_last, expected_now = family_counts(block)
    live = sum(1 for h in block.producers if h.live)
    newest = max((h.last_event or h.last_arrival for h in block.producers if h.last_event or h.last_arrival),
                 default=None)
    complete = received_last / expected_last if expected_last else None
    title = html.Span([html.Span("●", style={"color": FEED_COLORS.get(block.family)}, className="family-dot"),
                       t(f"feed_{block.family}", lang)], className="family-name")
    cells = [title, since(newest, now, lang), count(total.received), count(expected_now),
             share(valid_share(total), None), share(complete, None), share(clean_share(total), None),
             f"{live}/{len(block.producers)}"]
    return html.Tr([html.Td(c, className="num" if 1 <= i <= 7 else None) for i, c in enumerate(cells)],
                   className="family-row", id={"type": "producer-family", "family": block.family})


def more_row(block: FamilyBlock, lang: str) -> html.Tr:
    hidden = block.hidden
    statuses = sorted({h.status for h in hidden}, key=STATUS_ORDER.get)
    words = ", ".join(t(f"source_{s}", lang).lower() for s in statuses)
    return html.Tr(html.Td(t("producers_more", lang).format(n=len(hidden), statuses=words), colSpan=len(HEAD)),
                   className="more-row")


def producer_table(blocks: Sequence[FamilyBlock], names: Mapping[str, str], now: datetime, lang: str,
                   id: str) -> html.Table:
    body: list[Any] = []
    for block in blocks:
        body.append(family_row(block, now, lang))
        body += [producer_row(h, names, now, lang) for h in block.producers[:block.shown]]
        if block.hidden:
            body.append(more_row(block, lang))
    head = html.Tr([html.Th(t(k, lang), className="num" if 1 <= i <= 7 else None) for i, k in enumerate(HEAD)])
    return html.Table([html.Thead(head), html.Tbody(body)], className="status-table producer-table", id=id)


def producer_columns(healths: Sequence[ProducerHealth], families: Sequence[str], names: Mapping[str, str],
                     now: datetime, lang: str) -> html.Div:
    """Every family's producers in the page's columns, or a line saying none has sent anything yet."""
    columns = [c for c in family_blocks(healths, families) if c]
    if not columns:
        return html.Div(t("no_producers", lang), className="table-more")
    return html.Div([producer_table(c, names, now, lang, f"producer-table-{i}") for i, c in enumerate(columns)],
                    className="producer-columns")
