"""Rendering for `stats`: rich tables drawn from the document `stats.Partial.document` builds
(the timeline as a bar per bucket), or that document as JSON. Every cell from input passes
through `text.safe`. On a terminal the tables fit its width: each row's key stays on one
line (times are shortened first, then the key is cut with an ellipsis), lists of locators
fold; in a pipe the tables are as wide as their values.
"""

from __future__ import annotations

from typing import Any, Literal

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from vevents_cli import jsonout
from vevents_cli.output.streams import Streams
from vevents_cli.output.text import SHORT_TIME, fit_time, number, plural, safe, sign_style, signed


def _signed(value: float | int | None) -> Text:
    return Text(signed(value), style=sign_style(value) or "")


KEY_LEAST = 16  # a key is never cut shorter than this (the other columns fold instead)
_TIMES = frozenset({"last seen"})  # shortened on a narrow terminal (`text.fit_time`)
_FOLDED = frozenset({"where", "after"})  # lists of locators: folded over lines, the key kept whole
_NUMBERS = frozenset({"events", "times", "Δpoints", "Δpending", "Δgift", "points issued", "points spent", "pending"})


def _table(
    title: str, section: dict[str, Any], columns: tuple[str, ...], rows: list[tuple[str | Text, ...]], width: int | None
) -> Table:
    """A table of `rows` under `columns`, the first one its key: on a terminal `width`
    columns wide the key stays on one line, cut with an ellipsis when the other columns
    (at their values' width) leave it too little room; in a pipe (None) nothing is cut."""
    shown, total = len(section["rows"]), section["total"]
    caption = f"top {shown} of {total}" if shown < total else None
    table = Table(title=title, title_justify="left", title_style="bold", caption=caption, caption_justify="left")
    folding = [i > 0 and name in _FOLDED for i, name in enumerate(columns)]
    for i, name in enumerate(columns):
        justify: Literal["left", "right"] = "right" if name in _NUMBERS else "left"
        overflow: Literal["fold", "ellipsis"] = "ellipsis" if i == 0 else "fold"
        table.add_column(name, justify=justify, overflow=overflow, no_wrap=not folding[i])
    times = [i for i, name in enumerate(columns) if name in _TIMES]
    if width is not None and not any(folding):
        key = max([len(columns[0])] + [len(safe(row[0])) for row in rows])
        for size in (0, 20, SHORT_TIME):  # times shortened before the key is cut
            fitted = [
                tuple(fit_time(c, size) if i in times and isinstance(c, str) else c for i, c in enumerate(row))
                for row in rows
            ]
            others = sum(max([len(name)] + [len(row[i]) for row in fitted]) for i, name in enumerate(columns) if i)
            room = max(width - others - 3 * len(columns) - 1, KEY_LEAST)
            if room >= key:
                break
        rows = fitted
    cells = [[cell if isinstance(cell, Text) else Text(safe(cell)) for cell in row] for row in rows]
    if width is not None and not any(folding):
        for row in cells:
            row[0].truncate(room, overflow="ellipsis")
    for row in cells:
        table.add_row(*row)
    return table


def _who(row: dict[str, Any]) -> str:
    parts = (row["email"] or row["name"], row["source_id"], row["id"])
    return " · ".join(dict.fromkeys(x for x in parts if x))


def _locators(where: list[str], limit: int = 4) -> str:
    more = f" (+{len(where) - limit} more)" if len(where) > limit else ""
    return ", ".join(where[:limit]) + more


BUCKET_NAMES = {
    "PT1M": "minute",
    "PT5M": "5 minutes",
    "PT15M": "15 minutes",
    "PT1H": "hour",
    "PT6H": "6 hours",
    "P1D": "day",
    "P7D": "week (from Monday)",
}
BAR = "█"  # events
BAR_INVALID = "▒"  # the invalid share of them, in red
PIPE_BAR = 40  # a bar's longest in a pipe


def timeline(section: dict[str, Any], width: int | None) -> Table:
    """Events per bucket as a row each: its start (UTC), counts, and a bar scaled to the
    busiest bucket, its invalid share drawn apart (▒, red); failed redemptions in red."""
    rows = section["rows"]
    days = section["bucket"] in ("P1D", "P7D")
    starts = [r["start"][:10] if days else r["start"][:16].replace("T", " ") for r in rows]
    counts = [(number(r["events"]), number(r["invalid"]), number(r["failed_redemptions"])) for r in rows]
    widths = [max(len(label), *(len(c[i]) for c in counts)) for i, label in enumerate(("events", "invalid", "failed"))]
    used = max(len("start (UTC)"), *(len(s) for s in starts)) + sum(widths) + 3 * 5 + 1
    bar = PIPE_BAR if width is None else max(width - used, 8)
    busiest = max(r["events"] for r in rows) or 1
    table = Table(
        title=f"Timeline (events per {BUCKET_NAMES[section['bucket']]})", title_justify="left", title_style="bold"
    )
    table.add_column("start (UTC)", no_wrap=True)
    for label in ("events", "invalid", "failed"):
        table.add_column(label, justify="right", no_wrap=True)
    table.add_column("", no_wrap=True, overflow="crop")
    if section["untimed"]:
        untimed = section["untimed"]
        table.caption = f"{plural(untimed, 'event')} without a time {'is' if untimed == 1 else 'are'} not in it"
        table.caption_justify = "left"
    for start, (events, invalid, failed), r in zip(starts, counts, rows, strict=True):
        length = -(-r["events"] * bar // busiest)  # rounded up: one event still shows
        bad = -(-r["invalid"] * bar // busiest) if r["invalid"] else 0
        drawn = Text(BAR * (length - bad)) + Text(BAR_INVALID * bad, style="red")
        table.add_row(
            start,
            events,
            Text(invalid, style="red" if r["invalid"] else "dim"),
            Text(failed, style="red" if r["failed_redemptions"] else "dim"),
            drawn,
        )
    return table


def renderables(doc: dict[str, Any], width: int | None = None) -> list[RenderableType]:
    """The document as rich renderables for a terminal `width` columns wide (None: a pipe)."""
    out: list[RenderableType] = []
    overview = Table.grid(padding=(0, 2))
    overview.add_column(style="dim")
    overview.add_column()
    span = doc["time_span"]
    overview.add_row(
        "events", f"{number(doc['events'])} ({number(doc['valid'])} valid, {number(doc['invalid'])} invalid)"
    )
    overview.add_row("unreadable", number(doc["unreadable"]))
    if doc["filtered"]:
        overview.add_row("filtered out", number(doc["filtered"]))
    overview.add_row("time span", Text(safe(f"{span['first'] or '—'} -> {span['last'] or '—'}")))
    r = doc["redemptions"]
    overview.add_row(
        "redemptions",
        f"{r['succeeded']} succeeded, {r['failed']} failed; rollbacks "
        f"{r['rollbacks_succeeded']} succeeded, {r['rollbacks_failed']} failed",
    )
    out.append(overview)

    def table(title: str, key: str, columns: tuple[str, ...], rows: list[tuple[str | Text, ...]]) -> Table:
        return _table(title, doc[key], columns, rows, width)

    out.append(
        table(
            "Events by type",
            "by_type",
            ("type", "events"),
            [(r["type"], number(r["events"])) for r in doc["by_type"]["rows"]],
        )
    )
    out.append(
        table(
            "Events by dialect",
            "by_dialect",
            ("dialect", "events"),
            [(r["dialect"], number(r["events"])) for r in doc["by_dialect"]["rows"]],
        )
    )
    if doc["timeline"]["rows"]:
        out.append(timeline(doc["timeline"], width))
    if doc["customers"]["total"]:
        rows: list[tuple[str | Text, ...]] = [
            (
                _who(r),
                number(r["events"]),
                _signed(r["points"]),
                _signed(r["pending"]),
                _signed(r["gift"]),
                r["last_seen"] or "—",
            )
            for r in doc["customers"]["rows"]
        ]
        out.append(
            table("Customers", "customers", ("customer", "events", "Δpoints", "Δpending", "Δgift", "last seen"), rows)
        )
    if doc["campaigns"]["total"]:
        rows = [
            (
                " · ".join(x for x in (r["name"], r["id"]) if x),
                number(r["events"]),
                _signed(r["points_issued"]),
                _signed(r["points_spent"]),
                _signed(r["pending"]),
            )
            for r in doc["campaigns"]["rows"]
        ]
        out.append(
            table("Campaigns", "campaigns", ("campaign", "events", "points issued", "points spent", "pending"), rows)
        )
    if doc["duplicates"]["total"]:
        rows = [(r["delivery_id"], str(r["count"]), _locators(r["locators"])) for r in doc["duplicates"]["rows"]]
        out.append(table("Duplicate deliveries (retries)", "duplicates", ("delivery id", "times", "where"), rows))
    if doc["out_of_order"]["total"]:
        rows = [
            (r["locator"], r["created_at"], r["previous_locator"], r["previous_created_at"])
            for r in doc["out_of_order"]["rows"]
        ]
        columns = ("where", "created_at", "after", "created_at")
        out.append(table("Out of order (created_at goes backwards)", "out_of_order", columns, rows))
    if not doc["events"]:
        out.append(Text("no events", style="dim"))
    return out


def write(doc: dict[str, Any], streams: Streams, fmt: str) -> None:
    """The aggregate as tables (text) or one JSON document."""
    if fmt == "json":
        streams.out.write(jsonout.dumps(doc, pretty=True, newline=True))
        streams.out.flush()
        return
    console = streams.console(tables=True)
    for part in renderables(doc, console.width if streams.out_tty else None):
        console.print(part)
        console.print()
