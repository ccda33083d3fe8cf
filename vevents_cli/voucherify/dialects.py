"""The four payload shapes Voucherify sends, as one table: `DIALECTS`.

- `v2024`: project-settings webhook `{id, project_id, created_at, type, data, source, event}`
  (also a minimal hand-written `{type, data}` with any of `id`/`project_id`/`created_at`, and
  a known event type's `{type, data}` or `{type}` alone: a test suite's fixture);
- `distribution`: the same envelope with `source.object == "distribution"`; `type` is the
  name the user gave the distribution, the real type is `event.type`;
- `legacy`: the v2018 Event object `{id, object: "event", type, data: {object, ...}}`;
  `type` may be a campaign webhook's custom name, `data.related_object.type` the real type;
- `bare`: only the `data` object; its type comes from `--as`, else its file or folder name
  when that is a known type (`catalogue.type_named_by`), else its shape.

Each `Dialect` says how to detect it, where the type, custom name, id, time and data are,
which schema level, envelope schema file and pointers validation uses, and how to wrap a
sample's data in it; `schema_file` finds a bundled schema by name through this table and
the catalogue.
Adding a dialect means adding a row here; nothing else branches on dialect names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vevents_cli.voucherify import catalogue


@dataclass(frozen=True, slots=True)
class Reading:
    """What a dialect reads from a payload (before the catalogue resolves the type)."""

    type: str | None
    name: str | None
    id: str | None
    created_at: str | None
    data: Any
    related: dict[str, Any] | None = None
    candidates: tuple[str, ...] = ()
    delivery_id: str | None = None


@dataclass(frozen=True, slots=True)
class Dialect:
    """One payload shape: how it is detected, read and wrapped, and where its data sits."""

    name: str
    description: str
    detect: Callable[[dict[str, Any], str | None], bool]  # (payload, --as TYPE)
    read: Callable[[dict[str, Any], str | None], Reading]  # (payload, --as TYPE)
    wrap: Callable[[Any, str, str, str | None], dict[str, Any]]  # (data, type, created_at, name)
    data_pointer: str  # where the data sits in the payload (RFC 6901)
    type_pointer: str  # where a wrong event type is reported
    envelope: bool  # has an envelope schema (schemas/<level>/envelope/<name>.json)
    level: str  # the schema level used unless --strict: "default" or "legacy"
    envelope_lists_types: bool = False  # its envelope schema's enum reports unknown types itself
    needs_schema: bool = False  # only types with a data schema can be recognised in it
    related_data: bool = False  # the data schema applies only when a related event names the type
    changes: bool = False  # `data.previous_attributes` says what changed (old -> new)
    custom_payloads: bool = False  # data sharing no member with its type's schema is the user's own
    type_from_path: bool = False  # without --as, a fixture's file or folder name may name its type

    @property
    def envelope_file(self) -> str | None:
        """Its envelope schema, relative to a schema level folder (named by this table, never by input)."""
        return f"envelope/{self.name}.json" if self.envelope else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


# --- detection and reading ------------------------------------------------------------------------


def _is_legacy(payload: dict[str, Any], _as: str | None = None) -> bool:
    return payload.get("object") == "event" and isinstance(payload.get("data"), dict)


_ENVELOPE_IDS = ("id", "project_id", "created_at")


def _is_enveloped(payload: dict[str, Any], as_type: str | None = None) -> bool:
    """The v2024 envelope, or a minimal one written by hand: `type` + `data` + an id or time,
    or a known event type's name in `type` (any `type`, given `--as`) with `data` or nothing
    else (a test fixture's `{"type": "campaign.updated", "data": {...}}`). Read as v2024, so
    its envelope check names the members it lacks."""
    if isinstance(payload.get("source"), dict) or isinstance(payload.get("event"), dict):
        return "data" in payload
    etype = payload.get("type")
    if not isinstance(etype, str) or "source" in payload or "event" in payload:
        return False
    if "data" in payload and any(key in payload for key in _ENVELOPE_IDS):
        return True
    known = as_type is not None or catalogue.lookup(etype) is not None
    return known and ("data" in payload or len(payload) == 1)


def _is_distribution(payload: dict[str, Any], as_type: str | None = None) -> bool:
    return _is_enveloped(payload, as_type) and _dict(payload.get("source")).get("object") == "distribution"


def _envelope_reading(payload: dict[str, Any], etype: str | None, name: str | None) -> Reading:
    event = _dict(payload.get("event"))
    return Reading(
        type=etype,
        name=name,
        id=_str(payload.get("id")),
        created_at=_str(payload.get("created_at")) or _str(event.get("created_at")),
        data=payload.get("data"),
        delivery_id=_str(event.get("id")) or _str(payload.get("id")),
    )


def _read_v2024(payload: dict[str, Any], as_type: str | None) -> Reading:
    """`--as TYPE` names the type (its own `type`, if another, is then the name it was given)."""
    event = _dict(payload.get("event"))
    given = _str(payload.get("type")) or _str(event.get("type"))
    if as_type is None or as_type == given:
        return _envelope_reading(payload, given, None)
    return _envelope_reading(payload, as_type, given)


def _read_distribution(payload: dict[str, Any], _as: str | None) -> Reading:
    event = _dict(payload.get("event"))
    return _envelope_reading(payload, _str(event.get("type")), _str(payload.get("type")))


def _read_legacy(payload: dict[str, Any], _as: str | None) -> Reading:
    data = payload["data"]
    related = data.get("related_object")
    related_type = _str(related.get("type")) if isinstance(related, dict) else None
    given = _str(payload.get("type"))
    etype: str | None
    name: str | None
    if related_type:
        etype, name = related_type, given
    elif catalogue.lookup(given):
        etype, name = given, None
    else:  # a custom webhook name with no standard type to go with it
        etype, name = None, given
    related_data = None
    if isinstance(related, dict):
        body = related.get("data", related.get("data_json"))
        related_data = body if isinstance(body, dict) else None
    return Reading(
        type=etype,
        name=name if name != etype else None,
        id=_str(payload.get("id")),
        created_at=_str(payload.get("created_at")),
        data=data.get("object"),
        related=related_data,
        delivery_id=_str(payload.get("id")),
    )


def _read_bare(payload: dict[str, Any], as_type: str | None) -> Reading:
    candidates: tuple[str, ...] = ()
    if as_type:
        etype: str | None = as_type
    else:
        candidates = catalogue.types_fitting(payload)
        etype = candidates[0] if len(candidates) == 1 else None
    return Reading(
        type=etype,
        name=None,
        id=None,
        created_at=_str(payload.get("created_at")),
        data=payload,
        candidates=candidates if len(candidates) > 1 else (),
    )


# --- wrapping a sample's data ---------------------------------------------------------------------

PROJECT_ID = "proj_vevents0sample"
TARGET_URL = "https://hooks.example.test/voucherify"


def _id(prefix: str, *parts: str) -> str:
    import hashlib  # (only samples need it: not imported with the table)

    digest = hashlib.sha256("/".join(parts).encode()).hexdigest()[:18]
    return f"{prefix}_{digest}"


def _wrap_bare(data: Any, etype: str, created_at: str, name: str | None) -> dict[str, Any]:
    return data  # type: ignore[no-any-return]


def _wrap_legacy(data: Any, etype: str, created_at: str, name: str | None) -> dict[str, Any]:
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


def _enveloped(
    dialect: str, source_object: str, source_prefix: str, etype: str, name: str, data: Any, created_at: str
) -> dict[str, Any]:
    return {
        "id": _id("whs", etype, created_at, dialect),
        "project_id": PROJECT_ID,
        "created_at": created_at,
        "type": name,
        "data": data,
        "source": {"id": _id(source_prefix, dialect), "object": source_object, "target_url": TARGET_URL},
        "event": {
            "id": _id("evcus", etype, created_at),
            "type": etype,
            "created_at": created_at,
            "entity_id": _id("cust", etype),
            "group_id": "v-" + _id("grp", etype, created_at)[4:],
            "event_source": {"channel": "API"},
        },
    }


def _wrap_v2024(data: Any, etype: str, created_at: str, name: str | None) -> dict[str, Any]:
    return _enveloped("v2024", "webhook", "wh", etype, etype, data, created_at)


def _wrap_distribution(data: Any, etype: str, created_at: str, name: str | None) -> dict[str, Any]:
    return _enveloped("distribution", "distribution", "distr", etype, name or "My distribution", data, created_at)


# --- the table ----------------------------------------------------------------------------------

V2024, DISTRIBUTION, LEGACY, BARE = "v2024", "distribution", "legacy", "bare"

# In detection order: the first whose `detect` holds is the payload's dialect.
DIALECTS: dict[str, Dialect] = {
    LEGACY: Dialect(
        LEGACY,
        'v2018 Event object {id, object: "event", type, data: {object, previous_attributes, related_object}}',
        _is_legacy,
        _read_legacy,
        _wrap_legacy,
        data_pointer="/data/object",
        type_pointer="/type",
        envelope=True,
        level="legacy",
        related_data=True,
        changes=True,
    ),
    DISTRIBUTION: Dialect(
        DISTRIBUTION,
        'project webhook envelope sent by a distribution (source.object == "distribution")',
        _is_distribution,
        _read_distribution,
        _wrap_distribution,
        data_pointer="/data",
        type_pointer="/event/type",
        envelope=True,
        level="default",
        custom_payloads=True,
    ),
    V2024: Dialect(
        V2024,
        "project-settings webhook {id, project_id, created_at, type, data, source, event}",
        _is_enveloped,
        _read_v2024,
        _wrap_v2024,
        data_pointer="/data",
        type_pointer="/type",
        envelope=True,
        level="default",
        envelope_lists_types=True,
    ),
    BARE: Dialect(
        BARE,
        "the data object alone; type from --as or its shape",
        lambda payload, as_type: True,
        _read_bare,
        _wrap_bare,
        data_pointer="",
        type_pointer="",
        envelope=False,
        level="default",
        needs_schema=True,
        type_from_path=True,
    ),
}
NAMES: tuple[str, ...] = (V2024, DISTRIBUTION, LEGACY, BARE)  # the order users see them in


# The envelope schemas by the name `vevents schema` knows them by: `envelope/v2024`...
ENVELOPES: dict[str, Dialect] = {f"envelope/{d.name}": d for d in DIALECTS.values() if d.envelope}


def schema_file(name: str) -> str | None:
    """The bundled schema named `name`, relative to a schema level folder: a type's data schema
    (`voucher.published`) or a dialect's envelope (`envelope/v2024`); None for any other name."""
    entry = catalogue.lookup(name)
    if entry is not None:
        return entry.schema_file
    dialect = ENVELOPES.get(name)
    return dialect.envelope_file if dialect is not None else None


_DETECTION = tuple((d.detect, d) for d in DIALECTS.values())


def detect(payload: dict[str, Any], as_type: str | None = None) -> Dialect:
    """The payload's dialect (`--as TYPE` makes a `{type, data}` with any type an envelope)."""
    for holds, dialect in _DETECTION:
        if holds(payload, as_type):
            return dialect
    raise AssertionError("bare detects every payload")


def wrap(
    data: Any, etype: str, dialect: str, created_at: str = "2026-03-14T09:26:53.589Z", name: str | None = None
) -> dict[str, Any]:
    """An event of `etype` carrying `data`, as Voucherify would send it in `dialect`."""
    table = DIALECTS.get(dialect)
    if table is None:
        raise ValueError(f"unknown dialect: {dialect}")
    return table.wrap(data, etype, created_at, name)


def for_type(entry: catalogue.EventType) -> list[str]:
    """The dialects an event type can be recognised in."""
    return [name for name in NAMES if entry.has_schema or not DIALECTS[name].needs_schema]
