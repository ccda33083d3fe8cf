"""Events: recognise which of Voucherify's four payload shapes a record is, and its type.

- `v2024`: project-settings webhook `{id, project_id, created_at, type, data, source, event}`;
- `distribution`: the same envelope with `source.object == "distribution"`; `type` is the
  name the user gave the distribution, the real type is `event.type`;
- `legacy`: the v2018 Event object `{id, object: "event", type, data: {object, ...}}`;
  `type` may be a campaign webhook's custom name, `data.related_object.type` the real type;
- `bare`: only the `data` object; its type comes from `--as` or from its shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vevents_cli import catalogue, resources
from vevents_cli.records import Locator, Record

V2024, DISTRIBUTION, LEGACY, BARE = "v2024", "distribution", "legacy", "bare"

# Where each dialect keeps the event's data, as a JSON pointer into the payload.
DATA_POINTER = {V2024: "/data", DISTRIBUTION: "/data", LEGACY: "/data/object", BARE: ""}


@dataclass(frozen=True, slots=True)
class Event:
    """A recognised payload: dialect, standard type, envelope facts and the data object."""

    locator: Locator
    raw: bytes
    payload: dict[str, Any]
    dialect: str
    type: str | None  # the standard event type, None when it cannot be told
    name: str | None  # a custom name: legacy campaign webhook name, distribution's `type`
    id: str | None
    created_at: str | None
    data: Any  # the event's data object (legacy: data.object; bare: the payload)
    related: dict[str, Any] | None = None  # legacy: the related event's data
    candidates: tuple[str, ...] = ()  # bare payloads whose shape fits several types
    headers: Mapping[str, str] | None = None

    @property
    def known(self) -> bool:
        return catalogue.lookup(self.type) is not None

    @property
    def data_pointer(self) -> str:
        return DATA_POINTER[self.dialect]

    @property
    def delivery_id(self) -> str | None:
        """The id that identifies a delivery's event across retries."""
        event = self.payload.get("event")
        if isinstance(event, dict) and isinstance(event.get("id"), str):
            return event["id"]
        return self.id


def recognise(record: Record, as_type: str | None = None) -> Event:
    """Tell the dialect and type of a record. Never raises on any JSON object."""
    payload = record.value
    if payload.get("object") == "event" and isinstance(payload.get("data"), dict):
        return _legacy(record, payload)
    source, event = payload.get("source"), payload.get("event")
    if "data" in payload and (isinstance(source, dict) or isinstance(event, dict)):
        return _enveloped(record, payload, source, event)
    return _bare(record, payload, as_type)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _canonical(name: str | None) -> str | None:
    entry = catalogue.lookup(name)
    return entry.name if entry else name


def _enveloped(record: Record, payload: dict[str, Any], source: Any, event: Any) -> Event:
    event = event if isinstance(event, dict) else {}
    is_distribution = isinstance(source, dict) and source.get("object") == "distribution"
    if is_distribution:
        etype, name = _str(event.get("type")), _str(payload.get("type"))
    else:
        etype, name = _str(payload.get("type")) or _str(event.get("type")), None
    return Event(
        locator=record.locator,
        raw=record.raw,
        payload=payload,
        dialect=DISTRIBUTION if is_distribution else V2024,
        type=_canonical(etype),
        name=name,
        id=_str(payload.get("id")),
        created_at=_str(payload.get("created_at")) or _str(event.get("created_at")),
        data=payload.get("data"),
        headers=record.headers,
    )


def _legacy(record: Record, payload: dict[str, Any]) -> Event:
    data = payload["data"]
    related = data.get("related_object")
    related_type = _str(related.get("type")) if isinstance(related, dict) else None
    given = _str(payload.get("type"))
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
    return Event(
        locator=record.locator,
        raw=record.raw,
        payload=payload,
        dialect=LEGACY,
        type=_canonical(etype),
        name=name if name != etype else None,
        id=_str(payload.get("id")),
        created_at=_str(payload.get("created_at")),
        data=data.get("object"),
        related=related_data,
        headers=record.headers,
    )


def _bare(record: Record, payload: dict[str, Any], as_type: str | None) -> Event:
    candidates: tuple[str, ...] = ()
    if as_type:
        etype: str | None = as_type
    else:
        candidates = infer_type(payload)
        etype = candidates[0] if len(candidates) == 1 else None
    return Event(
        locator=record.locator,
        raw=record.raw,
        payload=payload,
        dialect=BARE,
        type=_canonical(etype),
        name=None,
        id=None,
        created_at=_str(payload.get("created_at")),
        data=payload,
        candidates=candidates if len(candidates) > 1 else (),
        headers=record.headers,
    )


def infer_type(data: dict[str, Any]) -> tuple[str, ...]:
    """The event types whose data schema fits these top-level members best.

    A type can fit only when every member it requires is present and it declares at
    least one member given. The best fit has the fewest given members it does not
    declare, then the fewest declared members not given (the tightest schema). One name:
    the type is known; several: they tie and the type cannot be told; none: nothing fits.
    """
    keys = set(data)
    best: list[str] = []
    best_score = (len(keys) + 1, 0)
    for name, shape in resources.shapes().items():
        props = shape["properties"]
        if not keys.issuperset(shape["required"]) or keys.isdisjoint(props):
            continue
        score = (len(keys.difference(props)), len(props) - len(keys.intersection(props)))
        if score < best_score:
            best, best_score = [name], score
        elif score == best_score:
            best.append(name)
    return tuple(best)
