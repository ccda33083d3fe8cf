"""Rendering for `types`: the catalogue as a listing (family, dialects, facts summarised).

On a terminal the table fits its width (type names are never cut; the other cells wrap);
in a pipe it is as wide as its values, so `vevents types | grep loyalty` shows them whole.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vevents_cli import resources
from vevents_cli.output.streams import Lines, Streams
from vevents_cli.voucherify import catalogue, dialects

if TYPE_CHECKING:
    from rich.table import Table

# Which common fact is read from which top-level member of the data.
_COMMON_FACTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("customer", catalogue.CUSTOMER_FROM),
    ("voucher", catalogue.VOUCHER_FROM),
    ("campaign", catalogue.CAMPAIGN_FROM + catalogue.VOUCHER_FROM),
    ("order", catalogue.ORDER_FROM),
    ("redemption", catalogue.REDEMPTION_FROM),
    ("reward", catalogue.REWARD_FROM),
    ("segment", catalogue.SEGMENT_FROM),
)


def facts_of(entry: catalogue.EventType) -> list[str]:
    members = set(resources.shapes().get(entry.name, {}).get("properties", ()))
    facts = [fact for fact, paths in _COMMON_FACTS if any(p.split(".")[0] in members for p in paths)]
    facts += [rule for rule in ("points", "gift", "tier") if getattr(entry, rule) is not None]
    return facts


def catalogue_rows() -> list[dict[str, Any]]:
    rows = []
    for entry in catalogue.CATALOGUE.values():
        rows.append(
            {
                "type": entry.name,
                "family": entry.family,
                "schema": entry.has_schema,
                "dialects": dialects.for_type(entry),
                "facts": facts_of(entry),
            }
        )
    return rows


COLUMNS = ("type", "family", "schema", "dialects", "facts")
KEPT_FIRST = ("schema", "family", "dialects", "facts")  # on a narrow terminal, the first that fit are shown


def _cells(row: dict[str, Any]) -> dict[str, str]:
    return {
        "type": row["type"],
        "family": row["family"],
        "schema": "yes" if row["schema"] else "—",
        "dialects": ", ".join(row["dialects"]),
        "facts": ", ".join(row["facts"]) or "—",
    }


def columns_for(cells: list[dict[str, str]], width: int) -> list[str]:
    """The columns that fit `width`: the type always (never cut), then in `KEPT_FIRST` order
    each column that fits at the width of its longest word (the rest of its cells wrap)."""

    def least(column: str) -> int:
        return max(len(word) for c in cells for word in [column, *c[column].split()]) + 3  # borders, padding

    used = least("type") + 1
    shown = {"type"}
    for column in KEPT_FIRST:
        if used + least(column) <= width:
            used += least(column)
            shown.add(column)
    return [column for column in COLUMNS if column in shown]


def catalogue_table(rows: list[dict[str, Any]], width: int | None = None) -> Table:
    """The catalogue as a table, for a terminal `width` columns wide (None: whole, for a pipe)."""
    from rich.table import Table

    cells = [_cells(row) for row in rows]
    shown = columns_for(cells, width) if width is not None else list(COLUMNS)
    hidden = [column for column in COLUMNS if column not in shown]
    caption = f"{', '.join(hidden)}: in a wider terminal, or --format json" if hidden else None
    table = Table(title=f"{len(rows)} event types", title_justify="left", caption=caption, caption_justify="left")
    for column in shown:
        if column == "type":
            table.add_column(column, no_wrap=True, min_width=max(len(c["type"]) for c in cells))
        else:
            table.add_column(column, overflow="fold")
    for c in cells:
        table.add_row(*(c[column] for column in shown))
    return table


def write(streams: Streams, fmt: str) -> None:
    rows = catalogue_rows()
    if fmt == "json":
        lines = Lines(streams.out)
        for row in rows:
            lines.write(row)
        lines.flush()
        return
    console = streams.console(tables=True)
    console.print(catalogue_table(rows, console.width if streams.out_tty else None))
