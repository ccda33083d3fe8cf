"""Validate: check an event's envelope and data against the bundled JSON Schemas.

Two levels ship in `schemas/`: `default` (what Voucherify really sends) and `strict` (the
vendor spec literally); legacy payloads are checked against `legacy` (default without
`required`) unless `--strict`. A fast yes/no check (jsonschema-rs, compiled only for the
types met) runs on every event; the detailed report (python-jsonschema, for RFC 6901
pointers, failing keywords and best-matching anyOf/oneOf branches) only on invalid ones.
Schema references resolve to local files only: never the network. Which schema applies
is found through tables only (the catalogue entry's own file name, the dialects table's
envelope and level, the user's `--schemas` listing): a name from a payload never becomes
a path.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson

from vevents_cli import resources
from vevents_cli.model import Event, SchemaError, Verdict
from vevents_cli.voucherify import catalogue
from vevents_cli.voucherify.dialects import DIALECTS, Dialect

DEFAULT, STRICT = "default", "strict"


@dataclass(frozen=True, slots=True)
class Plan:
    """What applies to every event of one kind (dialect, type, custom name): worked out once."""

    envelope: Path | None
    envelope_fast: Any
    data: Path | None
    data_fast: Any
    note: str | None
    errors: tuple[SchemaError, ...]
    members: frozenset[str] | None  # the data schema's top-level members, for agreement checks


@dataclass(frozen=True, slots=True)
class Check:
    """One schema applied to one part of the event."""

    schema: Path
    instance: Any
    pointer: str  # where `instance` sits inside the event


class SchemaProblem(Exception):
    """A schema of the user's (`--schemas`) that cannot be used."""


class SchemaSet:
    """The schemas of one run: bundled level plus the user's own (`--schemas DIR`)."""

    def __init__(self, strict: bool = False, user_dir: Path | None = None) -> None:
        self.strict = strict
        self.user_dir = user_dir
        self.root = resources.schemas_dir()
        self._fast: dict[Path, Any] = {}
        self._plans: dict[tuple[Any, ...], Plan] = {}
        self.user = _user_schemas(user_dir) if user_dir else {}
        for _name, path in self.user.items():  # compile now: a broken schema is a usage error
            try:
                self.fast(path)
            except Exception as exc:  # jsonschema-rs and orjson raise several kinds
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                reason = reason[reason.find("ValueError: ") + 12:] if "ValueError: " in reason else reason
                raise SchemaProblem(f"{path.name}: {reason}") from exc

    # -- which schemas apply: worked out once per kind of event ---------------------------

    def level_dir(self, dialect: Dialect) -> Path:
        return self.root / (STRICT if self.strict else dialect.level)

    def envelope(self, dialect: Dialect) -> Path | None:
        if not dialect.envelope:
            return None
        return self.root / (STRICT if self.strict else DEFAULT) / "envelope" / f"{dialect.name}.json"

    def plan(self, event: Event) -> Plan:
        key = (event.dialect, event.type, event.name, event.related is None, event.candidates)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = self._make_plan(event)
        return plan

    def _make_plan(self, event: Event) -> Plan:
        dialect = DIALECTS[event.dialect]
        envelope = self.envelope(dialect)
        user = next((self.user[n] for n in (event.name, event.type) if n and n in self.user), None)
        if user is not None:
            return self._compiled(envelope, user, None, ())
        entry = event.entry
        schema_file = entry.schema_file if entry is not None else None
        if schema_file is not None and not (dialect.related_data and event.related is None):
            path = self.level_dir(dialect) / schema_file
            return self._compiled(envelope, path, None, (), resources.shapes().get(entry.name))  # type: ignore[union-attr]
        note, errors = self._why_no_data_schema(event, dialect)
        return self._compiled(envelope, None, note, errors)

    def _why_no_data_schema(self, event: Event, dialect: Dialect) -> tuple[str | None, tuple[SchemaError, ...]]:
        """A note saying what was checked instead, and whether that is an error at this level."""
        strict = self.strict
        if event.type is None:
            if not dialect.envelope:
                hint = (" (candidates: " + ", ".join(event.candidates) + ")") if event.candidates else ""
                return None, (SchemaError("", f"cannot tell the event type{hint}; pass --as TYPE", "type"),)
            if dialect.related_data:
                error = SchemaError(dialect.type_pointer, f"{event.name!r} is not a standard event type", "enum")
                return "envelope only: custom webhook name with no related standard event", (
                    (error,) if strict else ())
            return None, ()  # the envelope's own schema reports the missing type
        if event.entry is None:
            unknown = f"unknown event type {_short(event.type)}"
            if not dialect.envelope:
                return None, (SchemaError("", unknown, "enum"),)
            if dialect.envelope_lists_types:  # the envelope's own type enum reports it
                return None, ()
            error = SchemaError(dialect.type_pointer, unknown, "enum")
            return f"{unknown}: envelope checked", ((error,) if strict else ())
        if dialect.related_data and event.related is None:
            return "envelope only: legacy data.object is the resource itself, not v2024 event data", ()
        return f"no schema for {event.type}: envelope checked", ()

    def _compiled(self, envelope: Path | None, data: Path | None, note: str | None,
                  errors: tuple[SchemaError, ...], shape: dict[str, list[str]] | None = None) -> Plan:
        return Plan(envelope, self.fast(envelope) if envelope else None, data, self.fast(data) if data else None,
                    note, errors, frozenset(shape["properties"]) if shape else None)

    # -- running them ---------------------------------------------------------------------

    def check(self, event: Event) -> Verdict:
        plan = self.plan(event)
        errors = list(plan.errors)
        note = plan.note
        check_data = plan.data_fast is not None
        data = event.data
        if plan.members is not None and isinstance(data, dict) and data:
            if DIALECTS[event.dialect].custom_payloads and plan.members.isdisjoint(data):
                check_data, note = False, "custom payload, envelope checked"
            else:
                errors.extend(_disagreement(event, plan.members))
        failed = []
        if plan.envelope_fast is not None and not plan.envelope_fast.is_valid(event.payload):
            failed.append(Check(plan.envelope, event.payload, ""))  # type: ignore[arg-type]
        if check_data and not plan.data_fast.is_valid(data):
            failed.append(Check(plan.data, data, DIALECTS[event.dialect].data_pointer))  # type: ignore[arg-type]
        if not failed and not errors:
            return Verdict(True, note=note)
        for c in failed:
            errors.extend(self.explain(c))
        if not errors:  # the detailed validator disagreed with the fast one: trust the fast one
            errors.append(SchemaError("", "invalid (no detail available)", "schema"))
        return Verdict(False, tuple(errors), note)

    def fast(self, schema: Path) -> Any:
        """The compiled yes/no validator of a schema file (compiled once, on first use)."""
        validator = self._fast.get(schema)
        if validator is None:
            validator = jsonschema_rs.validator_for(
                _load(schema), validate_formats=True, registry=_registry(schema.parent.parent),
                base_uri=schema.as_uri(),
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


def _disagreement(event: Event, members: frozenset[str]) -> list[SchemaError]:
    """The data does not look like its event type. The schemas accept unknown members, so
    only the members given can tell a payload sent under the wrong type."""
    data, at = event.data, DIALECTS[event.dialect].data_pointer
    if members.isdisjoint(data):
        return [SchemaError(at, f"data has none of the members of a {event.type} event", "type-agreement")]
    unknown = data.keys() - members
    if unknown:
        fits = catalogue.types_fitting(data)
        if len(fits) == 1 and fits[0] != event.type:
            message = f"data looks like {fits[0]}, not {event.type} (unexpected: {', '.join(sorted(unknown))})"
            return [SchemaError(at, message, "type-agreement")]
    return []


# --- files and references -------------------------------------------------------------------


def _load(path: Path) -> Any:
    return resources.load_json(path)


def _allowed(path: Path) -> bool:
    return path.suffix == ".json" and path.is_file()


def _retrieve(uri: str) -> Any:
    """Resolve a `$ref` to a local schema file; anything else is refused (no network)."""
    bundled = resources.schema_for_id(uri)  # a bundled file, by its `$id`
    if bundled is not None:
        return _load(bundled)
    if not uri.startswith("file://"):
        raise ValueError(f"remote schema reference refused: {uri}")
    path = Path(uri[len("file://") :].split("#", 1)[0])
    if not _allowed(path):
        raise ValueError(f"schema reference to a missing file: {path}")
    return _load(path)


@functools.cache
def _registry(level: Path) -> Any:
    """The shared definitions of one schema level, registered once for every validator of it.

    Other references (a user's own schema files) go through `_retrieve`: local files only.
    """
    defs = level / "defs.json"
    resources = [(defs.as_uri(), _load(defs))] if defs.is_file() else []
    return jsonschema_rs.Registry(resources, retriever=_retrieve)


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
        try:
            names = orjson.loads(mapping.read_bytes())
        except orjson.JSONDecodeError as exc:
            raise SchemaProblem(f"{mapping}: {exc}") from exc
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
