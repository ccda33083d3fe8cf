"""Renderers for `show`: rich panels, a streaming one-line-per-event table, NDJSON.

Renderers only render: they take `Summary` objects (and `Unreadable`s) and never read
input, recognise events or decide validity.
"""

from __future__ import annotations

from typing import IO, Any

import orjson
from rich.console import Console, Group
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from vevents_cli.records import Unreadable
from vevents_cli.summary import Summary


def error_line(item: Unreadable) -> str:
    return f"vevents: {item}"


def report_unreadable(item: Unreadable, stderr: Console) -> None:
    stderr.print(Text(error_line(item)), style="red", soft_wrap=True, highlight=False)


# --- JSON -----------------------------------------------------------------------------------


def summary_dict(s: Summary) -> dict[str, Any]:
    """The NDJSON contract of `show --format json`: exactly these keys, null where absent.

    The fact groups are dataclasses whose members are the contract's (orjson writes them).
    """
    event = s.event
    locator = event.locator
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
        "redemption": s.redemption,
        "valid": s.verdict.valid if s.verdict else None,
    }


class Lines:
    """Writes lines to a binary stream in batches of `batch` lines or 1 MiB, whichever first
    (batch=1: each line at once, for streams)."""

    def __init__(self, out: IO[bytes], batch: int = 512) -> None:
        self.out = out
        self.batch = batch
        self.buffer: list[bytes] = []
        self.size = 0

    def write(self, obj: Any) -> None:
        """One JSON value as one line."""
        self.add(orjson.dumps(obj, option=orjson.OPT_APPEND_NEWLINE))

    def text(self, line: str) -> None:
        self.add(line.encode() + b"\n")

    def add(self, data: bytes) -> None:
        """Whole lines (one, or several joined)."""
        self.buffer.append(data)
        self.size += len(data)
        if len(self.buffer) >= self.batch or self.size >= 1 << 20:
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            self.out.write(b"".join(self.buffer))
            self.buffer.clear()
            self.size = 0
        self.out.flush()


# --- numbers ----------------------------------------------------------------------------


def number(value: float | int | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"


def signed(value: float | int | None) -> Text:
    if value is None:
        return Text("—", style="dim")
    style = "green" if value > 0 else "red" if value < 0 else "dim"
    return Text(("+" if value > 0 else "") + number(value), style=style)


def amount(value: float | int | None) -> str:
    """An API amount (minor units) with its formatted value: 7000 (70.00)."""
    if value is None:
        return "—"
    return f"{number(value)} ({value / 100:,.2f})"


# --- panels -----------------------------------------------------------------------------


def _join(*parts: str | None) -> str:
    """Non-empty parts joined with a dot, each once."""
    return " · ".join(dict.fromkeys(p for p in parts if p))


def _facts(s: Summary) -> list[tuple[str, Text | str]]:
    rows: list[tuple[str, Text | str]] = []
    if s.customer:
        c = s.customer
        who = c.name or c.email or c.source_id or c.id
        rows.append(("customer", _join(who, c.email, c.source_id, c.id)))
    if s.voucher:
        v = s.voucher
        balance = s.gift_card_balance
        gift = f"gift balance {amount(balance)}" if balance is not None else None
        rows.append(("voucher", _join(v.code, v.type, v.id, gift)))
    if s.campaign:
        rows.append(("campaign", _join(s.campaign.name, s.campaign.type, s.campaign.id)))
    if s.points:
        p = s.points
        line = Text()
        line.append_text(signed(p.delta))
        line.append(" points")
        if p.balance is not None:
            before = p.balance - p.delta if p.delta is not None else None
            line.append(f" · balance {number(before)} -> {number(p.balance)}" if before is not None
                        else f" · balance {number(p.balance)}")
        extra = _join(p.transaction_type, p.reason)
        if extra:
            line.append(f" · {extra}")
        rows.append(("points", line))
    if s.gift:
        g = s.gift
        line = Text()
        line.append_text(signed(g.delta))
        line.append(f" ({g.delta / 100:,.2f})" if g.delta is not None else "")
        line.append(f" · balance {amount(g.balance)}" if g.balance is not None else "")
        rows.append(("gift credits", line))
    if s.order:
        o = s.order
        rows.append(("order", _join(o.id, amount(o.amount) if o.amount is not None else None, o.status)))
    if s.redemption:
        r = s.redemption
        rows.append(("redemption", _join(r.id, r.result, amount(r.amount) if r.amount is not None else None)))
    if s.reward:
        rows.append(("reward", _join(s.reward.name, s.reward.type)))
    if s.tier:
        rows.append(("loyalty tier", f"{s.tier.before or '—'} -> {s.tier.after or '—'}"))
    if s.segment:
        rows.append(("segment", s.segment))
    for change in s.changes:
        rows.append(("changed", f"{change.field}: {_compact(change.old)} -> {_compact(change.new)}"))
    return rows


def _compact(value: Any) -> str:
    text = orjson.dumps(value).decode() if not isinstance(value, str) else value
    return text if len(text) <= 60 else text[:57] + "..."


def type_label(s: Summary) -> str:
    event = s.event
    if event.type is None:
        label = "type unknown"
        if event.candidates:
            label += " (candidates: " + ", ".join(event.candidates) + ")"
    else:
        label = event.type + ("" if event.known else " (unknown type)")
    return label


def _verdict_rows(s: Summary) -> list[tuple[str, Text | str]]:
    v = s.verdict
    if v is None or v.valid is None:
        return [("validity", Text(v.note, style="dim"))] if v and v.note else []
    if v.valid:
        return [("validity", Text("valid" + (f" ({v.note})" if v.note else ""), style="green"))]
    first = v.errors[0] if v.errors else None
    text = Text("invalid", style="bold red")
    if first:
        text.append(f" · {first.path or '/'}: {first.message}")
    if len(v.errors) > 1:
        text.append(f" (+{len(v.errors) - 1} more)", style="dim")
    return [("validity", text)]


def panel(s: Summary, raw: bool = False) -> Panel:
    event = s.event
    title = Text(type_label(s), style="bold cyan" if event.known else "bold yellow")
    if event.name:
        title.append(f"  “{event.name}”", style="magenta")
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column(overflow="fold")
    when = [("event", _join(event.created_at, event.dialect, event.id))]
    for label, value in when + _facts(s) + _verdict_rows(s):
        grid.add_row(label, value)
    body: list[Any] = [grid]
    if raw:
        if event.headers:
            body.append(Text("\n".join(f"{k}: {v}" for k, v in event.headers.items()), style="dim"))
        pretty = orjson.dumps(event.payload, option=orjson.OPT_INDENT_2).decode()
        body.append(Syntax(pretty, "json", theme="ansi_dark", word_wrap=True))
    subtitle = str(event.locator)
    border = "red" if s.verdict and s.verdict.valid is False else "blue"
    return Panel(Group(*body), title=title, title_align="left", subtitle=subtitle,
                 subtitle_align="right", border_style=border)


# --- table ------------------------------------------------------------------------------

TABLE_COLUMNS: tuple[tuple[str, int], ...] = (
    ("time", 24), ("type", 44), ("customer", 22), ("voucher", 16), ("Δpoints", 8), ("campaign", 22),
    ("valid", 5),
)


def _cell(text: str | None, width: int) -> str:
    text = text or "—"
    return text if len(text) <= width else text[: width - 1] + "…"


_ANSI = {"green": "\x1b[32m", "red": "\x1b[31m", "dim": "\x1b[2m", "bold": "\x1b[1m"}
_RESET = "\x1b[0m"


def table_header_cells() -> list[tuple[str, str | None]]:
    return [("".join(name.ljust(width) + " " for name, width in TABLE_COLUMNS), "bold")]


def table_cells(s: Summary) -> list[tuple[str, str | None]]:
    """One event's table line as (text, style) pieces."""
    event = s.event
    c, v = s.customer, s.voucher
    kind = event.type or "?"
    if event.name:
        kind += f" ({event.name})"
    head = [
        _cell(event.created_at, 24),
        _cell(kind, 44),
        _cell(c and (c.email or c.name or c.source_id or c.id), 22),
        _cell(v and (v.code or v.id), 16),
    ]
    cells: list[tuple[str, str | None]] = [
        ("".join(text.ljust(width) + " " for text, (_, width) in zip(head, TABLE_COLUMNS, strict=False)), None)
    ]
    delta = s.points.delta if s.points else None
    if delta is None:
        cells.append(("—".ljust(8), "dim"))
    else:
        cells.append((("+" if delta > 0 else "") + number(delta), "green" if delta > 0 else "red" if delta else None))
        cells.append((" " * max(0, 8 - len(cells[-1][0])), None))
    cells.append((" " + _cell(s.campaign and s.campaign.name, 22).ljust(22) + " ", None))
    verdict = s.verdict.valid if s.verdict else None
    cells.append(({True: "✓", False: "✗", None: "·"}[verdict], {True: "green", False: "red"}.get(verdict)))
    return cells


def table_header() -> Text:
    return Text.assemble(*table_header_cells())


def table_row(s: Summary) -> Text:
    """One event as one rich line (the receiver prints these)."""
    return Text.assemble(*table_cells(s))


def plain_line(cells: list[tuple[str, str | None]], color: bool) -> str:
    """Cells as one terminal line, with ANSI colours when `color` (fast: no rich per line)."""
    if not color:
        return "".join(text for text, _ in cells)
    return "".join(f"{_ANSI[style]}{text}{_RESET}" if style else text for text, style in cells)


# --- one item to output bytes (run in worker processes, see `parallel`) -------------------------


def json_line(item: Summary | Unreadable) -> bytes | Unreadable:
    if isinstance(item, Unreadable):
        return item
    return orjson.dumps(summary_dict(item), option=orjson.OPT_APPEND_NEWLINE)


def table_line(item: Summary | Unreadable, color: bool) -> bytes | Unreadable:
    if isinstance(item, Unreadable):
        return item
    return (plain_line(table_cells(item), color) + "\n").encode()
