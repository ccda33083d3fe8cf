"""Rendering for `show`: rich panels, a one-line-per-event table, NDJSON.

Only renders: takes `Summary` objects and never reads input, recognises events or
decides validity. Every string from the payload goes through `text.safe` before it
reaches a terminal; the NDJSON keeps exact values. `json_line`, `table_line` (a pipe's
table) and `row_values` (a terminal's: the cells, fitted to the layout by `sized` in the
main process) run where the events are (perhaps in a worker process: see `pipeline.parallel`).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vevents_cli import jsonout
from vevents_cli.facts import Voucher
from vevents_cli.model import Summary
from vevents_cli.output.streams import Streams, drain, paint, write_to
from vevents_cli.output.text import (
    DASH,
    amount,
    fit_time,
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
# One line per event, the same row layout for `show --table` and `listen` (which puts its
# HTTP status and signature verdict first: `lead`). In a pipe the values are whole,
# tab-separated, every column. On a terminal the columns fit its width (`table_layout`):
# first status, a short time (`MM-DD HH:MM:SS`), type, customer, voucher and Δpoints at
# their least widths; then those grow towards what their values need (`FIRST_GROWTH`:
# customer, voucher, Δpoints, type up to a cap each, then each whole); then, if there is
# room, the campaign, the full time and the source (when the input spans several sources)
# join and grow, in that order. A type wider than its column is abbreviated
# (`abbreviate_type`: leading segments to their first letter, `c.v.loyalty_card.points_added`,
# then an ellipsis before its last segment), never dropped. What the values need is measured on the first
# `SAMPLE` events of a run read from files (`show` holds their rows until then); a run
# printed as it is read (stdin, --follow, listen) cannot know its future and sizes the
# columns for typical values (`DEFAULT_NEED`), abbreviating a longer type.

ORDER = ("valid", "time", "type", "customer", "voucher", "Δpoints", "campaign", "source")
CORE = ("valid", "time", "type", "Δpoints", "customer", "voucher")  # added in this order while they fit
# then these grow towards what their values need, at first only up to a cap each, then whole
FIRST_GROWTH = (("customer", 48), ("voucher", 16), ("Δpoints", 8), ("type", 30))
EXTRA = ("campaign", "time", "source")  # then these, if there is room
LEAST = {"valid": 1, "time": 14, "type": 16, "customer": 12, "voucher": 10, "Δpoints": 7, "campaign": 10, "source": 12}
DEFAULT_NEED = {"valid": 1, "time": 24, "customer": 24, "voucher": 16, "Δpoints": 8, "campaign": 22, "source": 30}
DEFAULT_NEED["type"] = max(len(name) for name in catalogue.CATALOGUE)  # the longest type vevents knows
SAMPLE = 100  # events measured before a table read from files is printed
HEADER = {"valid": "✓"}  # a label for a column narrower than its name
VALID_MARK = {True: ("✓", "green"), False: ("✗", "red"), None: ("·", None)}

Cell = tuple[str, str | None]  # safe text, style
Values = tuple[tuple[Cell, ...], str | None]  # every column's whole cell (ORDER), the payload if --raw


@dataclass(frozen=True, slots=True)
class Layout:
    """Which columns a table line has, how wide each is (0: as wide as its value)."""

    columns: tuple[tuple[str, int], ...]
    tabs: bool = False  # a pipe: whole values, tab-separated
    color: bool = False
    raw: bool = False  # the payload too: a last column in a pipe, a line after the row on a terminal


def table_layout(
    width: int | None,
    several: bool = False,
    color: bool = False,
    raw: bool = False,
    need: dict[str, int] | None = None,
    lead: int = 0,
) -> Layout:
    """The table for a terminal `width` columns wide (None: a pipe, every column whole), after
    `lead` columns of the caller's own (listen's status and signature), with a source column
    when the input spans `several` sources; `need`: each column's widest value (None: unknown)."""
    if width is None:
        return Layout(tuple((name, 0) for name in ORDER), tabs=True, color=color, raw=raw)
    want = need or DEFAULT_NEED
    budget = width - lead
    chosen: dict[str, int] = {}

    def spare() -> int:
        return budget - sum(chosen.values()) - max(len(chosen) - 1, 0)  # a space between columns

    def grow(name: str, cap: int | None = None) -> None:
        target = want[name] if cap is None else min(want[name], cap)
        chosen[name] += max(0, min(target - chosen[name], spare()))

    for name in CORE:  # each at its least width while it fits, most wanted first
        if spare() >= LEAST[name] + (1 if chosen else 0) or name == "valid":
            chosen[name] = LEAST[name]
    for name, cap in FIRST_GROWTH + tuple((name, None) for name, _ in FIRST_GROWTH):
        if name in chosen:
            grow(name, cap)
    for name in EXTRA:
        if name == "time":
            if "time" in chosen:
                grow("time")
        elif (name != "source" or several) and spare() >= LEAST[name] + 1:
            chosen[name] = LEAST[name]
            grow(name)
    columns = tuple((name, chosen[name]) for name in ORDER if name in chosen)
    return Layout(columns, color=color, raw=raw)


def measure(rows: list[Values]) -> dict[str, int]:
    """What each column needs to show the values of `rows` whole (at least its header)."""
    need = {name: len(name) if name not in HEADER else 1 for name in ORDER}
    for cells, _ in rows:
        for name, (text, _style) in zip(ORDER, cells, strict=True):
            need[name] = max(need[name], len(text))
    return need


def type_cell(s: Summary) -> str:
    event = s.event
    kind = event.type or "?"
    return kind + (f" ({event.name})" if event.name else "")


def abbreviate_type(text: str, width: int) -> str:
    """A type (and its event name) in `width` characters: its leading dotted segments cut to
    their first letter, from the left, the last one kept whole; then an ellipsis in the
    middle (before the last segment), or at the end when an event name follows."""
    if len(text) <= width:
        return text
    kind, space, rest = text.partition(" ")
    parts = kind.split(".")
    for i in range(len(parts) - 1):
        parts[i] = parts[i][:1]
        shorter = ".".join(parts) + space + rest
        if len(shorter) <= width:
            return shorter
    shorter = ".".join(parts) + space + rest
    tail = shorter[shorter.rfind(".") :] if not rest else ""  # the last segment, kept if it can be
    if not tail or len(tail) > width - 3:
        return shorten(shorter, width)
    return shorter[: width - 1 - len(tail)] + "…" + tail


def _value(s: Summary, name: str) -> Cell:
    """One whole cell's text (not yet safe) and style."""
    if name == "time":
        return s.event.created_at or DASH, None
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


def row_values(s: Summary, raw: bool = False) -> Values:
    """One event's whole, safe cells in `ORDER` (and its payload as JSON text if `raw`): a
    pipeline projection, made where the event is; `row_text` fits them to a layout."""
    cells = tuple((safe(text), style) for text, style in (_value(s, name) for name in ORDER))
    return cells, json_text(s.event.payload) if raw else None


def _fit(text: str, width: int, name: str) -> str:
    """A cell padded (or shortened) to its column: numbers right-aligned, sources cut on the left."""
    if width == 0:
        return text
    if name == "time":
        text = fit_time(text, width)
    elif name == "type":
        text = abbreviate_type(text, width)
    if len(text) > width:
        return "…" + text[len(text) - width + 1 :] if name == "source" else shorten(text, width)
    return text.rjust(width) if name == "Δpoints" else text.ljust(width)


def row_cells(values: Values, layout: Layout) -> list[Cell]:
    """A row's cells fitted to `layout`, separators included (the last cell is not padded)."""
    cells = dict(zip(ORDER, values[0], strict=True))
    out: list[Cell] = []
    for name, width in layout.columns:
        text, style = cells[name]
        out += [(text if layout.tabs else _fit(text, width, name), style), ("\t" if layout.tabs else " ", None)]
    out.pop()
    if not layout.tabs:
        last, style = out[-1]
        out[-1] = (last.rstrip(), style)
    return out


def row_text(values: Values, layout: Layout) -> bytes:
    """One table line (and the payload: a last column in a pipe, else its own line)."""
    line = "".join(paint(text, style, layout.color) for text, style in row_cells(values, layout))
    payload = values[1]
    if payload is not None:
        line += ("\t" if layout.tabs else "\n") + payload
    return (line + "\n").encode()


def table_header(layout: Layout) -> str:
    if layout.tabs:
        return paint(
            "\t".join([name for name, _ in layout.columns] + (["payload"] if layout.raw else [])), "bold", layout.color
        )
    labels = [name if width == 0 or len(name) <= width else HEADER.get(name, name) for name, width in layout.columns]
    fitted = [
        label.rjust(w) if n == "Δpoints" else label.ljust(w)
        for label, (n, w) in zip(labels, layout.columns, strict=True)
    ]
    return paint(" ".join(fitted).rstrip(), "bold", layout.color)


def table_line(s: Summary, layout: Layout) -> bytes:
    """One event's line in a fixed layout (a pipe's: made where the event is)."""
    return row_text(row_values(s, layout.raw), layout)


def sized(results: Iterable[Any], width: int, several: bool, color: bool, raw: bool, sample: int) -> Iterator[Any]:
    """A terminal table's lines (the header first) from a run's `row_values`: the first
    `sample` rows are held (with any error lines between them, in order) to measure what the
    columns need; every line after is printed at once in that layout."""
    it = iter(results)
    held: list[Any] = []
    try:
        for item in it if sample else ():
            held.append(item)
            if sum(1 for h in held if isinstance(h, tuple)) >= sample:
                break
        rows = [h for h in held if isinstance(h, tuple)]
        layout = table_layout(width, several, color, raw, measure(rows) if sample else None)
        yield (table_header(layout) + "\n").encode()
        for item in itertools.chain(held, it):
            yield row_text(item, layout) if isinstance(item, tuple) else item
    finally:
        close = getattr(it, "close", None)
        if close is not None:
            close()


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
    width: int | None = None  # the terminal's (None: not a terminal)
    several: bool = False  # the input spans several sources

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
        projections: dict[str, Callable[[Summary], Any]] = {
            "json": json_raw_line if raw else json_line,
            "panels": identity,
            "table": (
                functools.partial(table_line, layout=table_layout(None, color=color, raw=raw))
                if width is None
                else functools.partial(row_values, raw=raw)
            ),
        }
        return cls(name, projections[name], raw, color, streaming, width, several)


def write(results: Any, streams: Streams, view: View) -> None:
    if view.name == "panels":
        console = streams.console()

        def emit(s: Summary) -> None:
            console.print(panel(s))
            if view.raw:
                console.print(raw_text(s), soft_wrap=True)

        drain(results, streams, emit)
        return
    if view.name == "table" and view.width is not None:
        lines = sized(results, view.width, view.several, view.color, view.raw, 0 if view.streaming else SAMPLE)
        write_to(None, lines, streams, view.streaming)
        return
    header = table_header(table_layout(None, color=view.color, raw=view.raw)) if view.name == "table" else None
    write_to(None, results, streams, view.streaming, header)


def filtered_line(n: int) -> str:
    return f"{n} event{'' if n == 1 else 's'} filtered out"
