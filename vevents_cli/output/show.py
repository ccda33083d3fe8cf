"""Rendering for `show`: rich panels, a one-line-per-event table, NDJSON.

Only renders: takes `Summary` objects and never reads input, recognises events or
decides validity. Every string from the payload goes through `text.safe` before it
reaches a terminal; the NDJSON keeps exact values. `json_line` and `table_line` run
where the events are (perhaps in a worker process: see `pipeline.parallel`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vevents_cli import jsonout
from vevents_cli.model import Summary, Voucher
from vevents_cli.output.streams import Streams, drain, paint, write_to
from vevents_cli.output.text import (
    DASH,
    amount,
    join,
    json_text,
    number,
    received_json_text,
    safe,
    shorten,
    sign_style,
    signed,
)
from vevents_cli.pipeline.runner import identity
from vevents_cli.voucherify import catalogue

if TYPE_CHECKING:
    from rich.panel import Panel
    from rich.text import Text

# --- JSON -----------------------------------------------------------------------------------


def summary_dict(s: Summary) -> dict[str, Any]:
    """The NDJSON contract of `show --format json`: exactly these keys, null where absent.

    The fact groups are dataclasses whose members are the contract's (orjson writes them);
    a redemption's `in_points` only tells how to show its amount, so it is left out.
    """
    event = s.event
    locator = event.locator
    r = s.redemption
    return {
        "source": locator.source,
        "line": locator.line,
        "index": locator.index,
        "dialect": event.dialect,
        "type": event.type,
        "name": event.name,
        "id": event.id,
        "created_at": event.created_at,
        "customer": s.customer,
        "voucher": s.voucher,
        "campaign": s.campaign,
        "points": s.points,
        "gift": s.gift,
        "order": s.order,
        "redemption": {"id": r.id, "result": r.result, "amount": r.amount} if r is not None else None,
        "reward": s.reward,
        "issued_voucher": s.issued_voucher,
        "tier": s.tier,
        "segment": s.segment,
        "changes": s.changes,
        "valid": s.valid,
    }


def json_line(s: Summary) -> bytes:
    return jsonout.dumps(summary_dict(s), newline=True)


# --- table ------------------------------------------------------------------------------
#
# One line per event. The layout is decided once, before the run (`table_layout`), and
# travels in the projection's partial, so serial and parallel runs print the same bytes.
# On a terminal the columns fit its width: the event type comes last and is never cut
# (the longest catalogue name always fits); the other columns shrink, then drop, in a
# defined priority. In a pipe the values are whole, tab-separated, every column.

TYPE_WIDTH = max(len(name) for name in catalogue.CATALOGUE)  # the type column is never cut
ORDER = ("valid", "time", "customer", "voucher", "Δpoints", "campaign", "source", "type")
# (preferred width, least width) of each column but the type; kept in PRIORITY order
WIDTHS = {
    "valid": (1, 1),
    "time": (24, 20),
    "source": (40, 16),
    "customer": (22, 12),
    "Δpoints": (8, 8),
    "voucher": (16, 10),
    "campaign": (22, 12),
}
PRIORITY = ("valid", "source", "time", "customer", "Δpoints", "voucher", "campaign")
HEADER = {"valid": "✓"}  # a label for a column narrower than its name
VALID_MARK = {True: ("✓", "green"), False: ("✗", "red"), None: ("·", None)}
_SECONDS = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.\d+(Z|[+-]\d\d:?\d\d)?$")


@dataclass(frozen=True, slots=True)
class Layout:
    """Which columns a table line has, how wide each is (0: as wide as its value)."""

    columns: tuple[tuple[str, int], ...]
    tabs: bool = False  # a pipe: whole values, tab-separated
    color: bool = False
    raw: bool = False  # the payload too: a last column in a pipe, a line after the row on a terminal


def table_layout(width: int | None, several: bool = False, color: bool = False, raw: bool = False) -> Layout:
    """The table for a terminal `width` columns wide (None: a pipe), with a source column
    when the input spans `several` sources (in a pipe: always)."""
    if width is None:
        return Layout(tuple((name, 0) for name in ORDER), tabs=True, color=color, raw=raw)
    budget = width - TYPE_WIDTH
    chosen: dict[str, int] = {}
    for name in PRIORITY:  # each column at its least width, while it fits, most wanted first
        least = WIDTHS[name][1]
        if name == "source" and not several:
            continue
        if sum(w + 1 for w in chosen.values()) + least + 1 <= budget or name == "valid":
            chosen[name] = least
    spare = budget - sum(w + 1 for w in chosen.values())
    for name in chosen:  # then grown towards its preferred width, in the same order
        grow = max(0, min(WIDTHS[name][0] - chosen[name], spare))
        chosen[name] += grow
        spare -= grow
    columns = tuple((name, chosen[name]) for name in ORDER if name in chosen)
    return Layout((*columns, ("type", 0)), color=color, raw=raw)


# The fixed layout of other tables of events (listen): the type in full, validity last.
WIDE = Layout(
    (
        ("time", 24),
        ("type", TYPE_WIDTH),
        ("customer", 22),
        ("voucher", 16),
        ("Δpoints", 8),
        ("campaign", 22),
        ("valid", 5),
    )
)


def type_cell(s: Summary) -> str:
    event = s.event
    kind = event.type or "?"
    return kind + (f" ({event.name})" if event.name else "")


def _time(value: str | None, width: int) -> str:
    if not value:
        return DASH
    return value if len(value) <= width or width == 0 else _SECONDS.sub(r"\1\2", value)


def _value(s: Summary, name: str, width: int) -> tuple[str, str | None]:
    """One cell's text (not yet safe) and style."""
    if name == "time":
        return _time(s.event.created_at, width), None
    if name == "type":
        return type_cell(s), None
    if name == "valid":
        return VALID_MARK[s.valid]
    if name == "customer":
        c = s.customer
        return (c and (c.email or c.name or c.source_id or c.id)) or DASH, None
    if name == "voucher":
        v = s.voucher
        return (v and (v.code or v.id)) or DASH, None
    if name == "campaign":
        return (s.campaign and s.campaign.name) or DASH, None
    if name == "Δpoints":
        delta = s.points.delta if s.points else None
        return signed(delta), sign_style(delta) if delta != 0 else None
    locator = s.event.locator
    return f"{locator.source}:{locator.line}", None


def _fit(text: str, width: int, name: str) -> str:
    """A cell padded (or shortened) to its column: numbers right-aligned, sources cut on the left."""
    if width == 0:
        return text
    if len(text) > width:
        return "…" + text[len(text) - width + 1 :] if name == "source" else shorten(text, width)
    return text.rjust(width) if name == "Δpoints" else text.ljust(width)


def table_cells(s: Summary, layout: Layout = WIDE) -> list[tuple[str, str | None]]:
    """One event's table line as (safe text, style) pieces."""
    cells: list[tuple[str, str | None]] = []
    if layout.tabs:
        for name, _ in layout.columns:
            text, style = _value(s, name, 0)
            cells += [(safe(text), style), ("\t", None)]
        cells.pop()
        return cells
    last = len(layout.columns) - 1
    for i, (name, width) in enumerate(layout.columns):
        text, style = _value(s, name, width)
        cells.append((_fit(safe(text), width if i < last else min(width, len(text)), name), style))
        cells.append((" ", None))
    cells.pop()
    return cells


def table_header(color: bool, layout: Layout = WIDE) -> str:
    if layout.tabs:
        return paint(
            "\t".join([name for name, _ in layout.columns] + (["payload"] if layout.raw else [])), "bold", color
        )
    labels = [name if width == 0 or len(name) <= width else HEADER.get(name, name) for name, width in layout.columns]
    fitted = [_fit(label, width, name) for label, (name, width) in zip(labels, layout.columns, strict=True)]
    return paint(" ".join(fitted).rstrip(), "bold", color)


def table_line(s: Summary, layout: Layout) -> bytes:
    line = "".join(paint(text, style, layout.color) for text, style in table_cells(s, layout))
    if layout.raw:
        payload = json_text(s.event.payload)
        line += "\t" + payload if layout.tabs else "\n" + payload
    return (line + "\n").encode()


# --- panels -----------------------------------------------------------------------------


def type_label(s: Summary) -> str:
    event = s.event
    if event.type is None:
        label = "type unknown"
        if event.candidates:
            label += " (candidates: " + ", ".join(event.candidates) + ")"
        return label
    return safe(event.type) + ("" if event.known else " (unknown type)")


def _facts(s: Summary) -> list[tuple[str, Text | str]]:
    from rich.text import Text

    def change(delta: float | int | None, unit: str) -> Text:
        return Text(signed(delta), style=sign_style(delta) or "") + Text(unit)

    rows: list[tuple[str, Text | str]] = []
    if s.customer:
        c = s.customer
        rows.append(("customer", join(c.name or c.email or c.source_id or c.id, c.email, c.source_id, c.id)))
    if s.voucher:
        rows.append(("voucher", _voucher(s.voucher)))
    if s.campaign:
        rows.append(("campaign", join(s.campaign.name, s.campaign.type, s.campaign.id)))
    if s.points:
        p = s.points
        if p.delta is None and p.pending is not None:  # pending points: the card balance did not move
            line = change(p.pending, " pending points")
        else:
            line = change(p.delta, " points")
        if p.balance is not None:
            before = p.balance - p.delta if p.delta is not None else None
            line.append(
                f" · balance {number(before)} -> {number(p.balance)}"
                if before is not None
                else f" · balance {number(p.balance)}"
            )
        if p.delta is not None and p.pending is not None:  # activation: pending points joined the balance
            line.append(f" · pending {signed(p.pending)}")
        extra = join(p.transaction_type, p.reason)
        if extra:
            line.append(f" · {safe(extra)}")
        rows.append(("points", line))
    if s.gift:
        g = s.gift
        line = change(g.delta, f" ({g.delta / 100:,.2f})" if g.delta is not None else "")
        line.append(f" · balance {amount(g.balance)}" if g.balance is not None else "")
        rows.append(("gift credits", line))
    if s.order:
        o = s.order
        rows.append(("order", join(o.id, amount(o.amount) if o.amount is not None else None, o.status)))
    if s.redemption:
        r = s.redemption
        spent = (f"{number(r.amount)} points" if r.in_points else amount(r.amount)) if r.amount is not None else None
        rows.append(("redemption", join(r.id, r.result, spent)))
    if s.reward:
        rows.append(("reward", join(s.reward.name, s.reward.type, s.reward.id)))
    if s.issued_voucher:
        rows.append(("issued voucher", _voucher(s.issued_voucher)))
    if s.tier:
        rows.append(("loyalty tier", f"{s.tier.before or DASH} -> {s.tier.after or DASH}"))
    if s.segment:
        rows.append(("segment", s.segment))
    for item in s.changes:
        rows.append(("changed", f"{item.field}: {_compact(item.old)} -> {_compact(item.new)}"))
    return rows


def _voucher(v: Voucher) -> str:
    gift = f"gift balance {amount(v.gift_balance)}" if v.gift_balance is not None else None
    return join(v.code, v.type, v.id, gift)


def _compact(value: Any) -> str:
    text = jsonout.dumps(value).decode() if not isinstance(value, str) else value
    return shorten(text, 60)


def _verdict_rows(s: Summary) -> list[tuple[str, Text | str]]:
    from rich.text import Text

    v = s.verdict
    if v is None or v.valid is None:
        return [("validity", Text(safe(v.note), style="dim"))] if v and v.note else []
    warnings: list[tuple[str, Text | str]] = [
        ("warning", Text(f"{safe(w.path or '/')}: {safe(w.message)}", style="yellow")) for w in v.warnings
    ]
    if v.valid:
        return [("validity", Text("valid" + (f" ({safe(v.note)})" if v.note else ""), style="green")), *warnings]
    first = v.errors[0] if v.errors else None
    text = Text("invalid", style="bold red")
    if first:
        text.append(f" · {safe(first.path or '/')}: {safe(first.message)}")
    if len(v.errors) > 1:
        text.append(f" (+{len(v.errors) - 1} more)", style="dim")
    return [("validity", text), *warnings]


def _safe_text(value: Text | str) -> Text:
    """A cell as rich text: plain strings made safe here; `Text` cells were built from safe parts."""
    from rich.text import Text

    return value if isinstance(value, Text) else Text(safe(value))


def panel(s: Summary, raw: bool = False) -> Panel:
    """One event as a panel (`raw` is printed after it, plainly: see `raw_text`)."""
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    event = s.event
    title = Text(type_label(s), style="bold cyan" if event.known else "bold yellow")
    if event.name:
        title.append(f"  “{safe(event.name)}”", style="magenta")
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column(overflow="fold")
    when = [("event", join(event.created_at, event.dialect, event.id))]
    for label, value in when + _facts(s) + _verdict_rows(s):
        grid.add_row(label, _safe_text(value))
    border = "red" if s.valid is False else "blue"
    return Panel(
        grid,
        title=title,
        title_align="left",
        subtitle=Text(safe(str(event.locator))),
        subtitle_align="right",
        border_style=border,
    )


def raw_text(s: Summary) -> str:
    """The payload as received, its bytes (after its HTTP headers, if any), outside any box so
    it can be copied: terminal-safe, yet valid JSON with the payload's exact values."""
    headers = s.event.headers
    head = "".join(f"{safe(k)}: {safe(v)}\n" for k, v in headers.items()) + "\n" if headers else ""
    return head + received_json_text(s.event.raw)


# --- a whole run --------------------------------------------------------------------------


def json_raw_line(s: Summary) -> bytes:
    """`show --format json --raw`: the summary, plus the payload (and HTTP headers) as they are."""
    headers = s.event.headers
    document = {**summary_dict(s), "payload": s.event.payload, "headers": dict(headers) if headers else None}
    return jsonout.dumps(document, newline=True)


@dataclass(frozen=True, slots=True)
class View:
    """How `show` prints: `panels`, `table` or `json`; `project` runs where the events are."""

    name: str
    project: Callable[[Summary], Any]
    raw: bool = False
    color: bool = False
    streaming: bool = False  # write each event as soon as it is read (stdin, --follow)
    layout: Layout | None = None  # the table's

    @classmethod
    def of(
        cls,
        name: str,
        raw: bool = False,
        color: bool = False,
        streaming: bool = False,
        width: int | None = None,
        several: bool = False,
    ) -> View:
        """`width`: the terminal's (None: not a terminal); `several`: the input spans several sources."""
        layout = table_layout(width, several, color, raw) if name == "table" else None
        projections: dict[str, Callable[[Summary], Any]] = {
            "json": json_raw_line if raw else json_line,
            "panels": identity,
        }
        if layout is not None:
            projections["table"] = functools.partial(table_line, layout=layout)
        project = projections[name]
        return cls(name, project, raw, color, streaming, layout)


def write(results: Any, streams: Streams, view: View) -> None:
    if view.name == "panels":
        console = streams.console()

        def emit(s: Summary) -> None:
            console.print(panel(s))
            if view.raw:
                console.print(raw_text(s), soft_wrap=True)

        drain(results, streams, emit)
        return
    header = table_header(view.color, view.layout) if view.layout is not None else None
    write_to(None, results, streams, view.streaming, header)


def filtered_line(n: int) -> str:
    return f"{n} event{'' if n == 1 else 's'} filtered out"
