"""Rendering for `ledger`: one table of cards (a balance sparkline each on a terminal), each
break explained on its own line, or a card's timeline event by event with its breaks marked
in place; or the document `ledger.Ledger.document` builds, as JSON (without the sparkline's
`trend`; `timeline` only with --card/--customer). Every cell from input passes through
`text.safe`. In a pipe the tables are as wide as their values.
"""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from vevents_cli import jsonout
from vevents_cli.output.streams import Streams
from vevents_cli.output.text import DASH, join, number, plural, safe, sign_style, signed

BARS = "▁▂▃▄▅▆▇█"
_CHANGE = {"points": "points", "pending": "pending points"}


def sparkline(values: list[int | float], width: int = 16) -> str:
    """Values as block characters, lowest to highest, at most `width` of them (evenly picked)."""
    if not values:
        return ""
    if len(values) > width:
        values = [values[round(i * (len(values) - 1) / (width - 1))] for i in range(width)]
    low, high = min(values), max(values)
    span = high - low or 1
    return "".join(BARS[round((v - low) / span * (len(BARS) - 1))] for v in values)


def _signed(value: float | int | None) -> Text:
    return Text(signed(value), style=sign_style(value) or "")


def _holder(c: dict[str, Any] | None, short: bool = False) -> str:
    """Who holds a card: email (or name), source_id and id; `short`: only the first of them."""
    if c is None:
        return DASH
    parts = (c["email"] or c["name"], c["source_id"], c["id"])
    return (next((p for p in parts if p), DASH) if short else join(*parts)) or DASH


def _clock(text: str | None, other: str | None = None) -> str:
    """A time as HH:MM:SS when it is on the same day as `other` (the other end of a window)."""
    if not text:
        return "?"
    same_day = other is not None and other[:10] == text[:10] and len(text) >= 19 and text[10:11] == "T"
    return text[11:19] if same_day else text


def explain(card: str, b: dict[str, Any]) -> str:
    """One break as a sentence (safe text)."""
    what = _CHANGE[b["balance"]]
    amount = f"{signed(b['amount'])} {what}"
    where = " -> ".join(b["locators"])
    if b["kind"] == "missing":
        window = f"between {_clock(b['after'], b['before'])} and {_clock(b['before'], b['after'])}"
        if b["after"] is None:
            window = f"before {b['before'] or '?'}"
        return safe(f"{card}: missing delivery: {amount} {window} arrived in no event ({where})")
    if b["kind"] == "reordered":
        late, earlier = b["locators"]
        return safe(
            f"{card}: reordered: {late} ({amount}, created {b['after']}) arrived after {earlier} "
            f"(created {b['before']}); in created order the balance adds up"
        )
    first, again = b["locators"]
    return safe(f"{card}: duplicate: {again} is {first} delivered again ({amount}, counted once)")


def _breaks(counts: dict[str, int]) -> Text:
    parts = [f"{n} {kind}" for kind, n in counts.items() if n]
    return Text(", ".join(parts), style="red" if counts["missing"] else "yellow") if parts else Text(DASH, style="dim")


def _name(card: dict[str, Any]) -> str:
    return str(card["voucher"]["code"] or card["voucher"]["id"])


def _span(first: str | None, last: str | None, short: bool) -> str:
    """A card's time span: the date once when both ends are on the same day (`short`: not at all)."""
    if first and last and _clock(last, first) != last:
        return f"{'' if short else first[:10] + ' '}{_clock(first, last)} -> {_clock(last, first)}"
    return f"{first or '?'} -> {last or '?'}"


def cards_table(doc: dict[str, Any], trend: bool) -> Table:
    table = Table(
        title="Loyalty cards",
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
        pad_edge=False,
    )
    codes = max((len(_name(card)) for card in doc["cards"]), default=4)
    table.add_column("card", overflow="fold", min_width=min(codes, 20))
    table.add_column("holder", overflow="ellipsis", no_wrap=True, min_width=12)  # one line; whole in a pipe
    table.add_column("events", justify="right", no_wrap=True)
    table.add_column("first -> last", overflow="fold", min_width=8)
    table.add_column("balance", overflow="fold", min_width=8)
    table.add_column("net", justify="right", no_wrap=True)
    table.add_column("breaks", overflow="fold", min_width=9)
    if trend:
        table.add_column("trend", no_wrap=True, overflow="crop", max_width=12)
    for card in doc["cards"]:
        b = card["balance"]
        cells: list[Text] = [
            Text(safe(_name(card))),
            Text(safe(_holder(card["customer"], short=trend))),
            Text(number(card["events"])),
            Text(safe(_span(card["first"], card["last"], short=trend))),
            Text(f"{number(b['first'])} -> {number(b['last'])}"),
            _signed(card["net"]),
            _breaks(card["break_counts"]),
        ]
        if trend:
            cells.append(Text(sparkline(card["trend"], 12), style="cyan"))
        table.add_row(*cells)
    return table


def timeline_table(card: dict[str, Any]) -> Table:
    """One card's events in created order, each break marked where it was found."""
    title = safe(f"{_name(card)} · {_holder(card['customer'])}")
    table = Table(
        title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False
    )
    table.add_column("created", overflow="fold", min_width=8)
    table.add_column("event", overflow="fold", min_width=20)
    for name in ("change", "after", "running", "pending"):  # after: the balance the event says
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("where", overflow="fold", min_width=12)
    marks: dict[str, list[dict[str, Any]]] = {}
    for b in card["breaks"]:
        marks.setdefault(b["at"], []).append(b)
    name = _name(card)
    for step in card["timeline"]:
        here = marks.get(step["locator"], [])
        for b in (b for b in here if b["kind"] == "missing"):
            table.add_row("", Text("! " + explain(name, b), style="red"), "", "", "", "", "")
        table.add_row(
            Text(safe(_clock(step["created_at"], card["first"]))),
            Text(safe(step["type"] or "?")),
            _signed(step["change"]),
            Text(number(step["balance"])),
            Text(number(step["running"])),
            Text(number(step["pending_running"]), style="dim"),
            Text(safe(step["locator"])),
        )
        for b in (b for b in here if b["kind"] != "missing"):
            table.add_row("", Text("! " + explain(name, b), style="yellow"), "", "", "", "", "")
    return table


def renderables(doc: dict[str, Any], timelines: bool, trend: bool) -> list[RenderableType]:
    s = doc["summary"]
    counts = s["breaks"]
    overview = Text(
        f"{plural(s['cards'], 'card')}, {plural(s['events'], 'event')} ({number(s['copies'])} copies counted once); "
        f"breaks: {counts['missing']} missing, {counts['reordered']} reordered, {counts['duplicate']} duplicate"
    )
    if not doc["cards"]:
        return [overview, Text("no loyalty points events", style="dim")]
    out: list[RenderableType] = [cards_table(doc, trend), overview]
    if timelines:
        out += [timeline_table(card) for card in doc["cards"]]
        return out
    lines = [explain(_name(card), b) for card in doc["cards"] for b in card["breaks"]]
    if lines:
        out.append(Text("\n".join(lines)))
    return out


def write(doc: dict[str, Any], streams: Streams, fmt: str, timelines: bool) -> None:
    """The reconciliation as tables (text) or one JSON document."""
    if fmt == "json":
        plain = {**doc, "cards": [{k: v for k, v in c.items() if k != "trend"} for c in doc["cards"]]}
        streams.out.write(jsonout.dumps(plain, pretty=True, newline=True))
        streams.out.flush()
        return
    console = streams.console(tables=True)
    for part in renderables(doc, timelines, trend=streams.out_tty):
        console.print(part)
        console.print()
