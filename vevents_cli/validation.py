"""Validation: check an event's envelope and data against the bundled JSON Schemas.

Two levels ship in `schemas/`: `default` (what Voucherify really sends) and `strict` (the
vendor spec literally); legacy payloads are checked against `legacy` (default without
`required`) unless `--strict`. A fast yes/no check (jsonschema-rs, compiled only for the
types met) runs on every event; the detailed report (python-jsonschema, for RFC 6901
pointers, failing keywords and best-matching anyOf/oneOf branches) only on invalid ones.
Schema references resolve to local files only: never the network.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson

from vevents_cli import catalogue, resources
from vevents_cli.events import BARE, DISTRIBUTION, LEGACY, Event, infer_type

DEFAULT, STRICT = "default", "strict"


@dataclass(frozen=True, slots=True)
class SchemaError:
    """One reason an event is invalid: where (RFC 6901 pointer into the event), what, which keyword."""

    path: str
    message: str
    validator: str


@dataclass(frozen=True, slots=True)
class Verdict:
    valid: bool | None
    errors: tuple[SchemaError, ...] = ()
    note: str | None = None  # what was (not) checked, e.g. "custom payload, envelope checked"


@dataclass(frozen=True, slots=True)
class Check:
    """One schema applied to one part of the event."""

    schema: Path
    instance: Any
    pointer: str  # where `instance` sits inside the event


class SchemaSet:
    """The schemas of one run: bundled level plus the user's own (`--schemas DIR`)."""

    def __init__(self, strict: bool = False, user_dir: Path | None = None) -> None:
        self.strict = strict
        self.root = resources.schemas_dir()
        self.user = _user_schemas(user_dir) if user_dir else {}
        self._fast: dict[Path, Any] = {}

    # -- which schemas apply --------------------------------------------------------------

    def level_dir(self, dialect: str) -> Path:
        if self.strict:
            return self.root / STRICT
        return self.root / ("legacy" if dialect == LEGACY else DEFAULT)

    def envelope(self, dialect: str) -> Path:
        level = STRICT if self.strict else DEFAULT
        return self.root / level / "envelope" / f"{dialect}.json"

    def data_schema(self, event: Event) -> Path | None:
        for name in (event.name, event.type):
            if name and name in self.user:
                return self.user[name]
        if event.type is None or (event.dialect == LEGACY and event.related is None):
            return None  # legacy internal events carry the resource itself: envelope only
        path = self.level_dir(event.dialect) / "data" / f"{event.type}.json"
        return path if path.is_file() else None

    def plan(self, event: Event) -> tuple[list[Check], list[SchemaError], str | None]:
        """The checks for an event, errors known without a schema, and a note."""
        checks: list[Check] = []
        errors: list[SchemaError] = []
        note = None
        if event.dialect != BARE:
            checks.append(Check(self.envelope(event.dialect), event.payload, ""))
        schema = self.data_schema(event)
        data_at = event.data_pointer
        if schema is not None:
            if event.dialect == DISTRIBUTION and self._custom_payload(event):
                note = "custom payload, envelope checked"
            else:
                checks.append(Check(schema, event.data, data_at))
                errors.extend(self._disagreement(event))
            return checks, errors, note
        # No data schema: say why, and whether that is an error at this level.
        if event.type is None:
            if event.dialect == BARE:
                hint = (" (candidates: " + ", ".join(event.candidates) + ")") if event.candidates else ""
                errors.append(SchemaError("", f"cannot tell the event type{hint}; pass --as TYPE", "type"))
            elif event.dialect == LEGACY:
                note = "envelope only: custom webhook name with no related standard event"
                if self.strict:
                    errors.append(SchemaError("/type", f"{event.name!r} is not a standard event type", "enum"))
        elif catalogue.lookup(event.type) is None:
            if event.dialect == DISTRIBUTION:
                note = f"unknown event type {event.type!r}: envelope checked"
                if self.strict:
                    errors.append(SchemaError("/event/type", f"unknown event type {event.type!r}", "enum"))
            elif event.dialect == BARE:
                errors.append(SchemaError("", f"unknown event type {event.type!r}", "enum"))
            elif event.dialect == LEGACY:
                note = f"envelope only: unknown event type {event.type!r}"
                if self.strict:
                    errors.append(SchemaError("/type", f"unknown event type {event.type!r}", "enum"))
        elif event.dialect == LEGACY and event.related is None:
            note = "envelope only: legacy data.object is the resource itself, not v2024 event data"
        else:
            note = f"no schema for {event.type}: envelope checked"
        return checks, errors, note

    def _disagreement(self, event: Event) -> list[SchemaError]:
        """The data does not look like its event type (the schemas accept unknown members,
        so only the members given can tell a payload sent under the wrong type)."""
        shape = resources.shapes().get(event.type or "")
        if not shape or not isinstance(event.data, dict) or not event.data or event.type in self.user:
            return []
        keys = set(event.data)
        pointer_ = event.data_pointer
        if keys.isdisjoint(shape["properties"]):
            return [SchemaError(pointer_, f"data has none of the members of a {event.type} event", "type-agreement")]
        unknown = keys.difference(shape["properties"])
        if unknown:
            fits = infer_type(event.data)
            if len(fits) == 1 and fits[0] != event.type:
                return [SchemaError(
                    pointer_,
                    f"data looks like {fits[0]}, not {event.type} (unexpected: {', '.join(sorted(unknown))})",
                    "type-agreement",
                )]
        return []

    def _custom_payload(self, event: Event) -> bool:
        """A distribution's data that shares no member with its event type's schema."""
        if event.type in self.user.keys() or event.name in self.user.keys():
            return False
        shape = resources.shapes().get(event.type or "")
        if not shape or not isinstance(event.data, dict):
            return False
        return not set(event.data).intersection(shape["properties"])

    # -- running them ---------------------------------------------------------------------

    def check(self, event: Event) -> Verdict:
        checks, errors, note = self.plan(event)
        failed = [c for c in checks if not self.fast(c.schema).is_valid(c.instance)]
        if not failed and not errors:
            return Verdict(True, note=note)
        for c in failed:
            errors.extend(self.explain(c))
        if not errors:  # the detailed validator disagreed with the fast one: trust the fast one
            errors.append(SchemaError("", "invalid (no detail available)", "schema"))
        return Verdict(False, tuple(errors), note)

    def fast(self, schema: Path) -> Any:
        validator = self._fast.get(schema)
        if validator is None:
            validator = jsonschema_rs.validator_for(
                _load(schema), validate_formats=True, retriever=_retrieve, base_uri=schema.as_uri()
            )
            self._fast[schema] = validator
        return validator

    def explain(self, c: Check) -> list[SchemaError]:
        """Every error of one failing check, each at its pointer inside the event."""
        validator = _detailed(c.schema)
        try:
            found = list(validator.iter_errors(c.instance))
        except RecursionError:
            return [SchemaError(c.pointer, "nesting too deep to validate", "depth")]
        out: list[SchemaError] = []
        for error in sorted(found, key=lambda e: list(map(str, e.absolute_path))):
            out.extend(_leaves(error, c.pointer))
        return _dedupe(out)


# --- files and references -------------------------------------------------------------------


def _load(path: Path) -> Any:
    return resources.load_json(path)


def _allowed(path: Path) -> bool:
    return path.suffix == ".json" and path.is_file()


def _retrieve(uri: str) -> Any:
    """Resolve a `$ref` to a local schema file; anything else is refused (no network)."""
    if not uri.startswith("file://"):
        raise ValueError(f"remote schema reference refused: {uri}")
    path = Path(uri[len("file://") :].split("#", 1)[0])
    if not _allowed(path):
        raise ValueError(f"schema reference to a missing file: {path}")
    return _load(path)


@functools.cache
def _detailed(schema: Path) -> Any:
    import jsonschema  # imported only when an event is invalid: it is slow to import
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    def retrieve(uri: str) -> Resource:
        return Resource.from_contents(_retrieve(uri), default_specification=DRAFT202012)

    contents = dict(_load(schema))
    contents.setdefault("$id", schema.as_uri())
    cls = jsonschema.validators.validator_for(contents, default=jsonschema.Draft202012Validator)
    return cls(contents, registry=Registry(retrieve=retrieve), format_checker=cls.FORMAT_CHECKER)


def _user_schemas(folder: Path) -> dict[str, Path]:
    """`--schemas DIR`: `<type or name>.json` files, or a `vevents-schemas.json` mapping."""
    folder = folder.resolve()
    mapping = folder / "vevents-schemas.json"
    if mapping.is_file():
        names = orjson.loads(mapping.read_bytes())
        return {name: (folder / rel).resolve() for name, rel in names.items()}
    return {p.name[: -len(".json")]: p for p in sorted(folder.glob("*.json"))}


# --- error reports --------------------------------------------------------------------------


def pointer(prefix: str, parts: Iterable[Any]) -> str:
    tokens = (str(p).replace("~", "~0").replace("/", "~1") for p in parts)
    return prefix + "".join("/" + t for t in tokens)


def _leaves(error: Any, prefix: str) -> Iterator[SchemaError]:
    """An error, or for anyOf/oneOf the errors of the branch that came closest."""
    if error.validator in ("anyOf", "oneOf") and error.context:
        branch = _best_branch(error)
        if branch:
            for sub in branch:
                yield from _leaves(sub, prefix)
            return
    yield _convert(error, prefix)


def _best_branch(error: Any) -> list[Any]:
    branches: dict[int, list[Any]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)

    def badness(errs: list[Any]) -> tuple[int, int, int]:
        # A branch whose only complaint is the instance's type is the wrong branch, not a
        # near miss; otherwise fewer and deeper errors mean closer.
        type_only = all(e.validator == "type" and not e.relative_path for e in errs)
        depth = max(len(e.relative_path) for e in errs)
        return (1 if type_only else 0, len(errs), -depth)

    if error.validator == "oneOf" and len(branches) < len(error.validator_value):
        return []  # several branches matched: the oneOf error itself is the news
    return min(branches.values(), key=badness) if branches else []


def _short(value: Any) -> str:
    text = orjson.dumps(value).decode() if not isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _convert(error: Any, prefix: str) -> SchemaError:
    keyword = str(error.validator)
    path = pointer(prefix, error.absolute_path)
    value = error.validator_value
    if keyword == "required":
        missing = error.message.split("'")[1] if error.message.count("'") >= 2 else "?"
        return SchemaError(pointer(path, [missing]), "required member is missing", keyword)
    if keyword == "type":
        wanted = value if isinstance(value, str) else " or ".join(value)
        return SchemaError(path, f"expected {wanted}, got {_json_type(error.instance)}", keyword)
    if keyword == "enum":
        options = ", ".join(_short(v) for v in value[:8]) + (", ..." if len(value) > 8 else "")
        return SchemaError(path, f"{_short(error.instance)} is not one of {options}", keyword)
    if keyword == "const":
        return SchemaError(path, f"expected {_short(value)}, got {_short(error.instance)}", keyword)
    if keyword == "format":
        return SchemaError(path, f"{_short(error.instance)} is not a valid {value}", keyword)
    if keyword == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        at = pointer(path, [extra[0]]) if len(extra) == 1 else path
        return SchemaError(at, "unexpected member(s): " + ", ".join(extra), keyword)
    if keyword == "oneOf":
        return SchemaError(path, "matches more than one of the allowed shapes (oneOf)", keyword)
    message = error.message
    return SchemaError(path, message if len(message) <= 120 else message[:117] + "...", keyword)


def _dedupe(errors: list[SchemaError]) -> list[SchemaError]:
    seen: set[SchemaError] = set()
    out = []
    for e in errors:
        if e not in seen:
            seen.add(e)
            out.append(e)
    return out
