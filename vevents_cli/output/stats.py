"""Rendering for `stats`: rich tables drawn from the document `stats.Stats.document` builds,
or that document as JSON. Every cell from input passes through `text.safe`. On a terminal
the tables fit its width (long cells wrap); in a pipe they are as wide as their values.
"""

from __future__ import annotations

from typing import Any, Literal

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from vevents_cli import jsonout
from vevents_cli.output.streams import Streams
from vevents_cli.output.text import number, safe, sign_style, signed


def _signed(value: float | int | None) -> Text:
    return Text(signed(value), style=sign_style(value) or "")


def _add(table: Table, *cells: str | Text) -> None:
    table.add_row(*(cell if isinstance(cell, Text) else Text(safe(cell)) for cell in cells))


_NUMBERS = frozenset({"events", "times", "Δpoints", "Δpending", "Δgift", "points issued", "points spent", "pending"})


def _table(title: str, section: dict[str, Any], *columns: str) -> Table:
    shown, total = len(section["rows"]), section["total"]
    caption = f"top {shown} of {total}" if shown < total else None
    table = Table(title=title, title_justify="left", title_style="bold", caption=caption, caption_justify="left")
    for i, name in enumerate(columns):
        wrap = i == 0 or name in ("where", "after")
        justify: Literal["left", "right"] = "right" if name in _NUMBERS else "left"
        table.add_column(name, justify=justify, overflow="fold", no_wrap=not wrap)
    return table


def _who(row: dict[str, Any]) -> str:
    parts = (row["email"] or row["name"], row["source_id"], row["id"])
    return " · ".join(dict.fromkeys(x for x in parts if x))


def _locators(where: list[str], limit: int = 4) -> str:
    more = f" (+{len(where) - limit} more)" if len(where) > limit else ""
    return ", ".join(where[:limit]) + more


def renderables(doc: dict[str, Any]) -> list[RenderableType]:
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

    types = _table("Events by type", doc["by_type"], "type", "events")
    for row in doc["by_type"]["rows"]:
        _add(types, row["type"], number(row["events"]))
    dialects = _table("Events by dialect", doc["by_dialect"], "dialect", "events")
    for row in doc["by_dialect"]["rows"]:
        _add(dialects, row["dialect"], number(row["events"]))
    out += [types, dialects]

    if doc["customers"]["total"]:
        customers = _table(
            "Customers", doc["customers"], "customer", "events", "Δpoints", "Δpending", "Δgift", "last seen"
        )
        for row in doc["customers"]["rows"]:
            _add(
                customers,
                _who(row),
                number(row["events"]),
                _signed(row["points"]),
                _signed(row["pending"]),
                _signed(row["gift"]),
                row["last_seen"] or "—",
            )
        out.append(customers)
    if doc["campaigns"]["total"]:
        campaigns = _table(
            "Campaigns", doc["campaigns"], "campaign", "events", "points issued", "points spent", "pending"
        )
        for row in doc["campaigns"]["rows"]:
            name = " · ".join(x for x in (row["name"], row["id"]) if x)
            _add(
                campaigns,
                name,
                number(row["events"]),
                _signed(row["points_issued"]),
                _signed(row["points_spent"]),
                _signed(row["pending"]),
            )
        out.append(campaigns)
    if doc["duplicates"]["total"]:
        dupes = _table("Duplicate deliveries (retries)", doc["duplicates"], "delivery id", "times", "where")
        for row in doc["duplicates"]["rows"]:
            _add(dupes, row["delivery_id"], str(row["count"]), _locators(row["locators"]))
        out.append(dupes)
    if doc["out_of_order"]["total"]:
        late = _table(
            "Out of order (created_at goes backwards)",
            doc["out_of_order"],
            "where",
            "created_at",
            "after",
            "created_at",
        )
        for row in doc["out_of_order"]["rows"]:
            _add(late, row["locator"], row["created_at"], row["previous_locator"], row["previous_created_at"])
        out.append(late)
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
    for part in renderables(doc):
        console.print(part)
        console.print()
