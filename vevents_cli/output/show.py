"""Rendering for `show`: rich panels, a one-line-per-event table, NDJSON.

Only renders: takes `Summary` objects and never reads input, recognises events or
decides validity. Every string from the payload goes through `text.safe` before it
reaches a terminal; the NDJSON keeps exact values. `json_line` and `table_line` run
where the events are (perhaps in a worker process: see `pipeline.parallel`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vevents_cli import jsonout
from vevents_cli.model import Summary
from vevents_cli.output.streams import Streams, drain, paint, write_to
from vevents_cli.output.text import DASH, amount, join, number, safe, shorten, sign_style, signed

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
        "valid": s.valid,
    }


def json_line(s: Summary) -> bytes:
    return jsonout.dumps(summary_dict(s), newline=True)


# --- table ------------------------------------------------------------------------------

TABLE_COLUMNS: tuple[tuple[str, int], ...] = (
    ("time", 24), ("type", 44), ("customer", 22), ("voucher", 16), ("Δpoints", 8), ("campaign", 22),
    ("valid", 5),
)
VALID_MARK = {True: ("✓", "green"), False: ("✗", "red"), None: ("·", None)}


def _cell(value: str | None, width: int) -> str:
    return shorten(safe(value) if value else DASH, width).ljust(width) + " "


def table_header(color: bool) -> str:
    return paint("".join(name.ljust(width) + " " for name, width in TABLE_COLUMNS), "bold", color)


def type_cell(s: Summary) -> str:
    event = s.event
    kind = event.type or "?"
    return kind + (f" ({event.name})" if event.name else "")


def table_cells(s: Summary) -> list[tuple[str, str | None]]:
    """One event's table line as (safe text, style) pieces."""
    event, c, v = s.event, s.customer, s.voucher
    delta = s.points.delta if s.points else None
    mark, style = VALID_MARK[s.valid]
    head = (
        _cell(event.created_at, 24) + _cell(type_cell(s), 44)
        + _cell(c and (c.email or c.name or c.source_id or c.id), 22) + _cell(v and (v.code or v.id), 16)
    )
    points = signed(delta)
    return [
        (head, None),
        (points, sign_style(delta) if delta is not None and delta != 0 else ("dim" if delta is None else None)),
        (" " * max(0, 8 - len(points)) + " " + _cell(s.campaign and s.campaign.name, 22), None),
        (mark, style),
    ]


def table_line(s: Summary, color: bool) -> bytes:
    return ("".join(paint(text, style, color) for text, style in table_cells(s)) + "\n").encode()


def table_row(s: Summary) -> Text:
    """One event as one rich line (the receiver prints these)."""
    from rich.text import Text

    return Text.assemble(*table_cells(s))


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
        v = s.voucher
        balance = s.gift_card_balance
        gift = f"gift balance {amount(balance)}" if balance is not None else None
        rows.append(("voucher", join(v.code, v.type, v.id, gift)))
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
            line.append(f" · balance {number(before)} -> {number(p.balance)}" if before is not None
                        else f" · balance {number(p.balance)}")
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
        rows.append(("reward", join(s.reward.name, s.reward.type)))
    if s.tier:
        rows.append(("loyalty tier", f"{s.tier.before or DASH} -> {s.tier.after or DASH}"))
    if s.segment:
        rows.append(("segment", s.segment))
    for item in s.changes:
        rows.append(("changed", f"{item.field}: {_compact(item.old)} -> {_compact(item.new)}"))
    return rows


def _compact(value: Any) -> str:
    text = jsonout.dumps(value).decode() if not isinstance(value, str) else value
    return shorten(text, 60)


def _verdict_rows(s: Summary) -> list[tuple[str, Text | str]]:
    from rich.text import Text

    v = s.verdict
    if v is None or v.valid is None:
        return [("validity", Text(safe(v.note), style="dim"))] if v and v.note else []
    warnings: list[tuple[str, Text | str]] = [
        ("warning", Text(f"{safe(w.path or '/')}: {safe(w.message)}", style="yellow")) for w in v.warnings]
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
    from rich.console import Group
    from rich.panel import Panel
    from rich.syntax import Syntax
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
    body: list[Any] = [grid]
    if raw:
        if event.headers:
            body.append(Text("\n".join(f"{safe(k)}: {safe(v)}" for k, v in event.headers.items()), style="dim"))
        pretty = jsonout.dumps(event.payload, pretty=True).decode()
        body.append(Syntax("\n".join(map(safe, pretty.split("\n"))), "json", theme="ansi_dark", word_wrap=True))
    border = "red" if s.valid is False else "blue"
    return Panel(Group(*body), title=title, title_align="left", subtitle=Text(safe(str(event.locator))),
                 subtitle_align="right", border_style=border)


# --- a whole run --------------------------------------------------------------------------


def identity(s: Summary) -> Summary:
    return s


@dataclass(frozen=True, slots=True)
class View:
    """How `show` prints: `panels`, `table` or `json`; `project` runs where the events are."""

    name: str
    project: Callable[[Summary], Any]
    raw: bool = False
    color: bool = False
    streaming: bool = False  # write each event as soon as it is read (stdin, --follow)

    @classmethod
    def of(cls, name: str, raw: bool = False, color: bool = False, streaming: bool = False) -> View:
        project = {"json": json_line, "table": functools.partial(table_line, color=color), "panels": identity}[name]
        return cls(name, project, raw, color, streaming)


def write(results: Any, streams: Streams, view: View) -> None:
    if view.name == "panels":
        console = streams.console()
        drain(results, streams, lambda s: console.print(panel(s, view.raw)))
        return
    header = table_header(view.color) if view.name == "table" else None
    write_to(None, results, streams, view.streaming, header)


def filtered_line(n: int) -> str:
    return f"{n} event{'' if n == 1 else 's'} filtered out"
