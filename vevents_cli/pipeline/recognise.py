"""Recognise: which of Voucherify's payload shapes a record is, its type and catalogue entry.

The dialects table (`voucherify.dialects`) says where each shape keeps its type, custom
name, id, time and data (a bare payload's type: `--as`, else its file or folder name when
that is a known type, else its shape); the catalogue resolves the type name (aliases included) to its
entry once, here. Later stages use `event.entry` and never look the type up again.
"""

from __future__ import annotations

from vevents_cli.model import Event, Record
from vevents_cli.voucherify import catalogue, dialects


def recognise(record: Record, as_type: str | None = None) -> Event:
    """Tell the dialect and type of a record. Never raises on any JSON object."""
    dialect = dialects.detect(record.value, as_type)
    if as_type is None and dialect.type_from_path:
        as_type = catalogue.type_named_by(record.locator.source)
    reading = dialect.read(record.value, as_type)
    entry = catalogue.lookup(reading.type)
    return Event(
        record=record,
        dialect=dialect.name,
        type=entry.name if entry else reading.type,
        entry=entry,
        name=reading.name,
        id=reading.id,
        created_at=reading.created_at,
        data=reading.data,
        related=reading.related,
        candidates=reading.candidates,
        delivery_id=reading.delivery_id,
    )
