"""Rendering for `types`: the catalogue as a listing (family, dialects, facts summarised)."""

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
    facts = [
        fact for fact, paths in _COMMON_FACTS if any(p.split(".")[0] in members for p in paths)
    ]
    facts += [rule for rule in ("points", "gift", "tier") if getattr(entry, rule) is not None]
    return facts


def catalogue_rows() -> list[dict[str, Any]]:
    rows = []
    for entry in catalogue.CATALOGUE.values():
        rows.append({
            "type": entry.name,
            "family": entry.family,
            "schema": entry.has_schema,
            "dialects": dialects.for_type(entry),
            "facts": facts_of(entry),
        })
    return rows


def catalogue_table(rows: list[dict[str, Any]]) -> Table:
    from rich.table import Table

    table = Table(title=f"{len(rows)} event types", title_justify="left")
    for column in ("type", "family", "schema", "dialects", "facts"):
        table.add_column(column, no_wrap=column == "type")
    for row in rows:
        table.add_row(
            row["type"], row["family"], "yes" if row["schema"] else "—",
            ", ".join(row["dialects"]), ", ".join(row["facts"]) or "—",
        )
    return table


def write(streams: Streams, fmt: str) -> None:
    rows = catalogue_rows()
    if fmt == "json":
        lines = Lines(streams.out)
        for row in rows:
            lines.write(row)
        lines.flush()
        return
    streams.console().print(catalogue_table(rows))
