"""Error wording: a jsonschema-rs error as the `SchemaError` a person reads.

Each error is reported at its RFC 6901 pointer inside the event. For an anyOf/oneOf, the
errors of the branch that came closest are reported, not the whole tree; where every branch
rejects a value by enum or const, the message lists every value the branches allow. Enum
messages list every allowed value up to a dozen, else the closest few; an unknown event type
names the catalogue's closest types. Values from the payload are shortened, their quotes
always closed. Pure functions, run only when a verdict's errors are read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import orjson

from vevents_cli import jsonout
from vevents_cli.model import SchemaError
from vevents_cli.output.text import shorten
from vevents_cli.voucherify import catalogue

ENUM_LISTED = 12  # enum errors list every allowed value up to this many, else the closest few
ENUM_CLOSEST = 5

Choices = dict[tuple[Any, ...], list[Any]]  # instance path -> every value the branches allow there


def pointer(prefix: str, parts: Iterable[Any]) -> str:
    """`prefix` extended by `parts`, each escaped as RFC 6901 asks."""
    tokens = (str(p).replace("~", "~0").replace("/", "~1") for p in parts)
    return prefix + "".join("/" + t for t in tokens)


def _error_kind(error: Any) -> str:
    """The name of a jsonschema-rs error's kind: `Required`, `Type`, `AnyOf`..."""
    return type(error.kind).__name__


def leaves(error: Any, prefix: str, choices: Choices | None = None) -> Iterator[SchemaError]:
    """An error, or for anyOf/oneOf the errors of the branch that came closest."""
    if _error_kind(error) in ("AnyOf", "OneOfNotValid"):
        branch = _best_branch(error)
        if branch:
            shared = _shared_choices(error)
            for sub in branch:
                yield from leaves(sub, prefix, shared)
            return
    yield _convert(error, prefix, choices)


def _shared_choices(error: Any) -> Choices:
    """Where every branch of an anyOf/oneOf rejects the value by enum or const (a member that
    tells the branches apart, e.g. a discount's `type`), all the values the branches allow."""
    found: list[Choices] = []
    for branch in error.kind.context:
        here: Choices = {}
        for sub in branch:
            name = _error_kind(sub)
            if name in ("Enum", "Constant"):
                options = list(sub.kind.options) if name == "Enum" else [sub.kind.expected_value]
                here.setdefault(tuple(sub.instance_path), []).extend(options)
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
        type_only = all(_error_kind(e) == "Type" and len(e.instance_path) == base for e in errs)
        depth = max(len(e.instance_path) - base for e in errs)
        return (1 if type_only else 0, len(errs), -depth)

    branches = [list(b) for b in error.kind.context if b]
    return min(branches, key=badness) if branches else []


def short(value: Any, width: int = 40) -> str:
    """A value from the payload, short, its quotes always closed."""
    if isinstance(value, str):
        return repr(shorten(value, width))
    return shorten(jsonout.dumps(value).decode(), width)


def _literal(value: Any) -> str:
    """A value the schema allows, in full."""
    return repr(value) if isinstance(value, str) else jsonout.dumps(value).decode()


def _names(values: Sequence[str]) -> str:
    return ", ".join(values[:-1]) + " or " + values[-1] if len(values) > 1 else values[0]


def enum_message(instance: Any, options: Sequence[Any]) -> str:
    """`'X' is not one of 'A', 'B'`: every allowed value up to a dozen, else the closest few."""
    if len(options) <= ENUM_LISTED:
        return f"{short(instance)} is not one of " + ", ".join(map(_literal, options))
    texts = {(o if isinstance(o, str) else jsonout.dumps(o).decode()): o for o in options}
    word = instance if isinstance(instance, str) else jsonout.dumps(instance).decode()
    import difflib  # (only to word an error)

    closest = difflib.get_close_matches(word, list(texts), n=ENUM_CLOSEST, cutoff=0.0)
    shown = ", ".join(_literal(texts[t]) for t in closest)
    return f"{short(instance)} is not one of {shown}, … {len(options) - len(closest)} more"


def unknown_type(name: str) -> str:
    """`unknown event type 'x'`, with the catalogue's closest names."""
    import difflib

    close = difflib.get_close_matches(name, list(catalogue.CATALOGUE), n=3)
    hint = f"; did you mean {_names([repr(c) for c in close])}?" if close else ""
    return f"unknown event type {short(name, 80)}{hint}"


def _convert(error: Any, prefix: str, choices: Choices | None = None) -> SchemaError:
    """One jsonschema-rs error as a SchemaError at its pointer inside the event."""
    kind = error.kind
    name = _error_kind(error)
    keyword = str(kind.name)
    path = pointer(prefix, error.instance_path)
    instance = error.instance
    allowed = choices.get(tuple(error.instance_path)) if choices else None
    if allowed is not None and name in ("Enum", "Constant"):  # every value the anyOf/oneOf allows there
        return SchemaError(path, enum_message(instance, allowed), "enum")
    if name == "Required":
        return SchemaError(pointer(path, [kind.property]), "required member is missing", keyword)
    if name == "Type":
        types = kind.types if isinstance(kind.types, list) else [kind.types]
        wanted = " or ".join(sorted(map(str, types), key=lambda t: t == "null"))  # null last
        return SchemaError(path, f"expected {wanted}, got {jsonout.json_type(instance)}", keyword)
    if name == "Enum":
        return SchemaError(path, enum_message(instance, list(kind.options)), keyword)
    if name == "Constant":
        return SchemaError(path, f"expected {_literal(kind.expected_value)}, got {short(instance)}", keyword)
    if name == "Format":
        return SchemaError(path, f"{short(instance)} is not a valid {kind.format}", keyword)
    if name == "AdditionalProperties":
        extra = sorted(map(str, kind.unexpected))
        at = pointer(path, [extra[0]]) if len(extra) == 1 else path
        return SchemaError(at, "unexpected member(s): " + ", ".join(extra), keyword)
    if name == "OneOfMultipleValid":
        return SchemaError(path, "matches more than one of the allowed shapes (oneOf)", keyword)
    message = str(error.message)  # jsonschema-rs's own: it starts with the whole instance
    whole = orjson.dumps(instance).decode()
    if len(whole) > 40 and message.startswith(whole):
        message = short(instance) + message[len(whole) :]
    return SchemaError(path, shorten(message, 160), keyword)


def dedupe(errors: Iterable[SchemaError]) -> list[SchemaError]:
    """`errors` in order, each once."""
    seen: set[SchemaError] = set()
    out = []
    for e in errors:
        if e not in seen:
            seen.add(e)
            out.append(e)
    return out
