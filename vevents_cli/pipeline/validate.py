"""Validate: check an event's envelope and data against the bundled JSON Schemas.

Two levels ship in `schemas/`: `default` (what Voucherify really sends) and `strict` (the
vendor spec literally); legacy payloads are checked against `legacy` (default without
`required`) unless `--strict` -- through the default level's validator first, as whatever it
accepts, `legacy` accepts (tests/test_levels.py): the legacy one is compiled only when needed.
One engine per event: jsonschema-rs (each schema compiled once per process, only for the
types met) says valid or not, and for an invalid event walks its errors once (RFC 6901
pointers, failing keywords, the best-matching branch of an anyOf/oneOf) -- only when
something reads the verdict's `errors`: `validate -q`, `stats` and `show --format json`
never pay for it. python-jsonschema is imported only to check the user's own schemas
(`--schemas DIR`) against their metaschema at start.

Data sharing no member with its type's schema is an error (`type-agreement`); data that
only looks like another type (a guess from its members) is a warning, an error only with
`--strict`. Schema references resolve to local files only: never the network. Which
schema applies is found through tables only (the catalogue entry's own file name, the
dialects table's envelope and level, the user's `--schemas` listing): a name from a
payload never becomes a path.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson

from vevents_cli import jsonout, resources
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
    data_first: Any  # a stricter validator tried first: what it accepts, `data` accepts (see `_make_plan`)
    note: str | None
    errors: tuple[SchemaError, ...]
    members: frozenset[str] | None  # the data schema's top-level members, for agreement checks
    custom_payloads: bool  # the dialect's (see `Dialect`)
    data_pointer: str  # the dialect's
    valid: Verdict  # the verdict of every valid event of this kind with nothing more to say


@dataclass(frozen=True, slots=True)
class Check:
    """One schema applied to one part of the event."""

    schema: Path
    instance: Any
    pointer: str  # where `instance` sits inside the event


MAPPING_FILE = "vevents-schemas.json"

# The bundled schemas' validators, compiled once per process and kept for its life: they never
# change, and freeing them at the end of a run costs as much as compiling them.
_BUNDLED: dict[Path, Any] = {}


class _Later:
    """The validator of a schema file, compiled on its first use."""

    __slots__ = ("_path", "_schemas")

    def __init__(self, schemas: SchemaSet, path: Path) -> None:
        self._schemas, self._path = schemas, path

    def is_valid(self, instance: Any) -> bool:
        return bool(self._schemas.fast(self._path).is_valid(instance))


class SchemaProblem(Exception):
    """A schema of the user's (`--schemas`) that cannot be used."""


class SchemaSet:
    """The schemas of one run: bundled level plus the user's own (`--schemas DIR`)."""

    def __init__(self, strict: bool = False, user_dir: Path | None = None) -> None:
        self.strict = strict
        self.user_dir = user_dir
        self.root = resources.schemas_dir()
        self._fast: dict[Path, Any] = _BUNDLED if user_dir is None else {}
        self._plans: dict[tuple[Any, ...], Plan] = {}
        self.user = _user_schemas(user_dir) if user_dir else {}
        for _name, path in self.user.items():  # check and compile now: a broken schema is a usage error
            _check_schema(path)
            try:
                self.fast(path)
            except Exception as exc:  # jsonschema-rs and orjson raise several kinds
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                reason = reason[reason.find("ValueError: ") + 12 :] if "ValueError: " in reason else reason
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
            return self._compiled(dialect, envelope, user, None, ())
        entry = event.entry
        schema_file = entry.schema_file if entry is not None else None
        if schema_file is not None and not (dialect.related_data and event.related is None):
            path = self.level_dir(dialect) / schema_file
            # A relaxed level (legacy: the default level without `required`, every member
            # nullable) accepts whatever the default level accepts, so the default validator,
            # already compiled for v2024 events of the type, decides most events; the relaxed one
            # is compiled only for an event the default level refuses (tests/test_levels.py).
            first = None if self.strict or dialect.level == DEFAULT else self.fast(self.root / DEFAULT / schema_file)
            return self._compiled(dialect, envelope, path, None, (), resources.shapes().get(entry.name), first)  # type: ignore[union-attr]
        note, errors = self._why_no_data_schema(event, dialect)
        return self._compiled(dialect, envelope, None, note, errors)

    def _why_no_data_schema(self, event: Event, dialect: Dialect) -> tuple[str | None, tuple[SchemaError, ...]]:
        """A note saying what was checked instead, and whether that is an error at this level."""
        strict = self.strict
        if event.type is None:
            if not dialect.envelope:
                hint = (" (candidates: " + ", ".join(event.candidates) + ")") if event.candidates else ""
                return None, (SchemaError("", f"cannot tell the event type{hint}; pass --as TYPE", "type"),)
            if dialect.related_data:
                error = SchemaError(dialect.type_pointer, f"{event.name!r} is not a standard event type", "enum")
                return "envelope only: custom webhook name with no related standard event", ((error,) if strict else ())
            return None, ()  # the envelope's own schema reports the missing type
        if event.entry is None:
            error = SchemaError(dialect.type_pointer, _unknown_type(event.type), "enum")
            if not dialect.envelope:
                return None, (error,)
            if dialect.envelope_lists_types:  # the envelope's own type enum reports it
                return None, ()
            return f"unknown event type {_short(event.type, 80)}: envelope checked", ((error,) if strict else ())
        if dialect.related_data and event.related is None:
            return "envelope only: legacy data.object is the resource itself, not v2024 event data", ()
        return f"no schema for {event.type}: envelope checked", ()

    def _compiled(
        self,
        dialect: Dialect,
        envelope: Path | None,
        data: Path | None,
        note: str | None,
        errors: tuple[SchemaError, ...],
        shape: dict[str, list[str]] | None = None,
        first: Any = None,
    ) -> Plan:
        data_fast = None if data is None else _Later(self, data) if first is not None else self.fast(data)
        return Plan(
            envelope,
            self.fast(envelope) if envelope else None,
            data,
            data_fast,
            first,
            note,
            errors,
            frozenset(shape["properties"]) if shape else None,
            dialect.custom_payloads,
            dialect.data_pointer,
            Verdict(True, note=note),
        )

    # -- running them ---------------------------------------------------------------------

    def check(self, event: Event) -> Verdict:
        plan = self.plan(event)
        data = event.data
        check_data = plan.data_fast is not None
        note = plan.note
        errors: list[SchemaError] = []
        warnings: list[SchemaError] = []
        if plan.members is not None and isinstance(data, dict) and data:
            if plan.custom_payloads and plan.members.isdisjoint(data):
                check_data, note = False, "custom payload, envelope checked"
            else:
                mismatch, guess = _disagreement(event, plan.members)
                errors.extend(mismatch)
                (errors if self.strict else warnings).extend(guess)
        envelope_ok = plan.envelope_fast is None or plan.envelope_fast.is_valid(event.payload)
        data_ok = (
            not check_data
            or (plan.data_first is not None and plan.data_first.is_valid(data))
            or plan.data_fast.is_valid(data)
        )
        if envelope_ok and data_ok and not plan.errors and not errors:
            if note is plan.note and not warnings:
                return plan.valid  # the common case: one verdict shared by every valid event of this kind
            return Verdict(True, note=note, warnings=tuple(warnings))
        failed = []
        if not envelope_ok:
            failed.append(Check(plan.envelope, event.payload, ""))  # type: ignore[arg-type]
        if not data_ok:
            failed.append(Check(plan.data, data, plan.data_pointer))  # type: ignore[arg-type]
        explain = None
        if failed:
            unknown = event.type if event.entry is None else None
            explain = functools.partial(self.explain_all, tuple(failed), unknown, DIALECTS[event.dialect].type_pointer)
        return Verdict(False, plan.errors + tuple(errors), note, tuple(warnings), explain)

    def fast(self, schema: Path) -> Any:
        """The compiled validator of a schema file (compiled once, on first use)."""
        validator = self._fast.get(schema)
        if validator is None:
            validator = jsonschema_rs.validator_for(
                _load(schema),
                validate_formats=True,
                registry=_registry(schema.parent.parent),
                base_uri=schema.as_uri(),
            )
            self._fast[schema] = validator
        return validator

    def explain_all(
        self, failed: tuple[Check, ...], unknown_type: str | None, type_pointer: str
    ) -> tuple[SchemaError, ...]:
        """Every error of the failing checks; an unknown type in an envelope's enum named as such."""
        out: list[SchemaError] = []
        for c in failed:
            for error in self.explain(c):
                if unknown_type is not None and error.validator == "enum" and error.path == type_pointer:
                    error = SchemaError(error.path, _unknown_type(unknown_type), "enum")
                out.append(error)
        return tuple(_dedupe(out))

    def explain(self, c: Check) -> list[SchemaError]:
        """Every error of one failing check, each at its pointer inside the event (one walk)."""
        try:
            found = list(self.fast(c.schema).iter_errors(c.instance))
        except (RecursionError, ValueError) as exc:  # jsonschema-rs: ValueError("Recursion limit reached")
            if isinstance(exc, ValueError) and "Recursion limit" not in str(exc):
                raise
            return [SchemaError(c.pointer, "nesting too deep to validate", "depth")]
        out: list[SchemaError] = []
        for error in sorted(found, key=lambda e: list(map(str, e.instance_path))):
            out.extend(_leaves(error, c.pointer))
        return _dedupe(out)


def _disagreement(event: Event, members: frozenset[str]) -> tuple[list[SchemaError], list[SchemaError]]:
    """(errors, warnings): whether the data agrees with its event type.

    Data with none of the members its type's schema declares is not that type: an error.
    Data with members its schema does not declare, whose members fit exactly one other type
    better, only looks like that type: the schemas accept unknown members and Voucherify
    adds members over time, so this guess is a warning (an error only with --strict).
    """
    data, at = event.data, DIALECTS[event.dialect].data_pointer
    if members.isdisjoint(data):
        return [SchemaError(at, f"data has none of the members of a {event.type} event", "type-agreement")], []
    unknown = data.keys() - members
    if unknown:
        fits = catalogue.types_fitting(data)
        if len(fits) == 1 and fits[0] != event.type:
            message = f"data looks like {fits[0]}, not {event.type} (unexpected: {', '.join(sorted(unknown))})"
            return [], [SchemaError(at, message, "type-agreement")]
    return [], []


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


def _read_json(path: Path, label: str) -> Any:
    """A user's JSON file (schema or mapping); one that cannot be read or parsed is a `SchemaProblem`."""
    try:
        return orjson.loads(path.read_bytes())
    except OSError as exc:
        raise SchemaProblem(f"{label}: cannot read: {exc.strerror or exc}") from exc
    except orjson.JSONDecodeError as exc:
        raise SchemaProblem(f"{label}: not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from exc


def _check_schema(path: Path) -> None:
    """A user's schema must be JSON and valid against its metaschema (python-jsonschema's job)."""
    schema = _read_json(path, path.name)
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError as InvalidSchema
    from jsonschema.validators import validator_for

    cls = validator_for(schema, default=Draft202012Validator) if isinstance(schema, dict) else Draft202012Validator
    try:
        cls.check_schema(schema)
    except InvalidSchema as exc:
        where = pointer("", exc.path) or "/"
        raise SchemaProblem(f"{path.name}: {where}: {_shorten(exc.message, 160)}") from exc


def _user_schemas(folder: Path) -> dict[str, Path]:
    """`--schemas DIR`: `<type or name>.json` files, or a `vevents-schemas.json` mapping
    (`{"name": "file.json"}`, files relative to DIR). A mapping that is not that is a `SchemaProblem`."""
    folder = folder.resolve()
    mapping = folder / MAPPING_FILE
    if not mapping.is_file():
        return {p.name[: -len(".json")]: p for p in sorted(folder.glob("*.json"))}
    names = _read_json(mapping, MAPPING_FILE)
    if not isinstance(names, dict):
        raise SchemaProblem(
            f'{MAPPING_FILE}: must be an object mapping names to schema files ({{"name": '
            f'"file.json"}}), found JSON {_json_type(names)}'
        )
    found: dict[str, Path] = {}
    for name, rel in names.items():
        if not isinstance(rel, str) or not rel or "\x00" in rel:
            shown = f"JSON {_json_type(rel)}" if not isinstance(rel, str) else "an empty or invalid file name"
            raise SchemaProblem(f"{MAPPING_FILE}: {name!r} must name a schema file (a string), found {shown}")
        path = (folder / rel).resolve()
        try:
            is_file = path.is_file()
        except OSError:  # a name too long for the system...
            is_file = False
        if not is_file:
            raise SchemaProblem(f"{MAPPING_FILE}: {name!r} names {rel!r}, which is not a file in {folder}")
        found[name] = path
    return found


# --- error reports --------------------------------------------------------------------------


def pointer(prefix: str, parts: Iterable[Any]) -> str:
    tokens = (str(p).replace("~", "~0").replace("/", "~1") for p in parts)
    return prefix + "".join("/" + t for t in tokens)


ENUM_LISTED = 12  # enum errors list every allowed value up to this many, else the closest few
ENUM_CLOSEST = 5


def _kind(error: Any) -> str:
    return type(error.kind).__name__


Choices = dict[tuple[Any, ...], list[Any]]  # instance path -> every value the branches allow there


def _leaves(error: Any, prefix: str, choices: Choices | None = None) -> Iterator[SchemaError]:
    """An error, or for anyOf/oneOf the errors of the branch that came closest."""
    if _kind(error) in ("AnyOf", "OneOfNotValid"):
        branch = _best_branch(error)
        if branch:
            shared = _shared_choices(error)
            for sub in branch:
                yield from _leaves(sub, prefix, shared)
            return
    yield _convert(error, prefix, choices)


def _shared_choices(error: Any) -> Choices:
    """Where every branch of an anyOf/oneOf rejects the value by enum or const (a member that
    tells the branches apart, e.g. a discount's `type`), all the values the branches allow."""
    found: list[dict[tuple[Any, ...], list[Any]]] = []
    for branch in error.kind.context:
        here: dict[tuple[Any, ...], list[Any]] = {}
        for sub in branch:
            name = _kind(sub)
            if name in ("Enum", "Constant"):
                values = list(sub.kind.options) if name == "Enum" else [sub.kind.expected_value]
                here.setdefault(tuple(sub.instance_path), []).extend(values)
        found.append(here)
    if len(found) < 2:
        return {}
    shared: Choices = {}
    for path in set(found[0]).intersection(*found[1:]):
        values: list[Any] = []
        for here in found:
            values.extend(v for v in here[path] if v not in values)
        shared[path] = values
    return shared


def _best_branch(error: Any) -> list[Any]:
    """The errors of the anyOf/oneOf branch that came closest to matching.

    A branch whose only complaint is the instance's own type is the wrong branch, not a
    near miss; otherwise fewer and deeper errors mean closer.
    """
    base = len(error.instance_path)

    def badness(errs: list[Any]) -> tuple[int, int, int]:
        type_only = all(_kind(e) == "Type" and len(e.instance_path) == base for e in errs)
        depth = max(len(e.instance_path) - base for e in errs)
        return (1 if type_only else 0, len(errs), -depth)

    branches = [list(b) for b in error.kind.context if b]
    return min(branches, key=badness) if branches else []


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _short(value: Any, width: int = 40) -> str:
    """A value from the payload, short, its quotes always closed."""
    if isinstance(value, str):
        return repr(_shorten(value, width))
    return _shorten(jsonout.dumps(value).decode(), width)


def _literal(value: Any) -> str:
    """A value the schema allows, in full."""
    return repr(value) if isinstance(value, str) else jsonout.dumps(value).decode()


def _names(values: Sequence[str]) -> str:
    return ", ".join(values[:-1]) + " or " + values[-1] if len(values) > 1 else values[0]


def _enum_message(instance: Any, options: Sequence[Any]) -> str:
    """`'X' is not one of 'A', 'B'`: every allowed value up to a dozen, else the closest few."""
    if len(options) <= ENUM_LISTED:
        return f"{_short(instance)} is not one of " + ", ".join(map(_literal, options))
    texts = {(o if isinstance(o, str) else jsonout.dumps(o).decode()): o for o in options}
    word = instance if isinstance(instance, str) else jsonout.dumps(instance).decode()
    closest = difflib.get_close_matches(word, list(texts), n=ENUM_CLOSEST, cutoff=0.0)
    shown = ", ".join(_literal(texts[t]) for t in closest)
    return f"{_short(instance)} is not one of {shown}, … {len(options) - len(closest)} more"


def _unknown_type(name: str) -> str:
    """`unknown event type 'x'`, with the catalogue's closest names."""
    close = difflib.get_close_matches(name, list(catalogue.CATALOGUE), n=3)
    hint = f"; did you mean {_names([repr(c) for c in close])}?" if close else ""
    return f"unknown event type {_short(name, 80)}{hint}"


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


def _convert(error: Any, prefix: str, choices: Choices | None = None) -> SchemaError:
    """One jsonschema-rs error as a SchemaError at its pointer inside the event."""
    kind = error.kind
    name = _kind(error)
    keyword = str(kind.name)
    path = pointer(prefix, error.instance_path)
    instance = error.instance
    allowed = choices.get(tuple(error.instance_path)) if choices else None
    if allowed is not None and name in ("Enum", "Constant"):  # every value the anyOf/oneOf allows there
        return SchemaError(path, _enum_message(instance, allowed), "enum")
    if name == "Required":
        return SchemaError(pointer(path, [kind.property]), "required member is missing", keyword)
    if name == "Type":
        types = kind.types if isinstance(kind.types, list) else [kind.types]
        wanted = " or ".join(sorted(map(str, types), key=lambda t: t == "null"))  # null last
        return SchemaError(path, f"expected {wanted}, got {_json_type(instance)}", keyword)
    if name == "Enum":
        return SchemaError(path, _enum_message(instance, list(kind.options)), keyword)
    if name == "Constant":
        return SchemaError(path, f"expected {_literal(kind.expected_value)}, got {_short(instance)}", keyword)
    if name == "Format":
        return SchemaError(path, f"{_short(instance)} is not a valid {kind.format}", keyword)
    if name == "AdditionalProperties":
        extra = sorted(map(str, kind.unexpected))
        at = pointer(path, [extra[0]]) if len(extra) == 1 else path
        return SchemaError(at, "unexpected member(s): " + ", ".join(extra), keyword)
    if name == "OneOfMultipleValid":
        return SchemaError(path, "matches more than one of the allowed shapes (oneOf)", keyword)
    message = str(error.message)  # jsonschema-rs's own: it starts with the whole instance
    whole = orjson.dumps(instance).decode()
    if len(whole) > 40 and message.startswith(whole):
        message = _short(instance) + message[len(whole) :]
    return SchemaError(path, _shorten(message, 160), keyword)


def _dedupe(errors: list[SchemaError]) -> list[SchemaError]:
    seen: set[SchemaError] = set()
    out = []
    for e in errors:
        if e not in seen:
            seen.add(e)
            out.append(e)
    return out
