"""Bundled sample payloads, re-wrapped in any dialect.

`samples/<type>.json` holds one v2024 project webhook per event type that has a schema,
written by the project (scripts/generate_samples.py); `samples/dialects/` one payload of
each dialect. The envelopes themselves come from the dialects table (`dialects.wrap`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from vevents_cli import resources
from vevents_cli.voucherify import catalogue
from vevents_cli.voucherify.dialects import V2024, wrap

__all__ = ["sample", "sample_path", "wrap"]


def sample_path(etype: str) -> Path | None:
    """The bundled sample of a catalogue type (None for a name the catalogue does not know)."""
    entry = catalogue.lookup(etype)
    if entry is None:
        return None
    path = resources.samples_dir() / f"{entry.name}.json"
    return path if path.is_file() else None


def sample(etype: str, dialect: str = V2024, created_at: str | None = None) -> dict[str, Any]:
    """The bundled sample of `etype`, re-wrapped for `dialect` (a fresh object each call); with
    `created_at`, made at that time (the envelope's ids are derived from it, so they are new too)."""
    path = sample_path(etype)
    if path is None:
        raise KeyError(f"no sample for {etype!r}")
    event: dict[str, Any] = orjson.loads(path.read_bytes())
    if dialect == V2024 and created_at is None:
        return event
    return wrap(event["data"], event["type"], dialect, created_at or event["created_at"])
