"""Checking: an event's envelope and data against the schemas that apply, and its verdict.

Which schemas apply is worked out once per kind of event (dialect, type, custom name) as a
`Plan`, through tables only (the catalogue entry's own file, the dialect's envelope file and
level, the user's `--schemas` listing): a name from a payload never becomes a path. Each
schema is compiled once per process (the bundled ones for the types met only), by
jsonschema-rs, which says valid or not. Legacy data is checked against `legacy` (default
without `required`) unless `--strict`, through the default level's validator first: whatever
it accepts, `legacy` accepts (tests/test_levels.py), so the legacy one is compiled only
for an event the default level refuses.

Data sharing no member with its type's schema is an error (`type-agreement`); data that
only looks like another type (a guess from its members) is a warning, an error only with
`--strict`. For an invalid event the errors are walked once (`messages`), and only when
something reads the verdict's `errors`: `validate -q`, `stats` and `show --format json`
never pay for it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from vevents_cli import resources
from vevents_cli.model import Event, SchemaError, Verdict
from vevents_cli.pipeline import schemas
from vevents_cli.pipeline.messages import dedupe, leaves, short, unknown_type
from vevents_cli.pipeline.schemas import DEFAULT, STRICT
from vevents_cli.signals import uninterrupted
from vevents_cli.voucherify import catalogue
from vevents_cli.voucherify.dialects import DIALECTS, Dialect

with uninterrupted():  # a signal inside the Rust extension's own imports would crash it: held until it is loaded
    import jsonschema_rs


class Validates(Protocol):
    def is_valid(self, instance: Any) -> bool: ...


@dataclass(frozen=True, slots=True)
class Plan:
    """What applies to every event of one kind (dialect, type, custom name): worked out once."""

    envelope: Path | None
    envelope_fast: jsonschema_rs.Validator | None
    data: Path | None
    data_fast: Validates | None
    # The default level's validator of a relaxed level's data schema, tried first: what it
    # accepts, `data` accepts (see `_make_plan`).
    data_default_level: jsonschema_rs.Validator | None
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


# The bundled schemas' validators, compiled once per process and kept for its life: they never
# change, and freeing them at the end of a run costs as much as compiling them.
_BUNDLED: dict[Path, jsonschema_rs.Validator] = {}


class _LazyValidator:
    """The validator of a schema file, compiled on its first use."""

    __slots__ = ("_path", "_schemas")

    def __init__(self, schemas: SchemaSet, path: Path) -> None:
        self._schemas, self._path = schemas, path

    def is_valid(self, instance: Any) -> bool:
        return self._schemas.validator(self._path).is_valid(instance)


class SchemaSet:
    """The schemas of one run: bundled level plus the user's own (`--schemas DIR`)."""

    def __init__(self, strict: bool = False, user_dir: Path | None = None) -> None:
        self.strict = strict
        self.user_dir = user_dir
        self.root = resources.schemas_dir()
        self._validators: dict[Path, jsonschema_rs.Validator] = _BUNDLED if user_dir is None else {}
        self._plans: dict[tuple[Any, ...], Plan] = {}
        self.user = schemas.user_schemas(user_dir) if user_dir else {}
        for path in self.user.values():  # check and compile now: a broken schema is a usage error
            self._validators[path] = schemas.compile_user_schema(path)

    # -- which schemas apply: worked out once per kind of event ---------------------------

    def level_dir(self, dialect: Dialect) -> Path:
        return self.root / (STRICT if self.strict else dialect.level)

    def envelope(self, dialect: Dialect) -> Path | None:
        if dialect.envelope_file is None:
            return None
        return self.root / (STRICT if self.strict else DEFAULT) / dialect.envelope_file

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
        if entry is not None and schema_file is not None and not (dialect.related_data and event.related is None):
            path = self.level_dir(dialect) / schema_file
            # A relaxed level (legacy: the default level without `required`, every member
            # nullable) accepts whatever the default level accepts, so the default validator,
            # already compiled for v2024 events of the type, decides most events; the relaxed one
            # is compiled only for an event the default level refuses (tests/test_levels.py).
            default = (
                None if self.strict or dialect.level == DEFAULT else self.validator(self.root / DEFAULT / schema_file)
            )
            return self._compiled(dialect, envelope, path, None, (), resources.shapes().get(entry.name), default)
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
            error = SchemaError(dialect.type_pointer, unknown_type(event.type), "enum")
            if not dialect.envelope:
                return None, (error,)
            if dialect.envelope_lists_types:  # the envelope's own type enum reports it
                return None, ()
            return f"unknown event type {short(event.type, 80)}: envelope checked", ((error,) if strict else ())
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
        default: jsonschema_rs.Validator | None = None,
    ) -> Plan:
        data_fast: Validates | None = None
        if data is not None:
            data_fast = _LazyValidator(self, data) if default is not None else self.validator(data)
        return Plan(
            envelope,
            self.validator(envelope) if envelope else None,
            data,
            data_fast,
            default,
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
        data_fast = plan.data_fast
        note = plan.note
        errors: list[SchemaError] = []
        warnings: list[SchemaError] = []
        if plan.members is not None and isinstance(data, dict) and data:
            if plan.custom_payloads and plan.members.isdisjoint(data):
                data_fast, note = None, "custom payload, envelope checked"
            else:
                mismatch, guess = _disagreement(event, plan.members)
                errors.extend(mismatch)
                (errors if self.strict else warnings).extend(guess)
        if data is None and plan.data_pointer == "/data" and "data" not in event.payload:
            data_fast = None  # no data at all (`{"type": ...}` alone): the envelope says it is missing
        envelope_ok = plan.envelope_fast is None or plan.envelope_fast.is_valid(event.payload)
        data_ok = (
            data_fast is None
            or (plan.data_default_level is not None and plan.data_default_level.is_valid(data))
            or data_fast.is_valid(data)
        )
        if envelope_ok and data_ok and not plan.errors and not errors:
            if note is plan.note and not warnings:
                return plan.valid  # the common case: one verdict shared by every valid event of this kind
            return Verdict(True, note=note, warnings=tuple(warnings))
        failed = []
        if not envelope_ok and plan.envelope is not None:
            failed.append(Check(plan.envelope, event.payload, ""))
        if not data_ok and plan.data is not None:
            failed.append(Check(plan.data, data, plan.data_pointer))
        explain = None
        if failed:
            unknown = event.type if event.entry is None else None
            explain = functools.partial(self.explain_all, tuple(failed), unknown, DIALECTS[event.dialect].type_pointer)
        return Verdict(False, plan.errors + tuple(errors), note, tuple(warnings), explain)

    def validator(self, schema: Path) -> jsonschema_rs.Validator:
        """The compiled validator of a schema file (compiled once, on first use)."""
        validator = self._validators.get(schema)
        if validator is None:
            validator = self._validators[schema] = schemas.compile_schema(schema)
        return validator

    def explain_all(
        self, failed: tuple[Check, ...], unknown_type_name: str | None, type_pointer: str
    ) -> tuple[SchemaError, ...]:
        """Every error of the failing checks; an unknown type in an envelope's enum named as such."""
        out: list[SchemaError] = []
        for c in failed:
            for error in self.explain(c):
                if unknown_type_name is not None and error.validator == "enum" and error.path == type_pointer:
                    error = SchemaError(error.path, unknown_type(unknown_type_name), "enum")
                out.append(error)
        return tuple(dedupe(out))

    def explain(self, c: Check) -> list[SchemaError]:
        """Every error of one failing check, each at its pointer inside the event (one walk)."""
        try:
            found = list(self.validator(c.schema).iter_errors(c.instance))
        except (RecursionError, ValueError) as exc:  # jsonschema-rs: ValueError("Recursion limit reached")
            if isinstance(exc, ValueError) and "Recursion limit" not in str(exc):
                raise
            return [SchemaError(c.pointer, "nesting too deep to validate", "depth")]
        out: list[SchemaError] = []
        for error in sorted(found, key=lambda e: list(map(str, e.instance_path))):
            out.extend(leaves(error, c.pointer))
        return dedupe(out)


def _disagreement(event: Event, members: frozenset[str]) -> tuple[list[SchemaError], list[SchemaError]]:
    """(errors, warnings): whether the data agrees with its event type.

    Data with none of the members its type's schema declares is not that type: an error.
    Data with members its schema does not declare, whose members fit exactly one other type
    better, only looks like that type: the schemas accept unknown members and Voucherify
    adds members over time, so this guess is a warning (an error only with --strict).
    """
    data, at = event.data, DIALECTS[event.dialect].data_pointer
    if members.isdisjoint(data):
        itself = _resource_member(event, data)
        none = f"data has none of the members of a {event.type} event"
        message = _itself(itself, at) if itself is not None else none
        return [SchemaError(at, message, "type-agreement")], []
    unknown = data.keys() - members
    if unknown:
        fits = catalogue.types_fitting(data)
        if len(fits) == 1 and fits[0] != event.type:
            message = f"data looks like {fits[0]}, not {event.type} (unexpected: {', '.join(sorted(unknown))})"
            return [], [SchemaError(at, message, "type-agreement")]
        itself = _resource_member(event, data)
        if itself is not None and not isinstance(data.get(itself), dict):
            return [], [SchemaError(at, _itself(itself, at), "type-agreement")]
    return [], []


def _itself(member: str, at: str) -> str:
    where = (at[1:].replace("/", ".") or "data") + "." + member
    return f"data looks like the {member} itself; Voucherify sends it as {where}"


def _resource_member(event: Event, data: dict[str, Any]) -> str | None:
    """The member of the type's data (`campaign` of `{campaign: {...}}`) whose own schema
    declares most of `data`'s members (at least half of them): data that is the resource itself
    instead of the event data holding it. None when no member's schema fits."""
    entry = event.entry
    if entry is None or entry.schema_file is None:
        return None
    best, best_count = None, 0
    for member, declared in _member_properties(entry.schema_file).items():
        count = len(declared.intersection(data))
        if count > best_count and 2 * count >= len(data):
            best, best_count = member, count
    return best


@functools.cache
def _member_properties(schema_file: str) -> dict[str, frozenset[str]]:
    """Each top-level member of a bundled data schema, with the members its own schema declares
    (through `$ref`, `allOf`, `anyOf` and `oneOf`, in the default level's definitions)."""
    root = resources.schemas_dir() / DEFAULT
    definitions: dict[str, Any] = resources.load_json(root / "defs.json").get("$defs", {})
    schema = resources.load_json(root / schema_file)

    def declared(node: Any, seen: frozenset[str]) -> dict[str, Any]:
        if not isinstance(node, dict):
            return {}
        found: dict[str, Any] = dict(node.get("properties") or {})
        ref = node.get("$ref")
        if isinstance(ref, str) and "#/$defs/" in ref:
            name = ref.rsplit("/", 1)[-1]
            if name not in seen:
                found.update(declared(definitions.get(name), seen | {name}))
        for key in ("allOf", "anyOf", "oneOf"):
            for branch in node.get(key) or ():
                found.update(declared(branch, seen))
        return found

    return {
        member: frozenset(declared(sub, frozenset()))
        for member, sub in declared(schema, frozenset()).items()
        if declared(sub, frozenset())
    }
