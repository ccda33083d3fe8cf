"""Bundled sample payloads, and wrapping an event's data in each dialect's envelope.

`samples/<type>.json` holds one v2024 project webhook per event type that has a schema,
written by the project (scripts/generate_samples.py); `samples/dialects/` one payload of
each dialect. `wrap` builds the other dialects from a sample's data.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import orjson

from vevents_cli import resources
from vevents_cli.events import BARE, DISTRIBUTION, LEGACY, V2024

PROJECT_ID = "proj_vevents0sample"
TARGET_URL = "https://hooks.example.test/voucherify"


def _id(prefix: str, *parts: str) -> str:
    digest = hashlib.sha256("/".join(parts).encode()).hexdigest()[:18]
    return f"{prefix}_{digest}"


def wrap(data: Any, etype: str, dialect: str, created_at: str = "2026-03-14T09:26:53.589Z",
         name: str | None = None) -> dict[str, Any]:
    """An event of `etype` carrying `data`, as Voucherify would send it in `dialect`."""
    if dialect == BARE:
        return data
    if dialect == LEGACY:
        return {
            "id": _id("evcus", etype, created_at, "legacy"),
            "object": "event",
            "webhook_id": None,
            "project_id": PROJECT_ID,
            "created_at": created_at,
            "type": name or etype,
            "data": {
                "object": data,
                "previous_attributes": {},
                "related_object": {
                    "id": _id("evcus", etype, created_at, "related"),
                    "type": etype,
                    "created_at": created_at,
                    "data": data,
                },
            },
            "metadata": {"source": "API"},
        }
    is_distribution = dialect == DISTRIBUTION
    if dialect not in (V2024, DISTRIBUTION):
        raise ValueError(f"unknown dialect: {dialect}")
    return {
        "id": _id("whs", etype, created_at, dialect),
        "project_id": PROJECT_ID,
        "created_at": created_at,
        "type": (name or "My distribution") if is_distribution else etype,
        "data": data,
        "source": {
            "id": _id("distr" if is_distribution else "wh", dialect),
            "object": "distribution" if is_distribution else "webhook",
            "target_url": TARGET_URL,
        },
        "event": {
            "id": _id("evcus", etype, created_at),
            "type": etype,
            "created_at": created_at,
            "entity_id": _id("cust", etype),
            "group_id": "v-" + _id("grp", etype, created_at)[4:],
            "event_source": {"channel": "API"},
        },
    }


def sample_path(etype: str) -> Path:
    return resources.samples_dir() / f"{etype}.json"


def sample(etype: str, dialect: str = V2024) -> dict[str, Any]:
    """The bundled sample of `etype`, re-wrapped for `dialect` (a fresh object each call)."""
    event = orjson.loads(sample_path(etype).read_bytes())
    if dialect == V2024:
        return event
    return wrap(event["data"], etype, dialect, event["created_at"])
